/**
 * Signing keys, simple-signing payloads, verification configs and their
 * evaluation, without a registry (tests/e2e/signing.test.ts has the registry).
 * Every signature we make is also checked by node:crypto directly and by openssl.
 */
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { annotationMismatch, evaluate, parseSimpleSigning, type SignatureLayer, signatureTag, simpleSigningPayload } from "../../src/toolchain/signatures.js";
import { KeyError, loadSigningKey, loadVerificationKey, needsPassphrase, signMessage, verifyMessage } from "../../src/toolchain/signing-keys.js";
import { parseVerificationConfig, type VerificationConfig, VerificationConfigError, verificationConfigYaml } from "../../src/toolchain/verification-config.js";
import { cosignKey, type KeyKind, makeKey, nodeVerifies, opensslVerifies, type TestKey } from "../support/keys.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const OTHER = `sha256:${"cd".repeat(32)}`;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("simple signing payloads", () => {
  it("are cosign's bytes: critical in cosign's key order, optional sorted, or null", () => {
    expect(text(simpleSigningPayload("ghcr.io/acme/policies/p", DIGEST))).toBe(
      `{"critical":{"identity":{"docker-reference":"ghcr.io/acme/policies/p"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":null}`,
    );
    expect(text(simpleSigningPayload("h/r", DIGEST, { stable: "true", env: "prod" }))).toBe(
      `{"critical":{"identity":{"docker-reference":"h/r"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":{"env":"prod","stable":"true"}}`,
    );
  });

  it("round-trip through the parser, and the tag is sha256-<hex>.sig", () => {
    const parsed = parseSimpleSigning(simpleSigningPayload("h/r", DIGEST, { env: "prod" }));
    expect(parsed).toEqual({ dockerReference: "h/r", manifestDigest: DIGEST, type: "cosign container image signature", optional: { env: "prod" } });
    expect(signatureTag(DIGEST)).toBe(`sha256-${"ab".repeat(32)}.sig`);
    expect(() => signatureTag("sha256:short")).toThrow(/not a sha256 digest/);
  });

  // What sigstore-rs's SimpleSigning refuses to deserialize (the layer is then ignored).
  const bad: [string, string][] = [
    ["not json", "not UTF-8 JSON"],
    ["[]", "not a JSON object"],
    ['{"optional":null}', "no critical object"],
    ['{"critical":{"identity":{},"image":{"docker-manifest-digest":"x"},"type":"t"}}', "docker-reference"],
    ['{"critical":{"identity":{"docker-reference":"r"},"image":{},"type":"t"}}', "docker-manifest-digest"],
    ['{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"x"}}}', "critical.type"],
    ['{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"x"},"type":"t"},"optional":[1]}', "neither an object nor null"],
    ['{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"x"},"type":"t"},"optional":{"creator":1}}', "creator is not a string"],
    ['{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"x"},"type":"t"},"optional":{"timestamp":"now"}}', "timestamp is not a whole number"],
  ];
  it.each(bad)("refuses %s", (payload, message) => {
    expect(() => parseSimpleSigning(new TextEncoder().encode(payload))).toThrow(message);
  });

  // sigstore-rs Optional::satisfies_annotations.
  const matching: [Record<string, unknown> | null, Record<string, string>, string | null][] = [
    [null, {}, null],
    [null, { env: "prod" }, "carries no annotations"],
    [{}, { env: "prod" }, "carries no annotations"],
    [{ creator: "me" }, { env: "prod" }, "carries no annotations"],
    [{ env: "prod", x: "1" }, { env: "prod" }, null],
    [{ env: "dev" }, { env: "prod" }, 'annotation env is "dev", wanted "prod"'],
    [{ env: "prod" }, { env: "prod", tier: "1" }, "annotation tier is missing"],
    [{ stable: true }, { stable: "true" }, null],
    [{ n: 42 }, { n: "42" }, null],
    [{ n: 1.5 }, { n: "1.5" }, "not a string, boolean or whole number"],
    [{ o: { a: 1 } }, { o: "x" }, "not a string, boolean or whole number"],
    [{ creator: "me", env: "prod" }, { creator: "me" }, "never matches it"],
  ];
  it.each(matching)("optional %j against %j", (optional, wanted, expected) => {
    const got = annotationMismatch(optional, wanted);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toContain(expected);
  });
});

