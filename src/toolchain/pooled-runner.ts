/**
 * Many evaluations of one module in one thread, fast: the instance is reused
 * and put back into its initial state before each run, instead of paying a
 * fresh instantiation (~4 ms in Node, growing with the snapshot's heap).
 *
 * Why this is still "a fresh instance per evaluation", as policy-server runs
 * it: the state of an instance is its linear memory and its mutable globals
 * (the module has no tables it writes and imports nothing stateful). Both are
 * captured right after instantiation and restored byte for byte before every
 * run. An instance is thrown away, never restored, after anything that could
 * leave state the restore does not cover: a trap, `proc_exit`, or memory growth
 * (the restore copies the initial size only).
 *
 * The WASI functions are served in memory (stdin bytes in, stdout/stderr
 * bytes out: no files), covering exactly what these modules import; the host
 * call contract is the one in host-calls.ts. Used by the offline audit, where
 * thousands of objects go through the same module; `runWasi` (node:wasi) stays
 * the reference runner, and a test requires identical answers from both.
 */
import { randomFillSync } from "node:crypto";
import { decodeHostCall, HOST_CALL_IMPORTS, type HostCallHandler, noHostCapabilities } from "./host-calls.js";
import { concat, exportMutableGlobals } from "./wasm-binary.js";

const GLOBAL_PREFIX = "__lpp_pool_g";
const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, SPIPE: 70, NOSYS: 52 } as const;

export interface PooledResult {
  /** Exit code, or null when the module trapped. */
  exitCode: number | null;
  stdout: Uint8Array;
  stderr: string;
  trap?: string;
  /** Whether this run reused an instance (false: a fresh one was made). */
  reused: boolean;
  /** The run called the host and was stopped there (PooledRunOptions.deferHostCalls): it has no answer. */
  deferred?: true;
}

export interface PooledRunOptions {
  hostCall?: HostCallHandler;
  /**
   * Stop the run at its first host call, with no answer (`deferred`), instead
   * of answering the call. A run that never calls the host answers as it would
   * with any handler: what the host knows cannot reach it. The audit runs a
   * context-aware policy so while the objects that answer its calls are still
   * being read (evaluate.ts), and runs again, with the handler, only the runs
   * that were stopped.
   */
  deferHostCalls?: boolean;
}

class ExitSignal {
  constructor(readonly code: number) {}
}

/** Thrown by the host-call import of a run that defers host calls: it unwinds the module (the instance is then thrown away). */
class HostCallDeferred {}

/** The per-run IO the WASI functions serve. */
interface RunIO {
  args: Uint8Array[];
  stdin: Uint8Array;
  stdinPos: number;
  stdout: Uint8Array[];
  stderr: Uint8Array[];
  hostCall: HostCallHandler;
  deferHostCalls: boolean;
}

interface Live {
  instance: WebAssembly.Instance;
  memory: WebAssembly.Memory;
  start: () => void;
  initialMemory: Uint8Array;
  globals: { global: WebAssembly.Global; value: number | bigint }[];
}

/** Prepare a module for pooled runs (adds the global exports the restore needs). */
export async function compilePooled(bytes: Uint8Array): Promise<WebAssembly.Module> {
  return WebAssembly.compile(exportMutableGlobals(bytes, GLOBAL_PREFIX) as Uint8Array<ArrayBuffer>);
}

/** compilePooled, synchronously (V8 compiles function bodies lazily: this is quick). */
export function compilePooledSync(bytes: Uint8Array): WebAssembly.Module {
  return new WebAssembly.Module(exportMutableGlobals(bytes, GLOBAL_PREFIX) as Uint8Array<ArrayBuffer>);
}

export class PooledModule {
  private live: Live | null = null;
  private io: RunIO | null = null;
  /**
   * A new instance's memory, taken from the first: every instantiation of the
   * module writes the same bytes (its data segments; it has no start function),
   * so an instance made after a discard (memory growth: the context-aware
   * policy's runs grow it each time) does not copy megabytes again.
   */
  private initialMemory: Uint8Array | null = null;
  /** Instances made so far (1 + discards): for tests and benchmarks. */
  instantiations = 0;

  constructor(private readonly module: WebAssembly.Module) {}

  run(action: string, stdin: Uint8Array, options: PooledRunOptions = {}): PooledResult {
    const encoder = new TextEncoder();
    this.io = { args: [encoder.encode("policy.wasm"), encoder.encode(action)], stdin, stdinPos: 0, stdout: [], stderr: [], hostCall: options.hostCall ?? noHostCapabilities, deferHostCalls: options.deferHostCalls === true };
    let reused = false;
    if (this.live && this.live.memory.buffer.byteLength === this.live.initialMemory.length) {
      new Uint8Array(this.live.memory.buffer).set(this.live.initialMemory);
      for (const g of this.live.globals) g.global.value = g.value;
      reused = true;
    } else this.live = this.instantiate();
    const live = this.live;
    let exitCode: number | null = 0;
    let trap: string | undefined;
    let deferred = false;
    try {
      live.start();
    } catch (e) {
      this.live = null; // state after an exit or a trap is not something the restore knows
      if (e instanceof ExitSignal) exitCode = e.code;
      else if (e instanceof HostCallDeferred) {
        exitCode = null;
        deferred = true;
      } else {
        exitCode = null;
        trap = e instanceof Error ? e.message : String(e);
      }
    }
    if (this.live && this.live.memory.buffer.byteLength !== this.live.initialMemory.length) this.live = null;
    const io = this.io;
    this.io = null;
    // One write (the usual answer) needs no copy.
    const joined = (parts: Uint8Array[]) => (parts.length === 1 ? parts[0]! : concat(parts));
    if (deferred) return { exitCode, stdout: new Uint8Array(0), stderr: "", reused, deferred: true };
    return { exitCode, stdout: joined(io.stdout), stderr: new TextDecoder().decode(joined(io.stderr)), ...(trap === undefined ? {} : { trap }), reused };
  }

