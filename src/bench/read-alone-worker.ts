/**
 * `bench --corpus`'s "reading alone" row (started by corpus.ts in a fresh
 * thread, as the floor is: its own heap and JIT, as a new process would have):
 * the audit's reading of `paths` — walk, files, the fast reader and the yaml
 * package, objects no policy selects kept as their identity — with no
 * evaluation, no report, no process start. What the audit cannot go below,
 * however its evaluation overlaps. Its CPU is the process's over the same span
 * (the bench's thread waits meanwhile): this thread's and V8's threads
 * compiling and collecting for it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { readManifestsParallel } from "../audit/read-parallel.js";
import type { WholeObjects } from "../audit/selection.js";

export interface ReadAloneRun {
  seconds: number;
  cpuSeconds: number;
  objects: number;
  /** Objects kept with more than their identity (apiVersion, kind, metadata): those a policy selects. */
  whole: number;
  errors: number;
}

const IDENTITY = new Set(["apiVersion", "kind", "metadata"]);

const { paths, keep } = workerData as { paths: string[]; keep: WholeObjects };
const c0 = process.cpuUsage();
const t0 = performance.now();
const set = await readManifestsParallel(paths, { keep });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const whole = set.objects.filter((o) => Object.keys(o.object).some((k) => !IDENTITY.has(k))).length;
const run: ReadAloneRun = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, objects: set.objects.length, whole, errors: set.errors.length };
parentPort!.postMessage(run);