describe("signing keys", () => {
  const kinds: KeyKind[] = ["P-256", "P-384", "RSA-2048", "Ed25519"];
  it.each(kinds)("%s: signs what node:crypto and openssl verify, and nothing else", (kind) => {
    const key = makeKey(kind);
    const signing = loadSigningKey(key.privatePem, "test.key");
    const payload = simpleSigningPayload("h/r", DIGEST, { env: "prod" });
    const signature = signMessage(signing, payload);
    expect(nodeVerifies(key, payload, signature)).toBe(true);
    const openssl = opensslVerifies(key.publicPem, kind, payload, signature);
    expect(openssl.output).toMatch(/Verified OK|Signature Verified Successfully/);
    expect(openssl.ok).toBe(true);
    const verification = loadVerificationKey(key.publicPem, "test.pub");
    expect(verification.fingerprint).toBe(signing.fingerprint);
    expect(verifyMessage(verification, payload, signature)).toBe(true);
    // One byte changed, another key, a mangled signature: refused by all three.
    const edited = simpleSigningPayload("h/r", OTHER, { env: "prod" });
    expect(verifyMessage(verification, edited, signature)).toBe(false);
    expect(nodeVerifies(key, edited, signature)).toBe(false);
    expect(opensslVerifies(key.publicPem, kind, edited, signature).ok).toBe(false);
    expect(verifyMessage(loadVerificationKey(makeKey(kind).publicPem, "other.pub"), payload, signature)).toBe(false);
    expect(verifyMessage(verification, payload, "not base64!")).toBe(false);
  });

  it("refuses keys Kubewarden cannot verify, saying which kinds it can", () => {
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey.export({ type: "pkcs8", format: "pem" });
    expect(() => loadSigningKey(String(k1), "k1.key")).toThrow(/curve secp256k1 cannot be verified by Kubewarden/);
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" });
    expect(() => loadSigningKey(String(small), "small.key")).toThrow(/1024 bits cannot be verified by every Kubewarden release \(2048 to 4096 bits can\)/);
    // sigstore-rs 0.13.0 (policy-server's) reads neither P-521 nor RSA over 4096 bits.
    expect(() => loadSigningKey(makeKey("P-521").privatePem, "p521.key")).toThrow(/curve secp521r1 cannot be verified by Kubewarden \(P-256 and P-384 can\)/);
    const large = generateKeyPairSync("rsa", { modulusLength: 4104 }).publicKey.export({ type: "spki", format: "pem" });
    expect(() => loadVerificationKey(String(large), "large.pub")).toThrow(/4104 bits/);
    const ed448 = generateKeyPairSync("ed448").publicKey.export({ type: "spki", format: "pem" });
    expect(() => loadVerificationKey(String(ed448), "ed448.pub")).toThrow(/ed448 key cannot be verified/);
    expect(() => loadSigningKey(makeKey().publicPem, "a.pub")).toThrow(/public key, not a private key/);
    expect(() => loadVerificationKey(makeKey().privatePem, "a.key")).toThrow(/not a PEM public key/);
    expect(() => loadSigningKey("hello", "x")).toThrow(/holds no PEM key/);
  });

  it("reads openssl's SEC1 PEM and passphrase-encrypted PKCS#8", () => {
    const key = makeKey();
    const sec1 = String(key.privateKey.export({ type: "sec1", format: "pem" }));
    expect(loadSigningKey(sec1, "sec1.key").kind).toBe("ECDSA P-256");
    const encrypted = String(key.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "correct horse" }));
    expect(needsPassphrase(encrypted)).toBe(true);
    expect(() => loadSigningKey(encrypted, "enc.key")).toThrow(/enc.key is encrypted: it needs its passphrase/);
    let message = "";
    try {
      loadSigningKey(encrypted, "enc.key", "wrong horse");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/cannot decrypt enc.key: wrong passphrase/);
    expect(message).not.toContain("wrong horse");
    expect(loadSigningKey(encrypted, "enc.key", "correct horse").fingerprint).toBe(loadVerificationKey(key.publicPem, "p").fingerprint);
  });

  it("reads cosign's encrypted cosign.key (scrypt + nacl/secretbox), both PEM labels, with an empty passphrase too", () => {
    const key = makeKey();
    for (const [label, passphrase] of [
      ["ENCRYPTED SIGSTORE PRIVATE KEY", "s3cret passphrase"],
      ["ENCRYPTED COSIGN PRIVATE KEY", ""],
    ] as const) {
      const pem = cosignKey(key, passphrase, label);
      expect(needsPassphrase(pem)).toBe(true);
      expect(() => loadSigningKey(pem, "cosign.key")).toThrow(/encrypted cosign key: it needs its passphrase/);
      const wrong = (() => {
        try {
          loadSigningKey(pem, "cosign.key", `${passphrase}x`);
          return "";
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(wrong).toMatch(/wrong passphrase/);
      if (passphrase) expect(wrong).not.toContain(passphrase);
      const loaded = loadSigningKey(pem, "cosign.key", passphrase);
      const payload = simpleSigningPayload("h/r", DIGEST);
      expect(nodeVerifies(key, payload, signMessage(loaded, payload))).toBe(true);
    }
  });

  it("refuses a cosign envelope with out-of-range scrypt work before running it", () => {
    const pem = cosignKey(makeKey(), "p").replace(/-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n([\s\S]*)\n-----END/, (_m, body: string) => {
      const envelope = JSON.parse(Buffer.from(body.replace(/\n/g, ""), "base64").toString());
      envelope.kdf.params.N = 2 ** 24;
      return `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(envelope)).toString("base64")}\n-----END`;
    });
    expect(() => loadSigningKey(pem, "cosign.key", "p")).toThrow(/scrypt parameters are out of range/);
  });
});

describe("verification configs (policy-fetcher config.rs)", () => {
  const pub = makeKey().publicPem;
  const indented = pub.trim().split("\n").join("\n      ");
  it("reads allOf and anyOf, pubKey / genericIssuer / githubAction, and normalises urlPrefix", () => {
    const config = parseVerificationConfig(`apiVersion: v1
allOf:
  - kind: pubKey
    owner: release
    key: |
      ${indented}
    annotations:
      env: prod
      stable: "true"
anyOf:
  minimumMatches: 2
  signatures:
    - kind: genericIssuer
      issuer: https://token.actions.githubusercontent.com
      subject:
        urlPrefix: https://github.com/acme
    - kind: githubAction
      owner: acme
      repo: policies
    - kind: genericIssuer
      issuer: https://accounts.example.org
      subject:
        equal: release@example.org
`);
    expect(config.allOf).toEqual([{ kind: "pubKey", owner: "release", key: `${pub.trim()}\n`, annotations: { env: "prod", stable: "true" } }]);
    expect(config.anyOf?.minimumMatches).toBe(2);
    expect(config.anyOf?.signatures[0]).toEqual({ kind: "genericIssuer", issuer: "https://token.actions.githubusercontent.com", subject: { urlPrefix: "https://github.com/acme/" } });
    expect(config.anyOf?.signatures[1]).toEqual({ kind: "githubAction", owner: "acme", repo: "policies" });
    // minimumMatches defaults to 1 (serde default).
    expect(parseVerificationConfig("apiVersion: v1\nanyOf:\n  signatures:\n    - kind: githubAction\n      owner: acme\n").anyOf?.minimumMatches).toBe(1);
  });

  const refused: [string, string, RegExp][] = [
    ["unknown top-level field", "apiVersion: v1\nallof: []\n", /unknown field `allof`/],
    ["unknown entry field", "apiVersion: v1\nallOf:\n  - kind: githubAction\n    owner: a\n    branch: main\n", /allOf\[0\]: unknown field `branch`/],
    ["unsupported apiVersion", "apiVersion: v2\nallOf: []\n", /not a supported configuration version/],
    ["no signatures at all", "apiVersion: v1\n", /lists no signatures/],
    ["an unquoted boolean annotation", "apiVersion: v1\nallOf:\n  - kind: githubAction\n    owner: a\n    annotations:\n      stable: true\n", /annotation `stable` must be a string \(quote it/],
    ["genericIssuer without subject", "apiVersion: v1\nallOf:\n  - kind: genericIssuer\n    issuer: https://x\n", /missing field `subject`/],
    ["pubKey without key", "apiVersion: v1\nallOf:\n  - kind: pubKey\n", /missing field `key`/],
    ["an unknown kind", "apiVersion: v1\nallOf:\n  - kind: certificate\n", /unknown kind "certificate"/],
    ["a subject that is not a URL", "apiVersion: v1\nallOf:\n  - kind: genericIssuer\n    issuer: i\n    subject:\n      urlPrefix: not a url\n", /urlPrefix is not a URL/],
    ["an empty allOf (accepts everything)", "apiVersion: v1\nallOf: []\n", /accepts every module/],
    ["minimumMatches 0 (accepts everything)", "apiVersion: v1\nanyOf:\n  minimumMatches: 0\n  signatures:\n    - kind: githubAction\n      owner: a\n", /accepts every module/],
    ["minimumMatches above the list", "apiVersion: v1\nanyOf:\n  minimumMatches: 3\n  signatures:\n    - kind: githubAction\n      owner: a\n", /no module could ever pass/],
    ["duplicate keys", "apiVersion: v1\nallOf: []\nallOf: []\n", /not valid YAML/],
    ["not YAML", "apiVersion: [\n", /not valid YAML/],
  ];
  it.each(refused)("refuses %s", (_name, yaml, message) => {
    expect(() => parseVerificationConfig(yaml)).toThrow(VerificationConfigError);
    expect(() => parseVerificationConfig(yaml)).toThrow(message);
  });

  it("writes configs it reads back unchanged, keys as block literals", () => {
    const config: VerificationConfig = { apiVersion: "v1", anyOf: { minimumMatches: 1, signatures: [{ kind: "pubKey", owner: "k", key: pub, annotations: { env: "prod" } }, { kind: "githubAction", owner: "acme" }] } };
    const yaml = verificationConfigYaml(config);
    expect(yaml).toContain("key: |\n");
    expect(yaml).not.toMatch(/[&*]a\d/);
    expect(parseVerificationConfig(yaml)).toEqual(config);
  });
});

describe("evaluating signatures against a config (policy-fetcher verify_signatures_against_config)", () => {
  const alice = makeKey();
  const bob = makeKey("P-384");
  const carol = makeKey("Ed25519");
  const layer = (index: number, key: TestKey, annotations: Record<string, string> = {}, extra: Partial<SignatureLayer> = {}): SignatureLayer => {
    const payload = simpleSigningPayload("h/r", DIGEST, annotations);
    return { index, digest: "sha256:x", payload, simpleSigning: parseSimpleSigning(payload), signature: signMessage(loadSigningKey(key.privatePem, "k"), payload), keyless: false, ...extra };
  };
  const pubKey = (key: TestKey, owner: string, annotations?: Record<string, string>) => ({ kind: "pubKey" as const, key: key.publicPem, owner, ...(annotations ? { annotations } : {}) });
  const layers = [layer(0, alice, { env: "prod" }), layer(1, bob)];

  it("allOf: every entry needs a layer its key verifies, with its annotations", () => {
    const ok = evaluate({ allOf: [pubKey(alice, "alice", { env: "prod" }), pubKey(bob, "bob")] }, layers);
    expect(ok.verified).toBe(true);
    expect(ok.outcomes.map((o) => [o.rule, o.satisfied, o.layers])).toEqual([
      ["allOf[0]", true, [0]],
      ["allOf[1]", true, [1]],
    ]);
    const wrongAnnotation = evaluate({ allOf: [pubKey(alice, "alice"), pubKey(bob, "bob", { env: "prod" })] }, layers);
    expect(wrongAnnotation.verified).toBe(false);
    expect(wrongAnnotation.failures).toEqual(["allOf: missing signatures: 1 of 2 not satisfied"]);
    expect(wrongAnnotation.outcomes[1]).toMatchObject({ rule: "allOf[1]", satisfied: false });
    expect(wrongAnnotation.outcomes[1]!.reason).toContain("but not with the annotations asked for (layer 1: the signature carries no annotations)");
    const unsigned = evaluate({ allOf: [pubKey(carol, "carol")] }, layers);
    expect(unsigned.outcomes[0]!.reason).toMatch(/no signature layer is signed by the Ed25519 key sha256:/);
  });

  it("anyOf: minimumMatches of the entries", () => {
    const config = (n: number): VerificationConfig => ({ anyOf: { minimumMatches: n, signatures: [pubKey(alice, "a"), pubKey(bob, "b"), pubKey(carol, "c")] } });
    expect(evaluate(config(2), layers).verified).toBe(true);
    const three = evaluate(config(3), layers);
    expect(three.verified).toBe(false);
    expect(three.failures).toEqual(["anyOf: minimum number of signatures not reached: needed 3, got 2"]);
    expect(three.outcomes.filter((o) => !o.satisfied).map((o) => o.rule)).toEqual(["anyOf.signatures[2]"]);
  });

  it("allOf and anyOf together must both hold", () => {
    const v = evaluate({ allOf: [pubKey(alice, "a")], anyOf: { minimumMatches: 1, signatures: [pubKey(carol, "c")] } }, layers);
    expect(v.verified).toBe(false);
    expect(v.failures).toEqual(["anyOf: minimum number of signatures not reached: needed 1, got 0"]);
  });

  it("keyless entries are never passed: reported as needing kwctl or cosign", () => {
    const keyless = [layer(2, carol, {}, { keyless: true })];
    const all = evaluate({ allOf: [pubKey(alice, "a"), { kind: "githubAction", owner: "acme" }] }, [...layers, ...keyless]);
    expect(all.verified).toBe(false);
    expect(all.keyless).toBe(1);
    expect(all.outcomes[1]!.reason).toMatch(/needs the Sigstore infrastructure.*kwctl verify.*cosign verify.*\(1 signature layer\(s\) carry a Fulcio certificate\)/);
    // In anyOf they count as not satisfied; the keys may still reach the quorum (as in policy-server).
    const any = evaluate({ anyOf: { minimumMatches: 1, signatures: [{ kind: "genericIssuer", issuer: "i", subject: { equal: "s" } }, pubKey(alice, "a")] } }, layers);
    expect(any.verified).toBe(true);
    expect(any.outcomes[0]!.satisfied).toBe(false);
  });

  it("an unreadable key in the config is an unsatisfied entry that says why", () => {
    const v = evaluate({ allOf: [{ kind: "pubKey", key: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" }] }, layers);
    expect(v.verified).toBe(false);
    expect(v.outcomes[0]!.reason).toMatch(/cannot read the key/);
  });
});

it("KeyError messages name files, never PEM content", () => {
  const key = makeKey();
  const body = key.privatePem.split("\n")[1]!;
  const broken = key.privatePem.replace(body, body.slice(0, 10));
  let error: unknown;
  try {
    loadSigningKey(broken, "broken.key");
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(KeyError);
  expect((error as Error).message).toContain("broken.key");
  expect((error as Error).message).not.toContain(body.slice(0, 10));
  expect(createPrivateKey(key.privatePem).asymmetricKeyType).toBe("ec");
});
