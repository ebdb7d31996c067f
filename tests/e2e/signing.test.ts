/**
 * sign → verify → pull/run/audit against a real distribution registry (https, the
 * test certificate trusted through NODE_EXTRA_CA_CERTS, as a user trusts a private
 * registry's CA). Every signature the CLI writes is also read back here without
 * our client (raw HTTP), its digests recomputed, its payload parsed, and checked by
 * node:crypto and by openssl. Then the registry is tampered with: each tampering
 * must be refused, saying which rule failed, and no module that fails is written,
 * cached or run.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OCI_MANIFEST_MEDIA_TYPE, pushModule, RegistryClient, parseReference, sha256 } from "../../src/toolchain/oci.js";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, signatureManifest, signatureTag } from "../../src/toolchain/signatures.js";
import { type CliResult, ROOT, runCli, TEST_WASM_DIR, wasmBytes, wasmPath } from "../helpers.js";
import { cosignKey, keyFiles, makeKey, nodeVerifies, opensslVerifies } from "../support/keys.js";
import { startRegistry, TLS_CERT, type TestRegistry } from "../support/registry.js";

const POLICY = "reject-loopback-probes";
const OTHER_POLICY = "rewrite-loopback-probes";
const PASSPHRASE = "correct horse battery staple";
const REQUEST = join(ROOT, "policies", POLICY, "test_data", "alertmanager-listenlocal-broken-defaulted.json");

const alice = makeKey();
const bob = makeKey();
const mallory = makeKey("P-384");
const keys = keyFiles({
  "alice.key": alice.privatePem,
  "alice.pub": alice.publicPem,
  "bob-cosign.key": cosignKey(bob, PASSPHRASE),
  "bob.pub": bob.publicPem,
  "mallory.pub": mallory.publicPem,
});
/** Lines of base64 key material that must never appear in any output. */
const SECRET_LINES = [...alice.privatePem.split("\n").slice(1, -2), ...readFileSync(keys.path("bob-cosign.key"), "utf8").split("\n").slice(1, -2)].filter((l) => l.length >= 40);

