/**
 * `bench --corpus DIR`: the offline audit of a folder of real manifests as a user
 * runs it (`loopback-probes audit -f json DIR`, process start included), beside
 * its floor — js-yaml parsing the same files on one thread, parse only — and the
 * generated fleet audited the same way. The three take turns for --rounds rounds,
 * so machine noise hits them alike; each row is its median, with the spread.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { manifestFiles } from "../audit/read.js";
import { fleetYaml } from "./fleet.js";
import { ROOT } from "./modules.js";

const CLI = join(ROOT, "bin", "loopback-probes.js");
const PEAK_RSS_HOOK = join(ROOT, "src", "bench", "peak-rss.mjs");

export interface CorpusBench {
  dir: string;
  rounds: number;
  /** Objects of the generated fleet audited end to end after the corpus. */
  fleetObjects: number;
  log: (line: string) => void;
  print: (line: string) => void;
}

interface AuditRun {
  seconds: number;
  peakMiB: number;
  objects: number;
  exitCode: number;
}

/** `loopback-probes audit -f json PATH` in a new process (`cli`: another checkout's, to compare), its output read from a pipe as a script would. */
export async function auditProcess(path: string, scratch: string, cli = CLI): Promise<AuditRun> {
  const rssFile = join(scratch, "peak-rss");
  rmSync(rssFile, { force: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", PEAK_RSS_HOOK, cli, "audit", "-f", "json", path], {
    env: { ...process.env, LPP_BENCH_PEAK_RSS_FILE: rssFile },
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
  return { seconds, peakMiB: Number(readFileSync(rssFile, "utf8")) / 1024, objects, exitCode };
}

/**
 * The floor: js-yaml (a kept library, no positions, no checks) loading every
 * document of `files` on one thread, in a fresh worker (its own heap and JIT, as
 * a new process would have); the files are read before the clock starts.
 */
export async function parseFloor(files: readonly string[]): Promise<{ seconds: number; documents: number; failed: number }> {
  const jsYaml = createRequire(import.meta.url).resolve("js-yaml");
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { readFileSync } = require("node:fs");
    const yaml = require(workerData.jsYaml);
    const texts = workerData.files.map((f) => readFileSync(f, "utf8"));
    let documents = 0, failed = 0;
    const t0 = performance.now();
    for (const text of texts) {
      try { yaml.loadAll(text, () => { documents++; }); } catch { failed++; }
    }
    parentPort.postMessage({ seconds: (performance.now() - t0) / 1000, documents, failed });`;
  const worker = new Worker(code, { eval: true, workerData: { files, jsYaml } });
  try {
    return await new Promise((done, fail) => {
      worker.once("message", done);
      worker.once("error", fail);
    });
  } finally {
    await worker.terminate();
  }
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
    const floor: { seconds: number; documents: number; failed: number }[] = [];
    const corpus: AuditRun[] = [];
    const fleetRuns: AuditRun[] = [];
    const load = loadavg()[0]!;
    for (let round = 1; round <= rounds; round++) {
      log(`round ${round}/${rounds}: js-yaml floor, audit of ${dir}, audit of the ${fleetObjects}-object fleet…`);
      floor.push(await parseFloor(walked));
      corpus.push(await auditProcess(dir, scratch));
      fleetRuns.push(await auditProcess(fleetFile, scratch));
    }
    const floorS = median(floor.map((r) => r.seconds));
    const corpusS = median(corpus.map((r) => r.seconds));
    const fleetS = median(fleetRuns.map((r) => r.seconds));
    const corpusObjects = corpus[0]!.objects;
    print(`node ${process.version}, ${availableParallelism()} cores, load average ${load.toFixed(2)} at the start; median of ${rounds} interleaved round${rounds === 1 ? "" : "s"} (min–max)`);
    print(`\n${dir}: ${walked.length} files, ${(bytes / 1e6).toFixed(1)} MB`);
    print(`  floor: js-yaml parse only, one thread   ${floorS.toFixed(2)} s${spread(floor.map((r) => r.seconds), 2)}  (${floor[0]!.documents} documents, ${floor[0]!.failed} files it rejects)`);
    print(`  audit -f json, process start included   ${corpusS.toFixed(2)} s${spread(corpus.map((r) => r.seconds), 2)} = ${(corpusS / floorS).toFixed(2)}× the floor; ${corpusObjects} objects = ${Math.round(corpusObjects / corpusS)} objects/s; peak RSS ${Math.round(median(corpus.map((r) => r.peakMiB)))} MiB${spread(corpus.map((r) => r.peakMiB), 0)}; exit ${corpus[0]!.exitCode}`);
    print(`\ngenerated fleet: ${fleetObjects} objects, ${(fleet.text.length / 1e6).toFixed(1)} MB of YAML in one file`);
    print(`  audit -f json, process start included   ${fleetS.toFixed(2)} s${spread(fleetRuns.map((r) => r.seconds), 2)} = ${Math.round(fleetObjects / fleetS)} objects/s; peak RSS ${Math.round(median(fleetRuns.map((r) => r.peakMiB)))} MiB${spread(fleetRuns.map((r) => r.peakMiB), 0)}; exit ${fleetRuns[0]!.exitCode}`);
    const wrongFleet = fleetRuns.find((r) => r.objects !== fleetObjects);
    if (wrongFleet) throw new Error(`the fleet audit reported ${wrongFleet.objects} objects, not ${fleetObjects}`);
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
