/**
 * Run a WASI command module the way policy-server does: a fresh instance per
 * evaluation, argv = ["policy.wasm", action], the payload on stdin, one answer
 * on stdout, diagnostics on stderr. Uses node:wasi; stdio goes through files in
 * one private temp folder because node:wasi only accepts file descriptors.
 */
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { WASI } from "node:wasi";
import { decodeHostCall, HOST_CALL_IMPORTS, type HostCallHandler, noHostCapabilities } from "./host-calls.js";

// Node 20's WASI fast API calls can let a GC start inside a WASI call and crash
// the process when many instances run (nodejs/node#46777). Turn them off before
// any WASI function gets optimised.
setFlagsFromString("--no-turbo-fast-api-calls");

export interface WasiResult {
  /** Exit code, or null when the module trapped. */
  exitCode: number | null;
  stdout: Uint8Array;
  stderr: string;
  /** The trap message when exitCode is null. */
  trap?: string;
  instantiateMs: number;
  startMs: number;
}

let workDir: string | null = null;
function work(): string {
  if (workDir === null) {
    workDir = mkdtempSync(join(tmpdir(), "lpp-wasi-"));
    const dir = workDir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return workDir;
}

const compiled = new WeakMap<Uint8Array, WebAssembly.Module>();

export async function compileModule(bytes: Uint8Array): Promise<WebAssembly.Module> {
  let m = compiled.get(bytes);
  if (!m) {
    m = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    compiled.set(bytes, m);
  }
  return m;
}

let runs = 0;

export interface RunOptions {
  /** Answers the module's host calls (context-aware policies); default: every capability refused. */
  hostCall?: HostCallHandler;
}

export async function runWasi(module: WebAssembly.Module, action: string, stdin: Uint8Array, options: RunOptions = {}): Promise<WasiResult> {
  const dir = work();
  // Files of their own per run: callers may evaluate concurrently.
  const id = runs++;
  const [inPath, outPath, errPath] = ["stdin", "stdout", "stderr"].map((n) => join(dir, `${n}-${id}`)) as [string, string, string];
  writeFileSync(inPath, stdin);
  const fds = [openSync(inPath, "r"), openSync(outPath, "w"), openSync(errPath, "w")] as const;
  let exitCode: number | null = null;
  let trap: string | undefined;
  let instantiateMs = 0;
  let startMs = 0;
  try {
    const t0 = performance.now();
    const wasi = new WASI({
      version: "preview1",
      args: ["policy.wasm", action],
      env: {},
      stdin: fds[0],
      stdout: fds[1],
      stderr: fds[2],
      returnOnExit: true,
    });
    const imports = wasi.getImportObject() as WebAssembly.Imports;
    let memory: WebAssembly.Memory | null = null;
    const handler = options.hostCall ?? noHostCapabilities;
    // The host appends its answer to stdin: stdin is a file here, so appending to it
    // makes the bytes readable right after what the module has read so far.
    const call = (...args: number[]): number => {
      const decoded = memory ? decodeHostCall(new Uint8Array(memory.buffer), args) : "host call: the module exports no memory";
      const answer = typeof decoded === "string" ? { ok: false as const, error: decoded } : handler(decoded);
      appendFileSync(inPath, answer.ok ? answer.response : new TextEncoder().encode(answer.error));
      return answer.ok ? 0 : 1;
    };
    for (const { module: m, name } of HOST_CALL_IMPORTS) imports[m] = { ...(imports[m] ?? {}), [name]: call };
    const instance = await WebAssembly.instantiate(module, imports);
    const exported = instance.exports.memory;
    if (exported instanceof WebAssembly.Memory) memory = exported;
    const t1 = performance.now();
    try {
      exitCode = wasi.start(instance);
    } catch (e) {
      trap = e instanceof Error ? e.message : String(e);
    }
    const t2 = performance.now();
    instantiateMs = t1 - t0;
    startMs = t2 - t1;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const result: WasiResult = {
    exitCode,
    stdout: new Uint8Array(readFileSync(outPath)),
    stderr: readFileSync(errPath, "utf8"),
    ...(trap === undefined ? {} : { trap }),
    instantiateMs,
    startMs,
  };
  for (const p of [inPath, outPath, errPath]) rmSync(p, { force: true });
  return result;
}
