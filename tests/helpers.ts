import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { compileModule, runWasi, type WasiResult } from "../src/toolchain/wasi-runner.js";

export const ROOT = resolve(import.meta.dirname, "..");
/** Where tests/setup/build-modules.ts puts the modules it builds. */
export const TEST_WASM_DIR = join(ROOT, ".cache", "test-wasm");

export function wasmPath(name: string): string {
  const p = join(TEST_WASM_DIR, `${name}.wasm`);
  if (!existsSync(p)) throw new Error(`${p} missing: tests/setup/build-modules.ts should have built it`);
  return p;
}

export function wasmBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(wasmPath(name)));
}

export interface RawRun extends WasiResult {
  text: string;
  /** The parsed stdout; throws in the test if stdout is not exactly one JSON document. */
  json: Record<string, unknown>;
}

/** Run a built module with raw stdin bytes and insist on one JSON document on stdout. */
export async function runRaw(name: string, action: string, stdin: Uint8Array | string): Promise<RawRun> {
  const module = await compileModule(wasmBytes(name));
  const input = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  const result = await runWasi(module, action, input);
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
