/**
 * `bench --fleet N`: the audit's read + evaluate throughput on a generated fleet,
 * in this process (no process start; the end-to-end figure is `bench --corpus`'s):
 * through the audit's own pipeline, the YAML read on worker threads, each object
 * evaluated on the evaluation pool as soon as it is read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { availableParallelism, tmpdir } from "node:os";
import { AuditQueue, type AuditResult, evaluationThreadsWhileReading } from "../audit/evaluate.js";
import { defaultReaderThreads, readManifestsParallel } from "../audit/read-parallel.js";
import { EvaluationPool } from "../toolchain/evaluation-pool.js";
import { loadPolicy } from "../toolchain/evaluate.js";
import { tierForShortRuns } from "../toolchain/v8-tiering.js";
import { fleetYaml } from "./fleet.js";
import { buildVariants } from "./modules.js";

export async function benchFleet(n: number, policyDir: string, timeoutSeconds: number | null, settings: unknown): Promise<number> {
  const [variant] = await buildVariants(policyDir, (s) => console.error(s));
  // As the audit runs the modules (after the build, which may run binaryen's own wasm at full speed).
  tierForShortRuns();
  const name = basename(policyDir);
  const policy = await loadPolicy(new Uint8Array(readFileSync(variant!.path)));
  const dir = mkdtempSync(join(tmpdir(), "lpp-fleet-"));
  try {
    const fleet = fleetYaml(n);
    const file = join(dir, "fleet.yaml");
    writeFileSync(file, fleet.text);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let firstObjects = NaN;
    let readers = 0;
    // Sized as the audit sizes it: while the main thread reads, its core is left to it.
    const startThreads = evaluationThreadsWhileReading(defaultReaderThreads());
    const pool = new EvaluationPool({ [name]: policy.bytes }, { ...(startThreads === undefined ? {} : { startThreads }), ...(timeoutSeconds === null ? {} : { timeoutMs: timeoutSeconds * 1000 }) });
    const queue = new AuditQueue({ validators: [{ name, policy, settings }], pool });
    let results: AuditResult[];
    let t1: number;
    // The evaluation threads start now (with no reader threads, nothing else would start them before the first object).
    pool.warm();
    try {
      const manifests = await readManifestsParallel([file], {
        onObjects: (objects) => {
          if (Number.isNaN(firstObjects)) firstObjects = performance.now();
          queue.add(objects);
        },
        onThreads: (threads) => (readers = threads),
      });
      t1 = performance.now();
      queue.readingEnded();
      results = await queue.results(manifests.objects);
    } finally {
      await pool.close();
    }
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const seconds = (t: number) => ((t - t0) / 1000).toFixed(2);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const failed = results.filter((r) => r.status === "fail").length;
    const evaluated = results.filter((r) => r.skipReason !== "not-selected").length;
    console.log(`fleet: ${n} objects, ${(fleet.text.length / 1e6).toFixed(1)} MB of YAML, ${fleet.broken} bind loopback; ${failed} failed`);
    console.log(`threads: ${readers} reading (${readers === 0 ? "read on the main thread: the default on up to 2 cores, or an input below the threshold" : "worker threads"}), ${pool.started} evaluating (${startThreads ?? pool.threads} while reading, up to ${pool.threads}); ${availableParallelism()} cores`);
    console.log(`end to end ${seconds(t2)} s: ${Math.round(n / ((t2 - t0) / 1000))} objects/s`);
    console.log(`  read      0.00–${seconds(t1)} s (objects stream to evaluation from ${seconds(firstObjects)} s)`);
    console.log(`  evaluate  ${seconds(firstObjects)}–${seconds(t2)} s (${evaluated} objects evaluated, ${n - evaluated} not selected by the policy's rules)`);
    console.log(`CPU ${cpuSeconds.toFixed(2)} s over ${seconds(t2)} s wall = ${(cpuSeconds / ((t2 - t0) / 1000)).toFixed(2)} cores busy; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
    return failed === fleet.broken ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
