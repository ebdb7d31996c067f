/**
 * Evaluations spread over worker threads, each holding pooled instances
 * (pooled-runner.ts) of the modules it was given: the offline audit uses every
 * core, and a run that overstays its deadline is stopped the way policy-server
 * stops it (the worker is terminated, the run answers as a timeout, a new
 * worker takes its place).
 *
 * Runs that need host calls stay on the calling thread (a handler is a
 * function and cannot cross threads): see `runLocal`.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";
import { compilePooledSync, PooledModule, type PooledResult, type PooledRunOptions } from "./pooled-runner.js";

import type { PoolJob } from "./evaluation-worker.js";

export type { PoolJob };

export type PoolResult = PooledResult & { timedOut?: boolean };

interface Pending {
  job: PoolJob;
  resolve: (r: PoolResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The worker has its modules (jobs given earlier wait in `jobs`, not sent yet). */
  ready: boolean;
  /** Jobs given to this worker, in order: the first is running, the others wait in its port. */
  jobs: Pending[];
  /** The deadline of the first job. */
  timer: NodeJS.Timeout | null;
}

/**
 * Jobs a worker holds at once: the one it runs and the next ones, waiting in
 * its port, so it goes on without waiting for the main thread to answer and
 * send the next. The main thread reads in slices of a few milliseconds (see
 * read-parallel.ts) and hands jobs on only between them, while a run takes
 * 0.03 ms (answered by the native pre-check) to ~0.5 ms: 8 jobs kept a worker
 * busy for a fraction of a slice, and on the 5,000-object fleet 4,508
 * evaluations were still waiting when the reading ended (1,982 with 64). 64
 * jobs, refilled below 16 (8 and 3 before), in paired runs: the fleet 0.98 →
 * 0.89 s, a 25,000-object fleet 3.66 → 3.14 s, the fleet as JSON 1.26 → 1.19 s,
 * the corpus and examples/ unchanged.
 */
const DEPTH = 64;

/**
 * A worker is given more jobs once it holds fewer than this, then as many as
 * it can hold, in one message: a postMessage costs the sending thread ~60 µs
 * or more whatever it carries (one per job was ~0.13 s of the main thread's
 * ~1.8 s in an audit of ../shared/corpus), and the main thread is the one reading.
 */
const REFILL_BELOW = 16;

/**
 * The URL of a worker entry beside the calling module (`from`: its
 * `import.meta.url`): `<name>.ts` beside a TypeScript source, `<name>.js` in a
 * compiled CLI, where every entry and chunk sits in one folder (bin/ and
 * scripts/pack.ts name the worker entries).
 */
export function workerEntry(from: string, name: string): string {
  return new URL(`./${name}${from.endsWith(".ts") ? ".ts" : ".js"}`, from).href;
}

/**
 * A worker thread running the entry module at `entry` (see workerEntry). The
 * packaged CLI is plain JavaScript; from the TypeScript sources (development,
 * tests, `bench`) the entry is bundled first (see `sourceBundle`). A worker
 * entry imports only what its thread needs: it loads in a fresh isolate.
 */
export function startWorker(entry: string, workerData: unknown, options: Pick<WorkerOptions, "resourceLimits"> = {}): Worker {
  const url = new URL(entry);
  const load = `import(${JSON.stringify(url.pathname.endsWith(".ts") ? sourceBundle(url) : url.href)})`;
  // As bin/loopback-probes.js on the main thread: node:wasi's "experimental" warning is noise
  // (the packaged CLI is one bundle: every worker loads node:wasi with it).
  const quiet = `const emit = process.emitWarning.bind(process); process.emitWarning = (w, ...rest) => { const t = typeof w === "string" ? w : w?.message; if (typeof t === "string" && t.includes("WASI")) return; return emit(w, ...rest); };`;
  return new Worker(`${quiet} ${load};`, { eval: true, workerData, execArgv: [], ...options });
}

const bundles = new Map<string, string>();

/**
 * A TypeScript worker entry as one JavaScript file, built by esbuild as the
 * package's lib/ is (a worker registering tsx's loader instead spends ~0.35 s of
 * CPU compiling its modules, every time). Kept in .cache/workers/ with the list
 * of its input files and the hash of their contents: reused while those are
 * unchanged, built again (and named by the new hash) otherwise.
 */
