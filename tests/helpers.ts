import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { expect } from "vitest";
import type { AdmissionRequest, SettingsValidationResponse } from "../src/kubewarden/protocol.js";
import { type AdmissionResponse, type EvaluationOptions, type LoadedPolicy, validate, validateSettings } from "../src/toolchain/evaluate.js";
import type { HostCallHandler } from "../src/toolchain/host-calls.js";
import { runTool, toolPaths } from "../src/toolchain/tools.js";
import { compileModule, runWasi, type WasiResult } from "../src/toolchain/wasi-runner.js";
import { runWasmtime } from "../src/toolchain/wasmtime-runner.js";
import { COMPARISONS_DIR } from "./setup/comparisons.js";
import { testModulePath } from "./setup/test-modules.js";

export const ROOT = resolve(import.meta.dirname, "..");
export { TEST_WASM_DIR, testModuleNames } from "./setup/test-modules.js";

/** A built module (tests/setup/build-modules.ts), waited for while it is still being built. */
export function wasmPath(name: string): string {
  return testModulePath(name);
}

export function wasmBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(wasmPath(name)));
}

/**
 * The conformance harness: every end-to-end evaluation runs under node:wasi AND
 * under wasmtime configured as policy-server (src/toolchain/wasmtime-runner.ts),
 * and the two must answer the same. Each comparison is recorded (one byte in a
 * file per test process); tests/setup/wasmtime.ts prints the total.
 *
 * wasmtime runs here without the deadline: whether a request finishes inside 2 s
 * of wall clock depends on the machine, and tests assert no wall-clock limits.
 * The deadline itself is tested on a module that never ends (toolchain tests).
 */
const comparisonsFile = join(COMPARISONS_DIR, `${process.pid}`);

export function recordComparison(): void {
  appendFileSync(comparisonsFile, ".");
}

/** What must be equal between the engines: exit code, trapped or not, stdout (optionally normalised), stderr. */
function observable(r: WasiResult, normalize: (stdout: string) => string) {
  return { exitCode: r.exitCode, trapped: r.trap !== undefined, stdout: normalize(new TextDecoder().decode(r.stdout)), stderr: r.stderr };
}

/**
 * The node:wasi run, then the wasmtime run; when `independent` (no callback of the
 * test's sees either run), the wasmtime run starts first and goes on in its own
 * process while node:wasi runs in this one: the two waits overlap.
 */
async function bothEngines<T>(node: () => Promise<T>, wasmtime: () => Promise<T>, independent: boolean): Promise<[T, T]> {
  if (!independent) return [await node(), await wasmtime()];
  const started = wasmtime();
  started.catch(() => {}); // awaited below: a failure is reported there, not as unhandled
  return [await node(), await started];
}

/**
 * Run a module's bytes under both engines with the same stdin (and host-call answers); returns the node:wasi result.
 * `normalize` maps stdout before the comparison, only for answers that are random by design.
 */
export async function runBothEngines(bytes: Uint8Array, action: string, stdin: Uint8Array, hostCall?: HostCallHandler, normalize: (stdout: string) => string = (s) => s): Promise<WasiResult> {
  const options = hostCall ? { hostCall } : {};
  const [node, wasmtime] = await bothEngines(
    async () => runWasi(await compileModule(bytes), action, stdin, options),
    () => runWasmtime(bytes, action, stdin, { ...options, timeoutSeconds: null }),
    hostCall === undefined,
  );
  expect(observable(wasmtime, normalize), `wasmtime and node:wasi disagree on ${action}`).toEqual(observable(node, normalize));
  recordComparison();
  return node;
}

/** evaluate.validate under both engines; the AdmissionResponses must be equal. Returns it. */
export async function validateBoth(policy: LoadedPolicy, request: AdmissionRequest, settings: unknown, options: EvaluationOptions = {}): Promise<AdmissionResponse> {
  const [node, wasmtime] = await bothEngines(
    () => validate(policy, request, settings, { ...options, engine: "node" }),
    () => validate(policy, request, settings, { ...options, engine: "wasmtime", timeoutSeconds: null }),
    options.hostCall === undefined && options.onRun === undefined && options.runner === undefined,
  );
  expect(wasmtime, "wasmtime and node:wasi disagree on validate").toEqual(node);
  recordComparison();
  return node;
}

/** evaluate.validateSettings under both engines; the answers must be equal. */
export async function validateSettingsBoth(policy: LoadedPolicy, settings: unknown): Promise<SettingsValidationResponse> {
  const node = await validateSettings(policy, settings, { engine: "node" });
  const wasmtime = await validateSettings(policy, settings, { engine: "wasmtime", timeoutSeconds: null });
  expect(wasmtime, "wasmtime and node:wasi disagree on validate-settings").toEqual(node);
  recordComparison();
  return node;
}

export interface RawRun extends WasiResult {
  text: string;
  /** The parsed stdout; throws in the test if stdout is not exactly one JSON document. */
  json: Record<string, unknown>;
}

/** Run a built module with raw stdin bytes under both engines (equal answers) and insist on one JSON document on stdout. */
export async function runRaw(name: string, action: string, stdin: Uint8Array | string, normalize?: (stdout: string) => string): Promise<RawRun> {
  const input = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  const result = await runBothEngines(wasmBytes(name), action, input, undefined, normalize);
  const text = new TextDecoder().decode(result.stdout);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.exitCode}, trap ${result.trap}):\n${text.slice(0, 500)}\nstderr: ${result.stderr.slice(0, 500)}`);
  }
  return { ...result, text, json };
}

export function podRequest(object: unknown, extra: Record<string, unknown> = {}) {
  return {
    uid: "test-uid",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    operation: "CREATE",
    userInfo: { username: "tester" },
    object,
    ...extra,
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the loopback-probes command as a user would, capturing both streams. */
export function runCli(args: string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "loopback-probes.js"), ...args], {
    encoding: "utf8",
    input: options.input ?? "",
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...(options.env ?? {}) },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Assemble tests/fixtures/wat/<name>.wat with binaryen's wasm-as (hand-written modules for runner edge cases). */
export async function watModule(name: string): Promise<Uint8Array> {
  const out = join(ROOT, ".cache", "test-wat", `${name}.wasm`);
  mkdirSync(dirname(out), { recursive: true });
  await runTool(toolPaths.binaryen("wasm-as"), [join(ROOT, "tests", "fixtures", "wat", `${name}.wat`), "-o", out], { node: true });
  return new Uint8Array(readFileSync(out));
}
