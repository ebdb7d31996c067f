/**
 * `bench --corpus DIR`: the offline audit of a folder of real manifests as a user
 * runs it (`loopback-probes audit -f json DIR`, process start included), beside
 * its floor — js-yaml parsing the same files on one thread, parse only — and the
 * audit's own reading of them alone (what the audit cannot go below), then the
 * generated fleet audited the same way. They take turns for --rounds rounds, so
 * machine noise hits them alike; each row is its median, with the spread.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { loadValidatingPolicies } from "../audit/policies.js";
import { manifestFiles } from "../audit/read.js";
import { type WholeObjects, wholeObjectsFor } from "../audit/selection.js";
import { startWorker } from "../toolchain/evaluation-pool.js";
import type { ReadAloneRun } from "./read-alone-worker.js";
import { fleetYaml } from "./fleet.js";
import { ROOT } from "./modules.js";

const CLI = join(ROOT, "bin", "loopback-probes.js");
const USAGE_HOOK = join(ROOT, "src", "bench", "process-usage.mjs");

export interface CorpusBench {
  dir: string;
  /** The validating modules the audits use (`audit --bundle`); default: dist/, what `make build` writes. */
  bundle?: string;
  rounds: number;
  /** Objects of the generated fleet audited end to end after the corpus. */
  fleetObjects: number;
  log: (line: string) => void;
  print: (line: string) => void;
}

interface AuditRun {
  seconds: number;
  /** CPU time of the whole process (every thread), user + system. */
  cpuSeconds: number;
  peakMiB: number;
  objects: number;
  exitCode: number;
}

/**
 * `loopback-probes audit -f json PATH` in a new process (`cli`: another
 * checkout's, to compare; `bundle`: its --bundle), its output read from a pipe
 * as a script would.
 */
export async function auditProcess(path: string, scratch: string, cli = CLI, bundle?: string): Promise<AuditRun> {
  const usageFile = join(scratch, "process-usage.json");
  rmSync(usageFile, { force: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", USAGE_HOOK, cli, "audit", "-f", "json", ...(bundle === undefined ? [] : ["--bundle", bundle]), path], {
    env: { ...process.env, LPP_BENCH_USAGE_FILE: usageFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const exitCode = await new Promise<number>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => done(code ?? -1));
  });
  const seconds = (performance.now() - t0) / 1000;
  let objects: number;
  try {
    objects = (JSON.parse(Buffer.concat(out).toString("utf8")) as { summary: { objects: number } }).summary.objects;
  } catch {
    throw new Error(`audit -f json ${path} exited ${exitCode} without a JSON report: ${Buffer.concat(err).toString("utf8").slice(0, 2000)}`);
  }
  const usage = JSON.parse(readFileSync(usageFile, "utf8")) as { maxRssKiB: number; cpuMicroseconds: number };
  return { seconds, cpuSeconds: usage.cpuMicroseconds / 1e6, peakMiB: usage.maxRssKiB / 1024, objects, exitCode };
}

/**
 * The floor: js-yaml (a kept library, no positions, no checks) loading every
 * document of `files` on one thread, in a fresh worker (its own heap and JIT, as
 * a new process would have); the files are read before the clock starts. Its
 * CPU is the process's over the same span (this thread waits meanwhile: what
 * is counted is the worker's and V8's threads compiling and collecting for it).
 */
export async function parseFloor(files: readonly string[]): Promise<{ seconds: number; cpuSeconds: number; documents: number; failed: number }> {
  const jsYaml = createRequire(import.meta.url).resolve("js-yaml");
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { readFileSync } = require("node:fs");
    const yaml = require(workerData.jsYaml);
    const texts = workerData.files.map((f) => readFileSync(f, "utf8"));
    let documents = 0, failed = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const text of texts) {
      try { yaml.loadAll(text, () => { documents++; }); } catch { failed++; }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    parentPort.postMessage({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, documents, failed });`;
  return answerOf(new Worker(code, { eval: true, workerData: { files, jsYaml } }), "the floor");
}

/** A measuring thread's one answer (its failure, or its end without one, an error), the thread stopped after. */
async function answerOf<T>(worker: Worker, what: string): Promise<T> {
  try {
    return await new Promise<T>((done, fail) => {
      worker.once("message", done);
      worker.once("error", fail);
      worker.once("exit", (code) => fail(new Error(`${what}'s thread exited (${code}) without an answer`)));
    });
  } finally {
    await worker.terminate();
  }
}

/**
 * The audit's reading of `dir` alone (read-alone-worker.ts), in a fresh thread:
 * objects the bundled policies do not select kept as their identity, as the
 * audit keeps them. Started from its TypeScript source (bundled by esbuild, as
 * any worker entry is outside the compiled CLI): `bench` runs in a checkout.
 */
