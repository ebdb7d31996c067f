/**
 * Run a WASI command module the way policy-server does: a fresh instance per
 * evaluation, argv = ["policy.wasm", action], the payload on stdin, one answer
 * on stdout, diagnostics on stderr. Uses node:wasi; stdio goes through files in
 * one private temp folder because node:wasi only accepts file descriptors.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { WASI } from "node:wasi";

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

export async function runWasi(module: WebAssembly.Module, action: string, stdin: Uint8Array): Promise<WasiResult> {
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
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
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
