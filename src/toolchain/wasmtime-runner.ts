/**
 * Run a WASI policy module under wasmtime, the engine policy-server embeds,
 * configured as policy-server configures it (see src/toolchain/wasmtime/runner.py).
 * Same shape as runWasi (src/toolchain/wasi-runner.ts), plus the epoch deadline
 * and an exact instruction count (wasmtime fuel).
 *
 * The engine is Python's `wasmtime` package (the wasmtime C API) in a venv
 * (.cache/wasmtime in a checkout, the user's cache for the installed package;
 * set up on first use: wasmtime-setup.ts); one runner process per Node process,
 * spoken to in JSON lines, evaluations one at a time (a host call in flight
 * belongs to the current one).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type HostCallHandler, noHostCapabilities } from "./host-calls.js";
import type { WasiResult } from "./wasi-runner.js";
import { ensureWasmtime, type WasmtimeEngine, WASMTIME_RUNNER, WASMTIME_VERSION, WasmtimeSetupError, wasmtimeSetupHint } from "./wasmtime-setup.js";

export { WASMTIME_VERSION };

export class WasmtimeUnavailable extends Error {}

export interface WasmtimeRunOptions {
  /** Answers the module's host calls; default: every capability refused. */
  hostCall?: HostCallHandler;
  /**
   * Deadline in epochs of one second, as policy-server's --policy-timeout /
   * timeoutEvalSeconds (a 1 s ticker; a deadline of N epochs interrupts after N-1 to N seconds).
   * null: no deadline.
   */
  timeoutSeconds?: number | null;
  /** Count executed wasm instructions (a separate engine with fuel enabled). */
  fuel?: boolean;
}

export interface WasmtimeResult extends WasiResult {
  /** The epoch deadline interrupted the evaluation (a trap, as in policy-server). */
  interrupted: boolean;
  /** Executed wasm instructions, when run with `fuel`. */
  fuel: number | null;
}

/** The module cannot be compiled, linked or instantiated by wasmtime. */
export class WasmtimeModuleError extends Error {}

interface Pending {
  message: Record<string, unknown>;
  hostCall: HostCallHandler;
  resolve: (r: WasmtimeResult) => void;
  reject: (e: Error) => void;
}

interface RunnerMessage {
  id?: number;
  type: "ready" | "host_call" | "result" | "error";
  [key: string]: unknown;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const unb64 = (s: unknown) => new Uint8Array(Buffer.from(typeof s === "string" ? s : "", "base64"));

class RunnerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;
  private nextId = 1;
  private stderrTail = "";
  private failure: Error | null = null;
  readonly ready: Promise<string>;

