/**
 * An evaluation thread's entry (started by evaluation-pool.ts): it compiles the
 * modules it is given once (or takes them compiled), then answers jobs in order
 * with pooled instances (pooled-runner.ts): they come in batches, each answered
 * by a message of its own (the pool's deadline for a job starts when the job
 * before it answers).
 */
import { parentPort, workerData } from "node:worker_threads";
import { compilePooled, PooledModule } from "./pooled-runner.js";

export interface PoolJob {
  module: string;
  action: string;
  stdin: Uint8Array;
  /** Stop the run at its first host call, unanswered (see PooledRunOptions.deferHostCalls); else every call is refused. */
  deferHostCalls?: boolean;
}

async function serveJobs(): Promise<void> {
  const data = workerData as { modules: Record<string, WebAssembly.Module | Uint8Array> };
  const modules = new Map<string, PooledModule>();
  for (const [name, module] of Object.entries(data.modules)) modules.set(name, new PooledModule(module instanceof WebAssembly.Module ? module : await compilePooled(module)));
  parentPort!.on("message", (jobs: PoolJob[]) => {
    for (const job of jobs) {
      const m = modules.get(job.module);
      if (!m) {
        parentPort!.postMessage({ error: `unknown module ${job.module}` });
        continue;
      }
      try {
        parentPort!.postMessage({ result: m.run(job.action, job.stdin, job.deferHostCalls ? { deferHostCalls: true } : {}) });
      } catch (e) {
        parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
      }
    }
  });
  parentPort!.postMessage({ ready: true });
}

serveJobs().catch((e: unknown) => parentPort!.postMessage({ fatal: e instanceof Error ? e.message : String(e) }));