function sourceBundle(entry: URL): string {
  const cached = bundles.get(entry.href);
  if (cached) return cached;
  const dir = fileURLToPath(new URL("../../.cache/workers/", import.meta.url));
  const name = basename(entry.pathname, ".ts");
  const manifestPath = join(dir, `${name}.json`);
  const hashOf = (inputs: readonly string[]) => {
    const h = createHash("sha256");
    for (const input of inputs) h.update(input).update("\0").update(readFileSync(input)).update("\0");
    return h.digest("hex").slice(0, 16);
  };
  let file: string | null = null;
  try {
    const previous = JSON.parse(readFileSync(manifestPath, "utf8")) as { inputs: string[]; hash: string };
    const candidate = join(dir, `${name}-${previous.hash}.mjs`);
    if (existsSync(candidate) && hashOf(previous.inputs) === previous.hash) file = candidate;
  } catch {
    // no bundle yet, or an input is gone: build
  }
  if (!file) {
    const esbuild = createRequire(import.meta.url)("esbuild") as typeof import("esbuild");
    const result = esbuild.buildSync({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      write: false,
      metafile: true,
      absWorkingDir: dir.replace(/\/\.cache\/workers\/?$/, ""),
      logLevel: "silent",
      // CommonJS dependencies (yaml) call require(); give the ESM bundle one, as scripts/pack.ts does.
      banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    });
    const root = dir.replace(/\/\.cache\/workers\/?$/, "");
    const inputs = Object.keys(result.metafile.inputs).map((p) => join(root, p)).sort();
    const hash = hashOf(inputs);
    file = join(dir, `${name}-${hash}.mjs`);
    mkdirSync(dir, { recursive: true });
    for (const [path, text] of [[file, result.outputFiles[0]!.contents], [manifestPath, JSON.stringify({ inputs, hash })]] as const) {
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, text);
      renameSync(temp, path); // other processes may build the same at the same time
    }
  }
  const href = pathToFileURL(file).href;
  bundles.set(entry.href, href);
  return href;
}

export interface EvaluationPoolOptions {
  /** Worker threads (default: available cores). */
  threads?: number;
  /**
   * Worker threads started before `grow()` is called (default: all of them):
   * the audit keeps a core for the main thread while it reads.
   */
  startThreads?: number;
  /** Deadline per run in milliseconds (default none). */
  timeoutMs?: number;
}

export class EvaluationPool {
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private readonly local = new Map<string, Promise<PooledModule>>();
  private closed = false;
  readonly threads: number;
  /** Worker threads it may start now (`startThreads`, then `threads` once grown). */
  private allowed: number;
  /** Runs made on this thread so far (runLocal): for tests and benchmarks. */
  localRuns = 0;
  /** Worker threads started so far (replacements included): for tests and benchmarks. */
  started = 0;

  constructor(
    private readonly modules: Readonly<Record<string, Uint8Array>>,
    private readonly options: EvaluationPoolOptions = {},
  ) {
    this.threads = Math.max(1, options.threads ?? availableParallelism());
    this.allowed = Math.min(this.threads, Math.max(1, options.startThreads ?? this.threads));
  }

  /** Allow every thread (`threads`): those are started as jobs wait for them. */
  grow(): void {
    this.allowed = this.threads;
    this.pump();
  }

  /** Runs the workers hold at once (to keep them all busy, have this many waiting for answers). */
  get capacity(): number {
    return this.threads * DEPTH;
  }

  /** Start every worker allowed now (each compiles its modules), so the first runs do not wait for that. */
  warm(): void {
    if (this.closed) return;
    while (this.slots.length < this.allowed) this.spawn();
  }