  constructor(engine: WasmtimeEngine) {
    // Compiled code is cached per module content and engine configuration (Cranelift takes seconds per module).
    this.child = spawn(engine.python, [WASMTIME_RUNNER, engine.compiledCache], { stdio: ["pipe", "pipe", "pipe"] });
    let onReady: (version: string) => void = () => {};
    let onFail: (e: Error) => void = () => {};
    this.ready = new Promise<string>((res, rej) => {
      onReady = res;
      onFail = rej;
    });
    this.ready.catch(() => {});
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    const die = (why: string) => {
      const error = new WasmtimeUnavailable(`wasmtime runner ${why}${this.stderrTail ? `:\n${this.stderrTail.trim()}` : ""}`);
      this.failure ??= error;
      onFail(error);
      for (const p of [this.current, ...this.queue.splice(0)]) p?.reject(error);
      this.current = null;
    };
    this.child.on("error", (e) => die(`cannot start (${e.message})`));
    this.child.on("exit", (code, signal) => die(`exited (${signal ?? `code ${code}`})`));
    this.child.stdin.on("error", () => {});
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as RunnerMessage;
      if (message.type === "ready") {
        const version = String(message.wasmtime);
        if (version !== WASMTIME_VERSION) onFail(new WasmtimeUnavailable(`the venv has wasmtime ${version}; expected ${WASMTIME_VERSION} (${wasmtimeSetupHint()})`));
        else onReady(version);
        this.idle();
        return;
      }
      this.onMessage(message);
    });
  }

  private onMessage(message: RunnerMessage): void {
    const p = this.current;
    if (!p || message.id !== p.message.id) return;
    if (message.type === "host_call") {
      let answer: { ok: true; response: Uint8Array } | { ok: false; error: string };
      try {
        answer = p.hostCall({ binding: String(message.binding), namespace: String(message.namespace), operation: String(message.operation), payload: unb64(message.payload) });
      } catch (e) {
        answer = { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      this.send(answer.ok ? { id: p.message.id, op: "host_answer", ok: true, response: b64(answer.response) } : { id: p.message.id, op: "host_answer", ok: false, error: answer.error });
      return;
    }
    this.current = null;
    if (message.type === "error") p.reject(new WasmtimeModuleError(String(message.message)));
    else {
      const stdout = unb64(message.stdout);
      const stderr = new TextDecoder().decode(unb64(message.stderr));
      const trap = typeof message.trap === "string" ? message.trap : undefined;
      p.resolve({
        exitCode: typeof message.exitCode === "number" ? message.exitCode : null,
        stdout,
        stderr,
        ...(trap === undefined ? {} : { trap }),
        interrupted: message.interrupted === true,
        fuel: typeof message.fuel === "number" ? message.fuel : null,
        instantiateMs: Number(message.instantiateMs),
        startMs: Number(message.startMs),
      });
    }
    this.pump();
  }

  private send(message: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Keep Node alive only while an evaluation is pending. */
  private idle(): void {
    const busy = this.current !== null || this.queue.length > 0;
    for (const handle of [this.child, this.child.stdout, this.child.stderr, this.child.stdin] as { ref?(): void; unref?(): void }[])
      busy ? handle.ref?.() : handle.unref?.();
  }

  private pump(): void {
    if (this.current === null && this.queue.length > 0) {
      this.current = this.queue.shift()!;
      this.send(this.current.message);
    }
    this.idle();
  }

  run(modulePath: string, action: string, stdin: Uint8Array, options: WasmtimeRunOptions): Promise<WasmtimeResult> {
    if (this.failure) return Promise.reject(this.failure);
    const timeout = options.timeoutSeconds ?? null;
    return new Promise<WasmtimeResult>((res, rej) => {
      this.queue.push({
        message: { id: this.nextId++, op: "run", module: modulePath, action, stdin: b64(stdin), timeoutEpochs: timeout, fuel: options.fuel === true },
        hostCall: options.hostCall ?? noHostCapabilities,
        resolve: res,
        reject: rej,
      });
      this.pump();
    });
  }
}

let runner: RunnerProcess | null = null;

/**
 * Start (once) and check the wasmtime runner; resolves with the wasmtime version.
 * The first start sets the engine up when it is missing (ensureWasmtime: a venv,
 * with progress on stderr).
 */
export async function startWasmtime(): Promise<string> {
  if (!runner) {
    let engine: WasmtimeEngine;
    try {
      engine = ensureWasmtime();
    } catch (e) {
      if (e instanceof WasmtimeSetupError) throw new WasmtimeUnavailable(e.message);
      throw e;
    }
    runner = new RunnerProcess(engine);
  }
  try {
    return await runner.ready;
  } catch (e) {
    runner = null;
    throw e;
  }
}

let moduleDir: string | null = null;
const modulePaths = new WeakMap<Uint8Array, string>();

/** The runner reads modules from disk: one file per content, shared by all evaluations of it. */
function modulePath(bytes: Uint8Array): string {
  let path = modulePaths.get(bytes);
  if (!path) {
    if (moduleDir === null) {
      const dir = mkdtempSync(join(tmpdir(), "lpp-wasmtime-"));
      moduleDir = dir;
      process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    }
    path = join(moduleDir, `${createHash("sha256").update(bytes).digest("hex")}.wasm`);
    if (!existsSync(path)) writeFileSync(path, bytes);
    modulePaths.set(bytes, path);
  }
  return path;
}

/** One evaluation in a fresh wasmtime Store: argv ["policy.wasm", action], `stdin` as its stdin. */
export async function runWasmtime(bytes: Uint8Array, action: string, stdin: Uint8Array, options: WasmtimeRunOptions = {}): Promise<WasmtimeResult> {
  if (options.timeoutSeconds != null && !(Number.isInteger(options.timeoutSeconds) && options.timeoutSeconds > 0))
    throw new RangeError(`timeout must be a whole number of seconds > 0, got ${options.timeoutSeconds}`);
  await startWasmtime();
  return runner!.run(modulePath(bytes), action, stdin, options);
}
