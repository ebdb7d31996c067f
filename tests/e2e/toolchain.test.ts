/**
 * The toolchain end to end: a test policy built by the real pipeline, run under
 * node:wasi exactly as policy-server runs it.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/kubewarden/input-guard.js";
import { buildPolicy } from "../../src/toolchain/build.js";
import { parseMetadata, readMetadata, USAGE_ANNOTATION } from "../../src/toolchain/metadata.js";
import { exports, imports } from "../../src/toolchain/wasm-binary.js";
import { podRequest, ROOT, runCli, runRaw, TEST_WASM_DIR, wasmBytes, wasmPath } from "../helpers.js";

const PROBE = "protocol-probe";
const PROBE_DIR = join(ROOT, "tests", "fixtures", "policies", PROBE);
const validate = (object: unknown, settings: unknown = {}) => runRaw(PROBE, "validate", JSON.stringify({ request: podRequest(object), settings }));
const pod = (name: string, spec: unknown = { containers: [] }) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec });

describe("built module shape", () => {
  const bytes = wasmBytes(PROBE);
  const built = readdirSync(TEST_WASM_DIR).filter((f) => f.endsWith(".wasm"));
  it("builds every policy and test policy", () => {
    expect(built).toEqual(expect.arrayContaining(["reject-loopback-probes.wasm", "rewrite-loopback-probes.wasm", `${PROBE}.wasm`, "floor-policy.wasm"]));
  });
  it.each(built)("%s imports only wasi_snapshot_preview1 functions (+ the host call when context-aware) and exports only _start and memory", (file) => {
    const module = new Uint8Array(readFileSync(join(TEST_WASM_DIR, file)));
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
      message: "mode: expected one of accept, reject, mutate, throw, random, recurse, allocate",
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
    for (let i = 0; i < 3; i++) seen.add(String(((await validate(pod("r"), { mode: "random" })).json.warnings as string[])[0]));
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
});

describe("loopback-probes run", () => {
  const cli = (args: string[]) => runCli(args);
  const dir = mkdtempSync(join(tmpdir(), "lpp-run-"));
  const requestPath = join(dir, "req.json");
  writeFileSync(requestPath, JSON.stringify(podRequest(pod("cli"))));
  const reviewPath = join(dir, "review.json");
  writeFileSync(reviewPath, JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: podRequest(pod("cli")) }));

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
    expect(JSON.parse(r.stdout)).toEqual({ uid: "test-uid", allowed: false, status: { message: "rejected cli ✓", code: 403 } });
  });
  it("stops on invalid settings with exit 1 and the policy's message", () => {
    const r = cli(["run", wasmPath(PROBE), "-r", requestPath, "--settings-json", '{"mode":"nope"}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("settings rejected: mode: expected one of");
  });
  it("exits 2 on bad usage", () => {
    expect(cli(["run", wasmPath(PROBE)]).code).toBe(2);
    expect(cli(["run"]).code).toBe(2);
    expect(cli(["run", "--help"]).stdout).toContain("--request-path");
  });
});
