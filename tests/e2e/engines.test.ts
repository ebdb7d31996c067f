/**
 * The two engines the suite runs every module under, on hand-written modules
 * (tests/fixtures/wat/) for what the built policies cannot show: host calls, the
 * deadline, modules that answer garbage or import what policy-server does not link.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type HostCallRequest } from "../../src/toolchain/host-calls.js";
import { loadPolicy, validate, validateSettings } from "../../src/toolchain/evaluate.js";
import { annotate, parseMetadata } from "../../src/toolchain/metadata.js";
import { imports } from "../../src/toolchain/wasm-binary.js";
import { runWasmtime, startWasmtime, WASMTIME_VERSION, WasmtimeModuleError } from "../../src/toolchain/wasmtime-runner.js";
import { podRequest, ROOT, runBothEngines, watModule } from "../helpers.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const metadata = parseMetadata(readFileSync(join(ROOT, "tests", "fixtures", "policies", "protocol-probe", "metadata.yml"), "utf8"));

describe("the wasmtime engine", () => {
  it(`is wasmtime ${WASMTIME_VERSION}`, async () => {
    expect(await startWasmtime()).toBe(WASMTIME_VERSION);
  });
});

describe("host calls (kubewarden:javy/host.call, and host.call after annotate)", async () => {
  const raw = await watModule("host-call");
  const annotated = annotate(raw, metadata);

  it("annotate renames the kubewarden:javy/host import to host, as kwctl annotate does", () => {
    expect(imports(raw).filter((i) => i.name === "call").map((i) => i.module)).toEqual(["kubewarden:javy/host"]);
    expect(imports(annotated).filter((i) => i.name === "call").map((i) => i.module)).toEqual(["host"]);
  });

  it.each([
    ["unannotated", raw],
    ["annotated", annotated],
  ])("%s: the handler sees binding, namespace, operation and payload; its answer is appended to stdin; 0 on success", async (_label, bytes) => {
    const calls: HostCallRequest[] = [];
    const handler = (c: HostCallRequest) => {
      calls.push(c);
      return { ok: true as const, response: enc(`{"kind":"Service","for":${JSON.stringify(dec(c.payload))}}`) };
    };
    const r = await runBothEngines(bytes, "validate", enc("payload-ü"), handler);
    expect(r.exitCode).toBe(0);
    expect(dec(r.stdout)).toBe('0:{"kind":"Service","for":"payload-ü"}');
    expect(calls).toHaveLength(2); // once per engine
    for (const c of calls) expect({ ...c, payload: dec(c.payload) }).toEqual({ binding: "kubewarden", namespace: "kubernetes", operation: "get_resource", payload: "payload-ü" });
  });

  it("an error answer is appended as text and the call returns 1; without a handler every capability is refused", async () => {
    const r = await runBothEngines(raw, "validate", enc("x"), () => ({ ok: false, error: "forbidden: no access to v1/Service" }));
    expect(dec(r.stdout)).toBe("1:forbidden: no access to v1/Service");
    const none = await runBothEngines(raw, "validate", enc("x"));
    expect(dec(none.stdout)).toBe("1:host capability kubewarden/kubernetes/get_resource is not available in this runner");
  });
});

describe("the deadline (epoch interruption, as policy-server)", async () => {
  const spin = await watModule("spin");

  it("interrupts a module that never finishes", async () => {
    const r = await runWasmtime(spin, "validate", enc(""), { timeoutSeconds: 1 });
    expect(r.interrupted).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.trap).toContain("interrupt");
  });

  it("answers like policy-server: not allowed, code 500, the module's stderr as message", async () => {
    const policy = await loadPolicy(annotate(spin, metadata));
    const response = await validate(policy, podRequest({ kind: "Pod" }) as never, {}, { engine: "wasmtime", timeoutSeconds: 1 });
    expect(response).toEqual({ uid: "test-uid", allowed: false, status: { message: "", code: 500 } });
    expect(await validateSettings(policy, {}, { engine: "wasmtime", timeoutSeconds: 1 })).toEqual({ valid: false, message: "" });
  });
});

describe("answers that are not a ValidationResponse", async () => {
  const garbage = await loadPolicy(annotate(await watModule("garbage"), metadata));
  it.each(["node", "wasmtime"] as const)("%s: internal server error: Cannot deserialize policy validation response", async (engine) => {
    const response = await validate(garbage, podRequest({ kind: "Pod" }) as never, {}, { engine });
    expect(response.allowed).toBe(false);
    expect(response.status?.code).toBe(500);
    expect(response.status?.message).toMatch(/^internal server error: Cannot deserialize policy validation response: /);
    expect(await validateSettings(garbage, {}, { engine })).toMatchObject({ valid: false, message: expect.stringMatching(/^Cannot deserialize settings validation response: /) });
  });
});

describe("modules policy-server would not load", () => {
  it("an import the linker does not offer fails instantiation under wasmtime", async () => {
    await expect(runWasmtime(await watModule("unknown-import"), "validate", enc(""))).rejects.toThrow(WasmtimeModuleError);
    await expect(runWasmtime(await watModule("unknown-import"), "validate", enc(""))).rejects.toThrow(/env::getenv|getenv/);
  });
  it("fuel counts the same instructions on every run of a deterministic module", async () => {
    const bytes = await watModule("host-call");
    const runs = await Promise.all([1, 2].map(() => runWasmtime(bytes, "validate", enc("abc"), { fuel: true })));
    expect(runs[0]!.fuel).toBeGreaterThan(0);
    expect(runs[1]!.fuel).toBe(runs[0]!.fuel);
  });
});
