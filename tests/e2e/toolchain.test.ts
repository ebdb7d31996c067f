/**
 * The toolchain end to end: a test policy built by the real pipeline, run under
 * node:wasi and under wasmtime exactly as policy-server runs it (runRaw compares
 * the two engines on every evaluation).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/kubewarden/input-guard.js";
import { buildPolicy } from "../../src/toolchain/build.js";
import { parseMetadata, readMetadata, USAGE_ANNOTATION } from "../../src/toolchain/metadata.js";
import { annotate } from "../../src/toolchain/metadata.js";
import { loadPolicy, toAdmissionResponse } from "../../src/toolchain/evaluate.js";
import { customSections, exports, imports } from "../../src/toolchain/wasm-binary.js";
import { podRequest, ROOT, runCli, runRaw, TEST_WASM_DIR, testModuleNames, validateBoth, wasmBytes, wasmPath, watModule } from "../helpers.js";

const PROBE = "protocol-probe";
const PROBE_DIR = join(ROOT, "tests", "fixtures", "policies", PROBE);
const validate = (object: unknown, settings: unknown = {}) => runRaw(PROBE, "validate", JSON.stringify({ request: podRequest(object), settings }));
const pod = (name: string, spec: unknown = { containers: [] }) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec });

describe("built module shape", () => {
  const bytes = wasmBytes(PROBE);
  // Every module the setup builds, waited for while collecting (the setup may still be building some).
  const built = testModuleNames().map((name) => `${name}.wasm`);
  for (const file of built) wasmPath(file.slice(0, -".wasm".length));
  it("builds every policy and test policy", () => {
    expect(built).toEqual(expect.arrayContaining(["reject-loopback-probes.wasm", "rewrite-loopback-probes.wasm", `${PROBE}.wasm`, "floor-policy.wasm"]));
    expect(readdirSync(TEST_WASM_DIR).filter((f) => f.endsWith(".wasm")).sort()).toEqual([...built].sort());
  });
  it.each(built)("%s imports only wasi_snapshot_preview1 functions (+ the host call when context-aware) and exports only _start and memory", (file) => {
    const module = new Uint8Array(readFileSync(wasmPath(file.slice(0, -".wasm".length))));
    // Context-aware modules also import Kubewarden's host call: `kubewarden:javy/host` as
    // built, `host` once annotated like kwctl does; both are linked by policy-evaluator.
    const contextAware = (readMetadata(module)?.contextAwareResources.length ?? 0) > 0;
    const others = imports(module).filter((i) => i.module !== "wasi_snapshot_preview1");
    expect(new Set(imports(module).filter((i) => i.module === "wasi_snapshot_preview1").map((i) => i.kind))).toEqual(new Set(["func"]));
    if (contextAware) expect(others.map((i) => `${i.module === "host" ? "host" : i.module}.${i.name}/${i.kind}`)).toSatisfy((l: string[]) => l.length === 1 && ["host.call/func", "kubewarden:javy/host.call/func"].includes(l[0]!));
    else expect(others).toEqual([]);
    expect(exports(module).map((e) => e.name).sort()).toEqual(["_start", "memory"]);
    expect(WebAssembly.validate(module as Uint8Array<ArrayBuffer>)).toBe(true);
    expect(readMetadata(module)?.executionMode).toBe("wasi");
    // The engine's target_features section advertised features the module does not use.
    expect(customSections(module, "target_features")).toEqual([]);
  });
  it("carries metadata.yml and the README in the io.kubewarden.metadata section", () => {
    const expected = parseMetadata(readFileSync(join(PROBE_DIR, "metadata.yml"), "utf8"));
    const stored = readMetadata(bytes);
    expect(stored).not.toBeNull();
    const { [USAGE_ANNOTATION]: usage, ...annotations } = stored!.annotations;
    expect({ ...stored, annotations }).toEqual(expected);
    expect(usage).toBe(readFileSync(join(PROBE_DIR, "README.md"), "utf8"));
    expect(stored!.protocolVersion).toBe("Unknown");
    expect(stored!.executionMode).toBe("wasi");
  });
});

describe("the protocol through the built module", () => {
  it("accepts, with warnings", async () => {
    const r = await validate(pod("a"));
    expect(r.exitCode).toBe(0);
    expect(r.json).toEqual({ accepted: true, warnings: ["name=a", expect.stringMatching(/^bytes=\d+$/)] });
  });
  it("rejects with message and code, non-ASCII intact", async () => {
    const r = await validate(pod("ünï-名前"), { mode: "reject" });
    expect(r.json).toEqual({ accepted: false, message: "rejected ünï-名前 ✓", code: 403 });
  });
  it("mutates with mutated_object as a JSON object", async () => {
    const r = await validate(pod("m"), { mode: "mutate" });
    expect(r.json.accepted).toBe(true);
    expect(r.json.mutated_object).toEqual({ ...pod("m"), metadata: { name: "m", labels: { mutated: "yes" } } });
  });
  it("turns a throwing policy into one JSON rejection, exit 0", async () => {
    const r = await validate(pod("t"), { mode: "throw" });
    expect(r.exitCode).toBe(0);
    expect(r.json).toEqual({ accepted: false, message: "policy error: boom on t" });
  });
  it("validates settings", async () => {
    expect((await runRaw(PROBE, "validate-settings", '{"mode":"mutate"}')).json).toEqual({ valid: true });
    expect((await runRaw(PROBE, "validate-settings", '{"mode":"nope"}')).json).toEqual({
      valid: false,
      message: "mode: expected one of accept, reject, mutate, throw, random, recurse, allocate, spin",
    });
  });
  it("rejects validate with bad settings, naming them", async () => {
    const r = await validate(pod("a"), { colour: "red" });
    expect(r.json).toEqual({ accepted: false, message: "invalid settings: unknown setting(s): colour" });
  });
  it.each([
    ["empty stdin", "", "empty input"],
    ["not JSON", "{{{", "not valid JSON"],
    ["not an object", "[1,2]", "expected a JSON object"],
    ["no request", '{"settings":{}}', '"request" field is missing'],
  ])("answers %s with one JSON rejection", async (_label, stdin, message) => {
    const r = await runRaw(PROBE, "validate", stdin);
    expect(r.exitCode).toBe(0);
    expect(r.json.accepted).toBe(false);
    expect(String(r.json.message)).toContain(message);
  });
  it("handles a 2 MB request", async () => {
    const big = pod("big", { containers: [{ name: "c", image: "x", args: ["a".repeat(2 * 1024 * 1024)] }] });
    const r = await validate(big);
    expect(r.json.accepted).toBe(true);
    expect(Number(String((r.json.warnings as string[])[1]).slice(6))).toBeGreaterThan(2 * 1024 * 1024);
  });
  it("refuses nesting 10,000 levels deep without trapping, and accepts the deepest allowed", async () => {
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    const r = await runRaw(PROBE, "validate", `{"request":${JSON.stringify(podRequest(pod("d"))).slice(0, -1)},"x":${deep(10_000)}},"settings":{}}`);
    expect(r.exitCode).toBe(0);
    expect(r.json.accepted).toBe(false);
    expect(String(r.json.message)).toContain("nested too deeply");
    const ok = await validate({ ...pod("d"), deep: JSON.parse(deep(MAX_JSON_DEPTH - 4)) });
    expect(ok.json.accepted).toBe(true);
  });
  it("decodes invalid UTF-8 with replacement characters instead of failing", async () => {
    const head = new TextEncoder().encode(`{"request":{"uid":"u","operation":"CREATE","object":{"metadata":{"name":"`);
    const tail = new TextEncoder().encode(`"}}},"settings":{"mode":"reject"}}`);
    const bytes = new Uint8Array([...head, 0xff, 0xfe, 0x41, ...tail]);
    const r = await runRaw(PROBE, "validate", bytes);
    expect(r.json).toEqual({ accepted: false, message: "rejected \uFFFD\uFFFDA ✓", code: 403 });
  });
  it("turns runaway recursion into a catchable error, not a trap", async () => {
    const r = await validate(pod("r"), { mode: "recurse" });
    expect(r.trap).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.json.accepted).toBe(false);
    expect(String(r.json.message)).toMatch(/^policy error: .*(stack|recursion)/i);
  });
  it("turns exhausting the engine heap limit into a catchable error, not a trap", async () => {
    const r = await validate(pod("m"), { mode: "allocate" });
    expect(r.trap).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.json.accepted).toBe(false);
    expect(String(r.json.message)).toMatch(/^policy error: .*(out of memory|memory)/i);
  });
  it("reseeds Math.random on every run despite the snapshot", async () => {
    const seen = new Set<string>();
    // Random by design: the engines are compared with the number blanked out.
    const blank = (stdout: string) => stdout.replace(/"warnings":\["[^"]*"/, '"warnings":["<random>"');
    const stdin = JSON.stringify({ request: podRequest(pod("r")), settings: { mode: "random" } });
    for (let i = 0; i < 3; i++) seen.add(String(((await runRaw(PROBE, "validate", stdin, blank)).json.warnings as string[])[0]));
    expect(seen.size).toBe(3);
  });
  it("keeps concurrent evaluations apart", async () => {
    const names = Array.from({ length: 8 }, (_, i) => `p${i}`);
    const results = await Promise.all(names.map((n) => validate(pod(n), { mode: "reject" })));
    expect(results.map((r) => r.json.message)).toEqual(names.map((n) => `rejected ${n} ✓`));
  });
  it("logs to stderr only", async () => {
    const r = await validate(pod("a"));
    expect(r.text.trim().startsWith("{")).toBe(true);
    expect(r.text.trim().endsWith("}")).toBe(true);
  });
});

describe("limits under real wasmtime (Wizer runs the top level with wasmtime's default 512 KiB stack)", () => {
  it("runaway recursion is a RangeError and the deepest JSON the guard admits parses, at build time and at run time", async () => {
    const r = await runRaw("wasmtime-limits", "validate", JSON.stringify({ request: podRequest(pod("w")), settings: {} }));
    expect(r.json.accepted).toBe(true);
    expect(JSON.parse((r.json.warnings as string[])[0]!)).toEqual({ recursion: "RangeError", deepestJson: 2 * MAX_JSON_DEPTH, atRunTime: "RangeError" });
  });
});

describe("builds", () => {
  it("are reproducible: a second build is byte-identical", async () => {
    const out = mkdtempSync(join(tmpdir(), "lpp-repro-"));
    const again = await buildPolicy(PROBE_DIR, out);
    expect(Buffer.compare(readFileSync(again.output), readFileSync(wasmPath(PROBE)))).toBe(0);
  });
  it("refuse metadata that kwctl would refuse", () => {
    expect(() => parseMetadata("rules: []\nmutating: false\nexecutionMode: wasi\n")).toThrow(/rules must be a non-empty list/);
    expect(() => parseMetadata("rules: [{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: [CREATE]}]\nmutating: false\n")).toThrow(/executionMode/);
    expect(() => parseMetadata("rules: [{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: [CREATE]}]\nexecutionMode: wasi\n")).toThrow(/mutating is required/);
    expect(() => parseMetadata("rules: [{apiGroups: ['*', apps], apiVersions: [v1], resources: [pods], operations: [CREATE]}]\nmutating: false\nexecutionMode: wasi\n")).toThrow(/must stand alone/);
    expect(() => parseMetadata("rules: [{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: [PATCH]}]\nmutating: false\nexecutionMode: wasi\n")).toThrow(/unknown operation/);
    expect(() => parseMetadata("rules: [{apiGroups: [''], apiVersions: [], resources: [pods], operations: [CREATE]}]\nmutating: false\nexecutionMode: wasi\n")).toThrow(/apiVersions must be a non-empty list/);
  });
  const base = "rules: [{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: [CREATE]}]\nmutating: false\nexecutionMode: wasi\n";
  it("refuse a minimumKubewardenVersion that is not semver (policy-server could not load the policy)", () => {
    for (const bad of ["v1.17.0", "1.17", "'01.2.3'", "latest", "1"]) expect(() => parseMetadata(`${base}minimumKubewardenVersion: ${bad}\n`)).toThrow(/minimumKubewardenVersion must be a semantic version/);
    for (const good of ["1.17.0", "1.18.0-rc1", "2.0.0+build.5"]) expect(parseMetadata(`${base}minimumKubewardenVersion: ${good}\n`).minimumKubewardenVersion).toBe(good);
  });
  it("keep hostCapabilities and check contextAwareResources items are {apiVersion, kind}", () => {
    const m = parseMetadata(
      `${base}hostCapabilities: [kubernetes/list_resources_all, kubernetes/get_resource, kubernetes/get_resource]\ncontextAwareResources: [{apiVersion: v1, kind: Service}, {apiVersion: apps/v1, kind: Deployment}, {apiVersion: v1, kind: Service}]\n`,
    );
    expect(m.hostCapabilities).toEqual(["kubernetes/get_resource", "kubernetes/list_resources_all"]);
    expect(m.contextAwareResources).toEqual([{ apiVersion: "apps/v1", kind: "Deployment" }, { apiVersion: "v1", kind: "Service" }]);
    expect(() => parseMetadata(`${base}contextAwareResources: [Service]\n`)).toThrow(/contextAwareResources\[0\] must be a mapping/);
    expect(() => parseMetadata(`${base}contextAwareResources: [{apiVersion: v1}]\n`)).toThrow(/contextAwareResources\[0\]\.kind must be a non-empty string/);
    expect(() => parseMetadata(`${base}contextAwareResources: [{apiVersion: v1, kind: Service, namespace: x}]\n`)).toThrow(/unknown key\(s\) namespace/);
    expect(() => parseMetadata(`${base}hostCapabilities: kubernetes/get_resource\n`)).toThrow(/hostCapabilities must be a list/);
    // Kept in the module's metadata section, as kwctl annotate keeps it.
    const emptyModule = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const stored = readMetadata(annotate(emptyModule, m));
    expect(stored?.hostCapabilities).toEqual(m.hostCapabilities);
  });
});

describe("loopback-probes run", () => {
  const cli = (args: string[]) => runCli(args);
  const dir = mkdtempSync(join(tmpdir(), "lpp-run-"));
  const requestPath = join(dir, "req.json");
  writeFileSync(requestPath, JSON.stringify(podRequest(pod("cli"))));
  const reviewPath = join(dir, "review.json");
  writeFileSync(reviewPath, JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: podRequest(pod("cli")) }));

  it("prints kwctl's compact one-line AdmissionResponse, with auditAnnotations and warnings null when unset", () => {
    const r = cli(["run", wasmPath(PROBE), "-r", requestPath, "--settings-json", '{"mode":"reject"}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify({ uid: "test-uid", allowed: false, status: { message: "rejected cli ✓", code: 403 }, auditAnnotations: null, warnings: null })}\n`);
    const pretty = cli(["run", wasmPath(PROBE), "-r", requestPath, "--pretty", "--engine", "node"]);
    expect(pretty.stdout.split("\n").length).toBeGreaterThan(3);
    expect(JSON.parse(pretty.stdout)).toEqual({ uid: "test-uid", allowed: true, auditAnnotations: null, warnings: ["name=cli", expect.stringMatching(/^bytes=/)] });
  });
  it("reads the request from stdin with -r -", () => {
    const r = runCli(["run", wasmPath(PROBE), "-r", "-", "--settings-json", '{"mode":"reject"}'], { input: readFileSync(requestPath, "utf8") });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toEqual({ message: "rejected cli ✓", code: 403 });
  });
  it.each(["userInfo", "kind", "resource", "operation", "uid"])("refuses a request without %s, as kwctl does (exit 2)", (field) => {
    const { [field]: _dropped, ...request } = podRequest(pod("cli")) as Record<string, unknown>;
    const r = runCli(["run", wasmPath(PROBE), "-r", "-"], { input: JSON.stringify(request) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`AdmissionRequest.${field} must be`);
  });
  it("refuses a module that is not WebAssembly with exit 2 and says so", () => {
    const r = cli(["run", requestPath, "-r", requestPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not a WebAssembly module");
    expect(r.stderr).not.toContain("magic word");
  });
  it("drops the patch and the rejection in monitor mode", () => {
    const r = cli(["run", wasmPath(PROBE), "-r", requestPath, "--settings-json", '{"mode":"mutate"}', "--mode", "monitor"]);
    expect(JSON.parse(r.stdout)).toEqual({ uid: "test-uid", allowed: true, auditAnnotations: null, warnings: ["added label mutated=yes"] });
  });
  it("stops a module at the --timeout deadline (settings first, as kwctl: the same 500-style failure)", async () => {
    const spin = join(dir, "spin.wasm");
    writeFileSync(spin, annotate(await watModule("spin"), parseMetadata(readFileSync(join(PROBE_DIR, "metadata.yml"), "utf8"))));
    const r = cli(["run", spin, "-r", requestPath, "--timeout", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Provided settings are not valid: ");
    expect(r.stderr).toContain("hit the 1 s deadline");
    expect(cli(["run", spin, "-r", requestPath, "--timeout", "1.5"]).code).toBe(2);
  });
  it("prints an AdmissionResponse with a base64 JSONPatch for a mutation", () => {
    const r = cli(["run", wasmPath(PROBE), "--request-path", reviewPath, "--settings-json", '{"mode":"mutate"}']);
    expect(r.code).toBe(0);
    const response = JSON.parse(r.stdout);
    expect(response).toMatchObject({ uid: "test-uid", allowed: true, patchType: "JSONPatch", warnings: ["added label mutated=yes"] });
    expect(JSON.parse(Buffer.from(response.patch, "base64").toString())).toEqual([
      { op: "add", path: "/metadata/labels", value: { mutated: "yes" } },
    ]);
  });
  it("prints a rejection with status and exits 0", () => {
    const r = cli(["run", wasmPath(PROBE), "-r", requestPath, "--settings-json", '{"mode":"reject"}']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ uid: "test-uid", allowed: false, status: { message: "rejected cli ✓", code: 403 }, auditAnnotations: null, warnings: null });
  });
  it("stops on invalid settings with exit 1 and the policy's message", () => {
    const r = cli(["run", wasmPath(PROBE), "-r", requestPath, "--settings-json", '{"mode":"nope"}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Provided settings are not valid: mode: expected one of");
  });
  it("exits 2 on bad usage", () => {
    expect(cli(["run", wasmPath(PROBE)]).code).toBe(2);
    expect(cli(["run"]).code).toBe(2);
    expect(cli(["run", "--help"]).stdout).toContain("--request-path");
  });
});

describe("mutation gating, as policy-server's AdmissionResponseHandler", async () => {
  const probe = await loadPolicy(wasmBytes(PROBE));
  const request = podRequest(pod("g")) as never;
  it("a policy configured non-mutating is refused a non-empty patch (no code, no patch)", async () => {
    const r = await validateBoth(probe, request, { mode: "mutate" }, { mutating: false });
    expect(r).toEqual({
      uid: "test-uid",
      allowed: false,
      status: { message: "Request rejected by policy policy-from-cli. The policy attempted to mutate the request, but it is currently configured to not allow mutations." },
      warnings: ["added label mutated=yes"],
    });
  });
  it("a mutated_object identical to the object is no patch, so a non-mutating policy accepts it", async () => {
    const unchanged = podRequest({ ...pod("g"), metadata: { name: "g", labels: { mutated: "yes" } } }) as never;
    const r = await validateBoth(probe, unchanged, { mode: "mutate" }, { mutating: false });
    expect(r.allowed).toBe(true);
    expect(r.patch).toBeUndefined();
  });
  it("a mutated_object for a request without object (DELETE) is refused with policy-server's text", () => {
    const run = { exitCode: 0, stdout: new TextEncoder().encode('{"accepted":true,"mutated_object":{"kind":"Pod"}}'), stderr: "", interrupted: false, instantiateMs: 0, startMs: 0 };
    expect(toAdmissionResponse(podRequest(null, { operation: "DELETE" }) as never, run)).toEqual({
      uid: "test-uid",
      allowed: false,
      status: { message: "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed" },
    });
  });
  it("a trap or a non-zero exit is code 500 with the module's stderr; a malformed answer names the field", () => {
    const run = (stdout: string, exitCode: number | null = 0, stderr = "") => ({ exitCode, stdout: new TextEncoder().encode(stdout), stderr, interrupted: false, instantiateMs: 0, startMs: 0 });
    const request = podRequest(pod("g")) as never;
    expect(toAdmissionResponse(request, run("", 1, "  boom\n"))).toEqual({ uid: "test-uid", allowed: false, status: { message: "boom", code: 500 } });
    expect(toAdmissionResponse(request, run('{"accepted":"yes"}')).status).toEqual({ message: "internal server error: Cannot deserialize policy validation response: invalid type for `accepted`: a string, expected a boolean", code: 500 });
    expect(toAdmissionResponse(request, run('{"accepted":false,"code":70000}')).status?.message).toContain("invalid type for `code`");
    expect(toAdmissionResponse(request, run('{"accepted":true,"message":"note","warnings":[]}'))).toEqual({ uid: "test-uid", allowed: true, status: { message: "note" }, warnings: [] });
  });
});