  private instantiate(): Live {
    const imports = this.imports();
    const instance = new WebAssembly.Instance(this.module, imports);
    this.instantiations++;
    const memory = instance.exports.memory;
    const start = instance.exports._start;
    if (!(memory instanceof WebAssembly.Memory) || typeof start !== "function") throw new Error("module must export memory and _start");
    const globals: Live["globals"] = [];
    for (const [name, value] of Object.entries(instance.exports))
      if (name.startsWith(GLOBAL_PREFIX) && value instanceof WebAssembly.Global) globals.push({ global: value, value: value.value as number | bigint });
    this.initialMemory ??= new Uint8Array(memory.buffer).slice();
    return { instance, memory, start: start as () => void, initialMemory: this.initialMemory, globals };
  }

  private imports(): WebAssembly.Imports {
    const self = this;
    // WASI calls happen only inside `_start`, when `live` is set (the module has no start section).
    const memory = () => {
      if (!self.live) throw new Error("WASI call outside a run");
      return self.live.memory.buffer;
    };
    const view = () => new DataView(memory());
    const bytes = () => new Uint8Array(memory());
    const io = () => {
      if (!self.io) throw new Error("WASI call outside a run");
      return self.io;
    };
    const iovecs = (ptr: number, count: number) => {
      const v = view();
      const out: { at: number; len: number }[] = [];
      for (let i = 0; i < count; i++) out.push({ at: v.getUint32(ptr + i * 8, true), len: v.getUint32(ptr + i * 8 + 4, true) });
      return out;
    };
    const wasi = {
      args_sizes_get(argcPtr: number, sizePtr: number) {
        const { args } = io();
        view().setUint32(argcPtr, args.length, true);
        view().setUint32(sizePtr, args.reduce((n, a) => n + a.length + 1, 0), true);
        return ERRNO.SUCCESS;
      },
      args_get(argvPtr: number, bufPtr: number) {
        const { args } = io();
        let at = bufPtr;
        args.forEach((a, i) => {
          view().setUint32(argvPtr + i * 4, at, true);
          bytes().set(a, at);
          bytes()[at + a.length] = 0;
          at += a.length + 1;
        });
        return ERRNO.SUCCESS;
      },
      fd_read(fd: number, iovs: number, count: number, nreadPtr: number) {
        if (fd !== 0) return ERRNO.BADF;
        const run = io();
        let total = 0;
        for (const { at, len } of iovecs(iovs, count)) {
          const n = Math.min(len, run.stdin.length - run.stdinPos);
          if (n <= 0) break;
          bytes().set(run.stdin.subarray(run.stdinPos, run.stdinPos + n), at);
          run.stdinPos += n;
          total += n;
        }
        view().setUint32(nreadPtr, total, true);
        return ERRNO.SUCCESS;
      },
      fd_write(fd: number, iovs: number, count: number, nwrittenPtr: number) {
        if (fd !== 1 && fd !== 2) return ERRNO.BADF;
        const run = io();
        let total = 0;
        for (const { at, len } of iovecs(iovs, count)) {
          (fd === 1 ? run.stdout : run.stderr).push(bytes().slice(at, at + len));
          total += len;
        }
        view().setUint32(nwrittenPtr, total, true);
        return ERRNO.SUCCESS;
      },
      random_get(ptr: number, len: number) {
        for (let at = 0; at < len; at += 65536) randomFillSync(bytes(), ptr + at, Math.min(65536, len - at));
        return ERRNO.SUCCESS;
      },
      clock_time_get(_id: number, _precision: bigint, outPtr: number) {
        view().setBigUint64(outPtr, BigInt(Date.now()) * 1_000_000n, true);
        return ERRNO.SUCCESS;
      },
      proc_exit(code: number): never {
        throw new ExitSignal(code);
      },
      fd_close: () => ERRNO.SUCCESS,
      fd_seek: () => ERRNO.SPIPE,
      fd_fdstat_get(fd: number, ptr: number) {
        if (fd > 2) return ERRNO.BADF;
        bytes().fill(0, ptr, ptr + 24);
        bytes()[ptr] = 2; // character device
        return ERRNO.SUCCESS;
      },
    };
    // The host appends its answer to stdin (host-calls.ts).
    const call = (...args: number[]): number => {
      const run = io();
      if (run.deferHostCalls) throw new HostCallDeferred();
      const decoded = decodeHostCall(bytes(), args);
      const answer = typeof decoded === "string" ? { ok: false as const, error: decoded } : run.hostCall(decoded);
      const appended = answer.ok ? answer.response : new TextEncoder().encode(answer.error);
      run.stdin = concat([run.stdin, appended]);
      return answer.ok ? 0 : 1;
    };
    const imports: WebAssembly.Imports = { wasi_snapshot_preview1: wasi };
    for (const { module, name } of HOST_CALL_IMPORTS) imports[module] = { ...(imports[module] ?? {}), [name]: call };
    return imports;
  }
}