export async function readAlone(dir: string, keep: WholeObjects): Promise<ReadAloneRun> {
  const entry = pathToFileURL(join(ROOT, "src", "bench", "read-alone-worker.ts")).href;
  return answerOf<ReadAloneRun>(startWorker(entry, { paths: [dir], keep }), "the reading alone");
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const spread = (values: readonly number[], digits: number) => (values.length > 1 ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})` : "");

export async function benchCorpus(options: CorpusBench): Promise<number> {
  const { dir, rounds, fleetObjects, log, print } = options;
  const walked = manifestFiles([dir], [], []).files;
  if (walked.length === 0) throw new Error(`${dir} holds no manifest file (.yaml, .yml, .json)`);
  const bytes = walked.reduce((n, f) => n + readFileSync(f).length, 0);
  const scratch = mkdtempSync(join(tmpdir(), "lpp-bench-corpus-"));
  try {
    const fleet = fleetYaml(fleetObjects);
    const fleetFile = join(scratch, "fleet.yaml");
    writeFileSync(fleetFile, fleet.text);
    const bundle = options.bundle ?? join(ROOT, "dist");
    const policies = await loadValidatingPolicies(bundle);
    if (policies.length === 0) throw new Error(`no validating modules in ${bundle}: build them first (make build)`);
    // The reading alone keeps whole what the audit keeps whole: the objects these modules' rules select.
    const keep = wholeObjectsFor(policies.map((p) => p.policy.metadata));
    const floor: { seconds: number; cpuSeconds: number; documents: number; failed: number }[] = [];
    const reading: ReadAloneRun[] = [];
    const corpus: AuditRun[] = [];
    const fleetRuns: AuditRun[] = [];
    const load = loadavg()[0]!;
    for (let round = 1; round <= rounds; round++) {
      log(`round ${round}/${rounds}: js-yaml floor, reading alone, audit of ${dir}, audit of the ${fleetObjects}-object fleet…`);
      floor.push(await parseFloor(walked));
      reading.push(await readAlone(dir, keep));
      corpus.push(await auditProcess(dir, scratch, CLI, bundle));
      fleetRuns.push(await auditProcess(fleetFile, scratch, CLI, bundle));
    }
    const floorS = median(floor.map((r) => r.seconds));
    const readingS = median(reading.map((r) => r.seconds));
    const corpusS = median(corpus.map((r) => r.seconds));
    const corpusCpuS = median(corpus.map((r) => r.cpuSeconds));
    const fleetS = median(fleetRuns.map((r) => r.seconds));
    const corpusObjects = corpus[0]!.objects;
    const cores = availableParallelism();
    const seconds = (runs: readonly { seconds: number }[]) => `${median(runs.map((r) => r.seconds)).toFixed(2)} s${spread(runs.map((r) => r.seconds), 2)}`;
    const cpu = (runs: readonly { cpuSeconds: number }[]) => `CPU ${median(runs.map((r) => r.cpuSeconds)).toFixed(2)} s`;
    const peak = (runs: readonly AuditRun[]) => `peak RSS ${Math.round(median(runs.map((r) => r.peakMiB)))} MiB${spread(runs.map((r) => r.peakMiB), 0)}`;
    print(`node ${process.version}, ${cores} cores, load average ${load.toFixed(2)} at the start; median of ${rounds} interleaved round${rounds === 1 ? "" : "s"} (min–max); CPU: user + system of every thread`);
    print(`\n${dir}: ${walked.length} files, ${(bytes / 1e6).toFixed(1)} MB`);
    print(`  floor: js-yaml parse only, one thread   ${seconds(floor)}, ${cpu(floor)}  (${floor[0]!.documents} documents, ${floor[0]!.failed} files it rejects; files already in memory)`);
    print(`  reading alone, as the audit reads       ${seconds(reading)} = ${(readingS / floorS).toFixed(2)}× the floor, ${cpu(reading)}  (${reading[0]!.objects} objects, ${reading[0]!.whole} of them more than their identity, ${reading[0]!.errors} bad documents; files opened and read, no evaluation, no process start)`);
    print(`  audit -f json, process start included   ${seconds(corpus)} = ${(corpusS / floorS).toFixed(2)}× the floor, ${cpu(corpus)}; ${corpusObjects} objects = ${Math.round(corpusObjects / corpusS)} objects/s; ${peak(corpus)}; exit ${corpus[0]!.exitCode}`);
    // However well the threads overlap, the wall time cannot be below the CPU time spread over every core.
    print(`  the audit's CPU over ${cores} cores: no less than ${(corpusCpuS / cores).toFixed(2)} s of wall = ${(corpusCpuS / cores / floorS).toFixed(2)}× the floor, however its threads overlap`);
    print(`\ngenerated fleet: ${fleetObjects} objects, ${(fleet.text.length / 1e6).toFixed(1)} MB of YAML in one file`);
    print(`  audit -f json, process start included   ${seconds(fleetRuns)} = ${Math.round(fleetObjects / fleetS)} objects/s, ${cpu(fleetRuns)}; ${peak(fleetRuns)}; exit ${fleetRuns[0]!.exitCode}`);
    // The same reading as the audit's, or the row above measures something else.
    const wrongReading = reading.find((r) => r.objects !== corpusObjects);
    if (wrongReading) throw new Error(`reading alone found ${wrongReading.objects} objects where the audit reported ${corpusObjects}`);
    const wrongFleet = fleetRuns.find((r) => r.objects !== fleetObjects);
    if (wrongFleet) throw new Error(`the fleet audit reported ${wrongFleet.objects} objects, not ${fleetObjects}`);
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