describe("signed releases against a real registry", () => {
  let registry: TestRegistry;
  let host: string;
  const temp: string[] = [];
  const outputs: CliResult[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    temp.push(dir);
    return dir;
  };
  let cache: string;
  let dockerConfig: string;
  const cli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}): CliResult => {
    const r = runCli(args, { ...(options.input !== undefined ? { input: options.input } : {}), env: { NODE_EXTRA_CA_CERTS: TLS_CERT, LOOPBACK_PROBES_CACHE: cache, DOCKER_CONFIG: dockerConfig, COSIGN_PASSWORD: undefined as unknown as string, ...options.env } });
    outputs.push(r);
    return r;
  };
  const ca = readFileSync(TLS_CERT);
  const client = (repository: string) => new RegistryClient(parseReference(`registry://${host}/${repository}:x`), { ca });
  /** GET without our client: status and body bytes. */
  const raw = (path: string, accept?: string): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = httpsGet(`https://${host}${path}`, { ca, headers: accept ? { accept } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
    });

  beforeAll(async () => {
    registry = await startRegistry(false, true);
    host = registry.host;
    cache = tempDir("lpp-sign-cache-");
    dockerConfig = tempDir("lpp-sign-docker-");
  });
  afterAll(async () => {
    await registry?.stop();
    for (const dir of temp) rmSync(dir, { recursive: true, force: true });
    keys.remove();
  });

  const push = (name: string, ref: string): string => {
    const r = cli(["push", wasmPath(name), ref]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return r.stdout.trim().slice(r.stdout.trim().indexOf("@") + 1);
  };

  it("signs with two keys (PKCS#8 and an encrypted cosign.key); every layer checks out without our code", async () => {
    const ref = `registry://${host}/policies/${POLICY}:v1`;
    const digest = push(POLICY, ref);
    const signedByAlice = cli(["sign", ref, "--key", keys.path("alice.key"), "-a", "env=prod", "-a", "team=platform"]);
    expect(signedByAlice.stderr).toMatch(/^signed registry:\/\/.+ with the ECDSA P-256 key sha256:[0-9a-f]{64} → registry:\/\/.+:sha256-[0-9a-f]{64}\.sig \(1 signature layer\)\n$/);
    expect(signedByAlice.code).toBe(0);
    expect(signedByAlice.stdout.trim()).toBe(`registry://${host}/policies/${POLICY}@${digest}`);

    // An encrypted key without its passphrase is refused before anything is pushed; then from the env and from stdin.
    const noPassphrase = cli(["sign", ref, "--key", keys.path("bob-cosign.key")], { env: { COSIGN_PASSWORD: undefined as unknown as string } });
    expect(noPassphrase.code).toBe(2);
    expect(noPassphrase.stderr).toContain("is encrypted: give its passphrase in $COSIGN_PASSWORD");
    const wrong = cli(["sign", ref, "--key", keys.path("bob-cosign.key")], { env: { COSIGN_PASSWORD: "wrong" } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("wrong passphrase");
    const byEnv = cli(["sign", ref, "--key", keys.path("bob-cosign.key"), "--passphrase-env", "RELEASE_KEY_PASSPHRASE"], { env: { RELEASE_KEY_PASSPHRASE: PASSPHRASE } });
    expect(byEnv.stderr).toContain("(2 signature layers)");
    expect(byEnv.code).toBe(0);
    // Bob again, passphrase on stdin: the same payload and key, so nothing is added.
    const again = cli(["sign", ref, "--key", keys.path("bob-cosign.key"), "--passphrase-stdin"], { input: `${PASSPHRASE}\n` });
    expect(again.stderr).toContain("already carries this signature");
    expect(again.code).toBe(0);

    // Independently: the tag's manifest, the signature manifest, each blob, each signature.
    const manifest = await raw(`/v2/policies/${POLICY}/manifests/v1`, OCI_MANIFEST_MEDIA_TYPE);
    expect(`sha256:${createHash("sha256").update(manifest.body).digest("hex")}`).toBe(digest);
    const sigManifest = await raw(`/v2/policies/${POLICY}/manifests/sha256-${digest.slice(7)}.sig`, OCI_MANIFEST_MEDIA_TYPE);
    expect(sigManifest.status).toBe(200);
    const signatures = JSON.parse(sigManifest.body.toString("utf8"));
    expect(signatures.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(signatures.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    expect(signatures.layers).toHaveLength(2);
    const signers = [
      { key: alice, optional: { env: "prod", team: "platform" } },
      { key: bob, optional: null },
    ];
    for (const [i, layer] of (signatures.layers as { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[]).entries()) {
      expect(layer.mediaType).toBe("application/vnd.dev.cosign.simplesigning.v1+json");
      const blob = await raw(`/v2/policies/${POLICY}/blobs/${layer.digest}`);
      expect(blob.body.length).toBe(layer.size);
      expect(`sha256:${createHash("sha256").update(blob.body).digest("hex")}`).toBe(layer.digest);
      const payload = JSON.parse(blob.body.toString("utf8"));
      expect(payload).toEqual({
        critical: { identity: { "docker-reference": `${host}/policies/${POLICY}` }, image: { "docker-manifest-digest": digest }, type: "cosign container image signature" },
        optional: signers[i]!.optional,
      });
      const signature = layer.annotations["dev.cosignproject.cosign/signature"]!;
      expect(nodeVerifies(signers[i]!.key, blob.body, signature)).toBe(true);
      const openssl = opensslVerifies(signers[i]!.key.publicPem, "P-256", blob.body, signature);
      expect(openssl.output).toBe("Verified OK");
      expect(nodeVerifies(signers[1 - i]!.key, blob.body, signature)).toBe(false);
    }

    // verify -k (kwctl: every -k in allOf, every -a on each).
    const both = cli(["verify", ref, "-k", keys.path("alice.pub"), "-k", keys.path("bob.pub")]);
    expect(both.stderr).toContain(`verified registry://${host}/policies/${POLICY}@${digest}`);
    expect(both.stderr).toMatch(/ok {5}allOf\[0\] \(pubKey owner=.*alice\.pub\): signed by the ECDSA P-256 key sha256:[0-9a-f]{16}… \(layer 0\)/);
    expect(both.stdout.trim()).toBe(`registry://${host}/policies/${POLICY}@${digest}`);
    expect(both.code).toBe(0);
    expect(cli(["verify", ref, "-k", keys.path("alice.pub"), "-a", "env=prod", "-a", "team=platform"]).code).toBe(0);
    const annotated = cli(["verify", ref, "-k", keys.path("alice.pub"), "-k", keys.path("bob.pub"), "-a", "env=prod"]);
    expect(annotated.code).toBe(1);
    expect(annotated.stdout).toBe("");
    expect(annotated.stderr).toContain("allOf: missing signatures: 1 of 2 not satisfied");
    expect(annotated.stderr).toMatch(/FAILED allOf\[1\] \(pubKey owner=.*bob\.pub\): signed by the ECDSA P-256 key .*but not with the annotations asked for \(layer 1: the signature carries no annotations\)/);
    const other = cli(["verify", ref, "-k", keys.path("mallory.pub")]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/FAILED allOf\[0\] .*no signature layer is signed by the ECDSA P-384 key/);

    // A Kubewarden verification config: scaffolded, and hand-written as Kubewarden's docs write one.
    const dir = tempDir("lpp-vc-");
    const scaffolded = cli(["scaffold", "verification-config", "-k", keys.path("alice.pub"), "-k", keys.path("bob.pub"), "--minimum-matches", "2", "-o", join(dir, "vc.yml")]);
    expect(scaffolded.code).toBe(0);
    expect(readFileSync(join(dir, "vc.yml"), "utf8")).toContain("anyOf:\n  minimumMatches: 2\n  signatures:\n    - kind: pubKey\n      owner: alice\n      key: |\n        -----BEGIN PUBLIC KEY-----");
    expect(cli(["verify", ref, "--verification-config-path", join(dir, "vc.yml")]).code).toBe(0);
    const indent = (pem: string) => pem.trim().split("\n").join("\n          ");
    writeFileSync(
      join(dir, "kubewarden.yml"),
      `---\napiVersion: v1\n\nallOf:\n  - kind: pubKey\n    owner: alice.pub\n    key: |\n          ${indent(alice.publicPem)}\n    annotations:\n      env: prod\n      team: platform\nanyOf:\n  minimumMatches: 1\n  signatures:\n    - kind: pubKey\n      owner: bob.pub\n      key: |\n          ${indent(bob.publicPem)}\n    - kind: githubAction\n      owner: loopback-probe-policies\n`,
    );
    const documented = cli(["verify", ref, "--verification-config-path", join(dir, "kubewarden.yml")]);
    expect(documented.stderr).toMatch(/FAILED anyOf\.signatures\[1\] \(githubAction owner=loopback-probe-policies\): keyless entry: checking it needs the Sigstore infrastructure/);
    expect(documented.code).toBe(0);
    const keylessOnly = join(dir, "keyless.yml");
    writeFileSync(keylessOnly, "apiVersion: v1\nallOf:\n  - kind: githubAction\n    owner: loopback-probe-policies\n");
    const keyless = cli(["verify", ref, "--verification-config-path", keylessOnly]);
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain("verify it with `kwctl verify` or `cosign verify`");
  });

  it("pull, run and audit -k use the verified digest; after the tag moves to an unsigned module they refuse it and write, cache or run nothing", async () => {
    const ref = `registry://${host}/moving/${POLICY}:v1`;
    const signed = push(POLICY, ref);
    expect(cli(["sign", ref, "--key", keys.path("alice.key")]).code).toBe(0);
    const dir = tempDir("lpp-pull-");

    const pulled = cli(["pull", ref, "-k", keys.path("alice.pub"), "-o", join(dir, "ok.wasm")]);
    expect(pulled.stderr).toContain(`pulled ${wasmBytes(POLICY).length} bytes (manifest ${signed}, signature verified)`);
    expect(pulled.code).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, "ok.wasm")), Buffer.from(wasmBytes(POLICY)))).toBe(0);
    const ran = cli(["run", ref, "-k", keys.path("alice.pub"), "-r", REQUEST, "--engine", "node"]);
    expect(ran.stderr).toContain(`verified registry://${host}/moving/${POLICY}@${signed}`);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ allowed: false });
    const audited = cli(["audit", "--policy", ref, "-k", keys.path("alice.pub"), "-f", "json", "--quiet", join(ROOT, "examples", "alertmanager-listenlocal-broken.yaml")]);
    expect(audited.stderr).toContain("verified");
    expect(audited.code).toBe(1); // findings

    // The tag now names another module nobody signed.
    const moved = push(OTHER_POLICY, ref);
    expect(moved).not.toBe(signed);
    const cachedBefore = readdirSync(join(cache, "oci", "blobs", "sha256")).sort();
    const verify = cli(["verify", ref, "-k", keys.path("alice.pub")]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`verification FAILED for registry://${host}/moving/${POLICY}@${moved}`);
    expect(verify.stderr).toContain(`no signatures: registry://${host}/moving/${POLICY}:sha256-${moved.slice(7)}.sig does not exist`);
    const pull = cli(["pull", ref, "-k", keys.path("alice.pub"), "-o", join(dir, "moved.wasm")]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain("FAILED allOf[0]");
    expect(existsSync(join(dir, "moved.wasm"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]); // no temp file left
    const run = cli(["run", ref, "-k", keys.path("alice.pub"), "-r", REQUEST, "--engine", "node"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("verification FAILED");
    const audit = cli(["audit", "--policy", ref, "-k", keys.path("alice.pub"), "--quiet", join(ROOT, "examples")]);
    expect(audit.code).toBe(2);
    expect(audit.stdout).toBe("");
    expect(audit.stderr).toContain("verification FAILED");
    expect(readdirSync(join(cache, "oci", "blobs", "sha256")).sort()).toEqual(cachedBefore);
    expect(cachedBefore).not.toContain(`${sha256(wasmBytes(OTHER_POLICY)).slice(7)}.wasm`);
    // Pinned to the digest that was signed, the module still verifies and loads.
    expect(cli(["pull", `registry://${host}/moving/${POLICY}@${signed}`, "-k", keys.path("alice.pub"), "-o", join(dir, "pinned.wasm")]).code).toBe(0);
    // Verification needs a registry reference.
    const local = cli(["run", wasmPath(POLICY), "-k", keys.path("alice.pub"), "-r", REQUEST]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("signature verification needs a registry:// reference");
  });

  it("refuses tampered signatures and says which rule failed", async () => {
    const ref = `registry://${host}/tamper/${POLICY}:v1`;
    const digest = push(POLICY, ref);
    expect(cli(["sign", ref, "--key", keys.path("alice.key"), "-a", "env=prod"]).code).toBe(0);
    const c = client(`tamper/${POLICY}`);
    const original = (await c.getManifest(signatureTag(digest))).bytes;
    const layer = JSON.parse(new TextDecoder().decode(original)).layers[0] as { mediaType: string; digest: string; size: number; annotations: Record<string, string> };
    const config = new TextEncoder().encode("{}");
    const verify = (...flags: string[]) => cli(["verify", ref, "-k", keys.path("alice.pub"), ...flags]);
    const rewrite = async (layers: unknown[]) => c.putManifest(signatureTag(digest), signatureManifest(layers, config));

    // 1. The payload edited (env=prod → env=dev), the signature kept.
    const payload = new TextDecoder().decode((await raw(`/v2/tamper/${POLICY}/blobs/${layer.digest}`)).body);
    const edited = new TextEncoder().encode(payload.replace('"env":"prod"', '"env":"dev"'));
    await c.pushBlob(edited);
    await rewrite([{ ...layer, digest: sha256(edited), size: edited.length }]);
    const editedResult = verify("-a", "env=dev");
    expect(editedResult.code).toBe(1);
    expect(editedResult.stderr).toMatch(/FAILED allOf\[0\] .*no signature layer is signed by the ECDSA P-256 key/);

    // 2. A layer of the wrong media type (the right bytes and signature otherwise).
    await rewrite([{ ...layer, mediaType: "application/octet-stream" }]);
    const mediaType = verify();
    expect(mediaType.code).toBe(1);
    expect(mediaType.stderr).toContain(`ignored signature layer 0: media type application/octet-stream, not ${SIMPLE_SIGNING_MEDIA_TYPE}`);

    // 3. No signature annotation.
    await rewrite([{ ...layer, annotations: {} }]);
    expect(verify().stderr).toContain(`ignored signature layer 0: no ${SIGNATURE_ANNOTATION} annotation`);

    // 4. A valid signature of another digest, copied under this digest's tag.
    await rewrite([layer]);
    expect(verify().code).toBe(0);
    const otherRef = `registry://${host}/tamper/${POLICY}:other`;
    const otherDigest = (await pushModule(wasmBytes(OTHER_POLICY), otherRef, { ca })).digest;
    await c.putManifest(signatureTag(otherDigest), original);
    const copied = cli(["verify", otherRef, "-k", keys.path("alice.pub")]);
    expect(copied.code).toBe(1);
    expect(copied.stderr).toContain(`ignored signature layer 0: it signs ${digest}, not ${otherDigest}`);

    // 5. The untouched signature, checked against another key.
    const wrongKey = cli(["verify", ref, "-k", keys.path("mallory.pub")]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/FAILED allOf\[0\] .*no signature layer is signed by the ECDSA P-384 key/);
  });

  it("publish --sign-key signs every policy it pushes", () => {
    const r = cli(["publish", `${host}/release`, "--dist", TEST_WASM_DIR, "--sign-key", keys.path("alice.key"), "-a", "release=v0"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const immutable = line.split(" → ")[1]!;
      const v = cli(["verify", immutable, "-k", keys.path("alice.pub"), "-a", "release=v0"]);
      expect(v.code).toBe(0);
    }
    expect(r.stderr.match(/^signed /gm)?.length).toBe(lines.length);
  });

  it("prints no key material and no passphrase, ever", () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const { stdout, stderr } of outputs) {
      const all = stdout + stderr;
      expect(all).not.toContain(PASSPHRASE);
      expect(all).not.toContain("PRIVATE KEY");
      for (const line of SECRET_LINES) expect(all).not.toContain(line);
    }
  });
});
