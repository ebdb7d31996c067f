/**
 * push → registry HTTP API → pull against a real distribution registry.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetadata } from "../../src/toolchain/metadata.js";
import { OCI_MANIFEST_MEDIA_TYPE, ociAnnotations, parseReference, pullModule, pushModule, sha256, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE } from "../../src/toolchain/oci.js";
import { pullToCache } from "../../src/toolchain/oci-files.js";
import { ROOT, runCli, wasmBytes, wasmPath } from "../helpers.js";
import { startRegistries, TEST_USER, type TestRegistry } from "../support/registry.js";

const POLICY = "reject-loopback-probes";
const cli = (args: string[], input?: string) => runCli(args, input === undefined ? {} : { input });

describe("OCI push and pull against a real registry", () => {
  let open: TestRegistry;
  let locked: TestRegistry;
  const temp: string[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    temp.push(dir);
    return dir;
  };
  beforeAll(async () => {
    // startRegistries stops the first registry itself when the second fails to start.
    [open, locked] = (await startRegistries(false, true)) as [TestRegistry, TestRegistry];
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), locked?.stop()]);
    for (const dir of temp) rmSync(dir, { recursive: true, force: true });
  });

  it("pushes a kwctl-compatible artifact and pulls back the identical module", async () => {
    const module = wasmBytes(POLICY);
    const r = cli(["push", wasmPath(POLICY), `registry://${open.host}/policies/${POLICY}:v0.1.0`, "--plain-http"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const immutable = r.stdout.trim();
    expect(immutable).toMatch(new RegExp(`^registry://${open.host}/policies/${POLICY}@sha256:[0-9a-f]{64}$`));

    // What the registry stores, through its HTTP API.
    const manifestResponse = await fetch(`http://${open.host}/v2/policies/${POLICY}/manifests/v0.1.0`, { headers: { accept: OCI_MANIFEST_MEDIA_TYPE } });
    expect(manifestResponse.headers.get("content-type")).toBe(OCI_MANIFEST_MEDIA_TYPE);
    const manifestBytes = new Uint8Array(await manifestResponse.arrayBuffer());
    expect(immutable.endsWith(sha256(manifestBytes))).toBe(true);
    const manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
    expect(manifest.mediaType).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(manifest.config).toEqual({ mediaType: WASM_CONFIG_MEDIA_TYPE, digest: sha256(new TextEncoder().encode("{}")), size: 2 });
    expect(manifest.layers).toEqual([{ mediaType: WASM_LAYER_MEDIA_TYPE, digest: sha256(module), size: module.length }]);
    const annotations = readMetadata(module)!.annotations;
    expect(manifest.annotations).toEqual(ociAnnotations(annotations));
    expect(manifest.annotations["io.kubewarden.policy.title"]).toBe(annotations["io.kubewarden.policy.title"]);
    expect(manifest.annotations["org.opencontainers.image.source"]).toBe(annotations["io.kubewarden.policy.source"]);
    expect(manifest.annotations).not.toHaveProperty("io.kubewarden.policy.usage"); // multi-line: left out
    const config = await fetch(`http://${open.host}/v2/policies/${POLICY}/blobs/${manifest.config.digest}`);
    expect(await config.text()).toBe("{}");

    // Pull by tag and by digest, byte-identical.
    const out = join(tempDir("lpp-pull-"), "pulled.wasm");
    expect(cli(["pull", `registry://${open.host}/policies/${POLICY}:v0.1.0`, "--plain-http", "-o", out]).code).toBe(0);
    expect(Buffer.compare(readFileSync(out), Buffer.from(module))).toBe(0);
    const byDigest = await pullModule(immutable, { plainHttp: true });
    expect(Buffer.compare(Buffer.from(byDigest.module), Buffer.from(module))).toBe(0);
  });

  it("pulls into the module cache and reuses it (the API behind --policy registry://…)", async () => {
    const module = wasmBytes(POLICY);
    const { digest } = await pushModule(module, `registry://${open.host}/cached/${POLICY}:v1`, { plainHttp: true });
    const cacheDir = tempDir("lpp-cache-");
    const first = await pullToCache(`registry://${open.host}/cached/${POLICY}:v1`, { plainHttp: true, cacheDir });
    expect(first).toMatchObject({ digest, layerDigest: sha256(module), reused: false });
    expect(Buffer.compare(readFileSync(first.path), Buffer.from(module))).toBe(0);
    expect(await pullToCache(`registry://${open.host}/cached/${POLICY}@${digest}`, { plainHttp: true, cacheDir })).toEqual({ ...first, reused: true });
  });

  it("publishes every policy as <name>:v<version>", async () => {
    const r = cli(["publish", `${open.host}/release`, "--plain-http", "--dist", join(ROOT, ".cache", "test-wasm")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const version = readMetadata(wasmBytes(POLICY))!.annotations["io.kubewarden.policy.version"];
    for (const name of ["reject-loopback-probes", "rewrite-loopback-probes"]) {
      expect(r.stdout).toContain(`registry://${open.host}/release/${name}:v${version} → registry://${open.host}/release/${name}@sha256:`);
      const pulled = await pullModule(`registry://${open.host}/release/${name}:v${version}`, { plainHttp: true });
      expect(Buffer.compare(Buffer.from(pulled.module), Buffer.from(wasmBytes(name)))).toBe(0);
    }
  });

  it("refuses an unannotated module", async () => {
    const bare = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    await expect(pushModule(bare, `registry://${open.host}/bare:v1`, { plainHttp: true })).rejects.toThrow(/not annotated/);
  });

  it("rejects a digest that does not match", async () => {
    await pushModule(wasmBytes(POLICY), `registry://${open.host}/again:v1`, { plainHttp: true });
    await expect(pullModule(`registry://${open.host}/again@sha256:${"0".repeat(64)}`, { plainHttp: true })).rejects.toThrow(/answered HTTP 404/);
  });

  it("authenticates with flags or the docker config file, and says so when it cannot", async () => {
    const dest = `registry://${locked.host}/secure/${POLICY}:v1`;
    const denied = cli(["push", wasmPath(POLICY), dest, "--plain-http"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("HTTP 401");
    expect(denied.stderr).toContain("check credentials");
    expect(cli(["push", wasmPath(POLICY), dest, "--plain-http", "-u", TEST_USER.username, "--password-stdin"], `${TEST_USER.password}\n`).code).toBe(0);
    const dockerConfig = tempDir("lpp-docker-");
    writeFileSync(join(dockerConfig, "config.json"), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString("base64") } } }));
    const out = join(dockerConfig, "m.wasm");
    const pulled = cli(["pull", dest, "--plain-http", "--docker-config", dockerConfig, "-o", out]);
    expect(pulled.stderr).toContain("pulled");
    expect(pulled.code).toBe(0);
    expect(Buffer.compare(readFileSync(out), Buffer.from(wasmBytes(POLICY)))).toBe(0);
  });

  it("parses references strictly", () => {
    expect(parseReference("registry://h:5000/a/b:v1")).toEqual({ registry: "h:5000", repository: "a/b", tag: "v1" });
    expect(() => parseReference("registry://h/UPPER:v1")).toThrow(/invalid repository/);
    expect(() => parseReference("registry://h")).toThrow(/expected registry/);
  });
});