  /** Evaluate on a worker thread. */
  run(job: PoolJob): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new Error("evaluation pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  /** Evaluate on this thread, with host calls answered by `options.hostCall` (no deadline: synchronous). */
  async runLocal(job: PoolJob, options: PooledRunOptions = {}): Promise<PoolResult> {
    this.localRuns++;
    let m = this.local.get(job.module);
    if (!m) {
      const compiled = this.compiled()[job.module];
      if (!compiled) throw new Error(`unknown module ${job.module}`);
      m = Promise.resolve(new PooledModule(compiled));
      this.local.set(job.module, m);
    }
    return (await m).run(job.action, job.stdin, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error("evaluation pool closed"));
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      for (const p of slot.jobs.splice(0)) p.reject(new Error("evaluation pool closed"));
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }

  private compiledModules: Record<string, WebAssembly.Module> | null = null;

  /**
   * The modules compiled once, here, for every worker and this thread: a
   * WebAssembly.Module crosses threads without a copy, so the code V8 optimizes
   * for one worker's runs serves the others' too.
   */
  private compiled(): Record<string, WebAssembly.Module> {
    this.compiledModules ??= Object.fromEntries(Object.entries(this.modules).map(([name, bytes]) => [name, compilePooledSync(bytes)]));
    return this.compiledModules;
  }

  private pump(): void {
    if (this.queue.length > 0 && this.slots.length < this.allowed && !this.slots.some((s) => s.jobs.length === 0)) this.spawn();
    // The workers that are running low, the emptiest first, each given its share of what waits.
    const low = this.slots.filter((s) => s.jobs.length < REFILL_BELOW).sort((a, b) => a.jobs.length - b.jobs.length);
    for (const [i, slot] of low.entries()) {
      if (this.queue.length === 0) return;
      const batch = this.queue.splice(0, Math.min(DEPTH - slot.jobs.length, Math.ceil(this.queue.length / (low.length - i))));
      slot.jobs.push(...batch);
      if (slot.ready) this.send(slot, batch);
    }
  }

  private spawn(): Slot {
    const worker = startWorker(workerEntry(import.meta.url, "evaluation-worker"), { modules: this.compiled() });
    this.started++;
    const slot: Slot = { worker, ready: false, jobs: [], timer: null };
    worker.on("message", (msg: { ready?: boolean; result?: PooledResult; error?: string; fatal?: string }) => {
      if (msg.ready) {
        slot.ready = true;
        if (slot.jobs.length > 0) this.send(slot, slot.jobs);
        return;
      }
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      const pending = slot.jobs.shift();
      if (msg.fatal) {
        pending?.reject(new Error(`evaluation worker failed: ${msg.fatal}`));
        this.replace(slot);
        return;
      }
      if (pending) {
        if (msg.error !== undefined) pending.reject(new Error(msg.error));
        else pending.resolve(msg.result!);
      }
      this.startDeadline(slot); // the next job, already in the worker's port, runs now
      this.pump();
    });
    worker.on("error", (e) => {
      slot.jobs.shift()?.reject(e);
      this.replace(slot);
    });
    // A worker gone without an error event (not one this pool stopped): its job must not wait forever.
    worker.on("exit", (code) => {
      if (this.closed || !this.slots.includes(slot)) return;
      slot.jobs.shift()?.reject(new Error(`evaluation worker exited (code ${code})`));
      this.replace(slot);
    });
    this.slots.push(slot);
    return slot;
  }

  /** Jobs to a worker, in one message (it answers each in turn). */
  private send(slot: Slot, batch: readonly Pending[]): void {
    slot.worker.postMessage(batch.map((p) => p.job));
    if (batch.includes(slot.jobs[0]!)) this.startDeadline(slot);
  }

  /**
   * The deadline of the slot's first job: from when it was sent, or from when
   * the job before it answered (it waited in the worker's port until then).
   */
  private startDeadline(slot: Slot): void {
    const pending = slot.jobs[0];
    if (this.options.timeoutMs === undefined || !pending || slot.timer) return;
    slot.timer = setTimeout(() => {
      // Like an epoch deadline in policy-server: the evaluation is stopped, not awaited.
      slot.timer = null;
      slot.jobs.shift();
      pending.resolve({ exitCode: null, stdout: new Uint8Array(), stderr: "", trap: "deadline exceeded", reused: false, timedOut: true });
      this.replace(slot); // replaces the worker; the jobs that waited behind this one go first
    }, this.options.timeoutMs);
  }

  private replace(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    void slot.worker.terminate();
    this.slots = this.slots.filter((s) => s !== slot);
    // Jobs that waited in its port were not run: they go to another worker, first.
    this.queue.unshift(...slot.jobs.splice(0));
    if (!this.closed) this.pump();
    else for (const p of this.queue.splice(0)) p.reject(new Error("evaluation pool closed"));
  }
}
