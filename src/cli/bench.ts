/**
 * `loopback-probes bench`: the flags, checked before minutes of measuring, and
 * which benchmark of src/bench they run (requests and traffic mix, --fleet,
 * --corpus, --worst-case).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { benchCorpus } from "../bench/corpus.js";
import { CORPUS_FLEET_OBJECTS, CORPUS_ROUNDS, DEFAULT_ITERATIONS, MIX_ITERATIONS } from "../bench/defaults.js";
import { benchFleet } from "../bench/fleet-pipeline.js";
import { DEFAULT_CORPUS_DIR, ROOT } from "../bench/modules.js";
import { benchRequests, largeWorkloadRequest } from "../bench/requests.js";
import { MAX_REQUEST_BYTES, SHAPES } from "../bench/worst-case.js";
import { benchWorstCase } from "../bench/worst-case-table.js";
import { ENGINES } from "../toolchain/evaluate.js";
import { BENCH_HELP, BENCH_SUMMARY } from "./bench-help.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { engineError, parseEngine, parseTimeout, readSettings } from "./run.js";

/** The probe policies `bench --worst-case` measures by default. */
const WORST_CASE_POLICIES = ["policies/reject-loopback-probes", "policies/rewrite-loopback-probes"];

function policyFolder(path: string): string {
  const dir = resolve(path);
  if (!existsSync(join(dir, "policy.ts"))) throw new UsageError(`${path} is not a policy folder`);
  return dir;
}

function wholeNumber(flag: string, value: string | undefined, fallback: number, min: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be ${what}, got ${value}`);
  return n;
}

export const benchCommand: Command = {
  name: "bench",
  summary: BENCH_SUMMARY,
  help: BENCH_HELP,
  async run(argv) {
    const { values } = parseFlags(
      argv,
      {
        policy: { type: "string" },
        "request-path": { type: "string", multiple: true },
        iterations: { type: "string" },
        "settings-json": { type: "string" },
        "settings-path": { type: "string" },
        engine: { type: "string", multiple: true },
        timeout: { type: "string" },
        fleet: { type: "string" },
        corpus: { type: "string" },
        rounds: { type: "string" },
        mix: { type: "string" },
        "worst-case": { type: "boolean" },
        shape: { type: "string", multiple: true },
        size: { type: "string" },
      },
      false,
    );
    const modes = [values["worst-case"] ? "--worst-case" : "", values.fleet !== undefined ? "--fleet" : "", values.corpus !== undefined ? "--corpus" : ""].filter((m) => m !== "");
    if (modes.length > 1) throw new UsageError(`${modes.join(" and ")} are separate benchmarks: give one`);
    if (!values["worst-case"] && (values.shape !== undefined || values.size !== undefined)) throw new UsageError("--shape and --size go with --worst-case");
    if (values.corpus === undefined && values.rounds !== undefined) throw new UsageError("--rounds goes with --corpus");
    const timeoutSeconds = parseTimeout(values.timeout);
    try {
      if (values["worst-case"]) {
        const targetBytes = wholeNumber("--size", values.size, MAX_REQUEST_BYTES, 1000, "a whole number of bytes ≥ 1000");
        const known = SHAPES.map((s) => s.name);
        for (const s of values.shape ?? []) if (!known.includes(s)) throw new UsageError(`unknown shape ${s}; shapes: ${known.join(", ")}`);
        const policyDirs = (values.policy === undefined ? WORST_CASE_POLICIES : [values.policy]).map(policyFolder);
        return await benchWorstCase(policyDirs, values.shape ?? known, targetBytes, timeoutSeconds);
      }
      if (values.corpus !== undefined) {
        if (!existsSync(values.corpus)) throw new UsageError(`--corpus ${values.corpus}: no such file or folder`);
        const rounds = wholeNumber("--rounds", values.rounds, CORPUS_ROUNDS, 1, "a positive whole number");
        return await benchCorpus({ dir: resolve(values.corpus), rounds, fleetObjects: CORPUS_FLEET_OBJECTS, log: (s) => console.error(s), print: (s) => console.log(s) });
      }
      const policyDir = policyFolder(values.policy ?? "policies/reject-loopback-probes");
      const settings = readSettings(values);
      if (values.fleet !== undefined) {
        const n = wholeNumber("--fleet", values.fleet, 0, 1, "a positive whole number of objects");
        return await benchFleet(n, policyDir, timeoutSeconds, settings);
      }
      const engines = [...new Set((values.engine ?? [...ENGINES].reverse()).map((e) => parseEngine(e, "node")))];
      const iterations = wholeNumber("--iterations", values.iterations, DEFAULT_ITERATIONS, 1, "a positive integer");
      // Checked before minutes of measuring, not after them.
      if (values.mix !== undefined && values.mix !== "none" && !existsSync(values.mix)) throw new UsageError(`--mix ${values.mix}: no such file or folder`);
      // Default traffic: the broken seed case, and the clean requests a cluster mostly sends
      // (bench/requests: a GitOps Deployment CREATE and UPDATE, a ReplicaSet-created Pod).
      const cleanDir = join(ROOT, "bench", "requests");
      const paths = values["request-path"] ?? [
        join(policyDir, "test_data", "prometheus-listenlocal-broken.json"),
        ...(existsSync(cleanDir) ? readdirSync(cleanDir).filter((f) => f.endsWith(".json")).sort().map((f) => join(cleanDir, f)) : []),
      ];
      const requests: { label: string; request: unknown }[] = [];
      for (const p of paths) {
        if (!existsSync(p)) throw new UsageError(`request ${p} not found`);
        requests.push({ label: basename(p), request: JSON.parse(readFileSync(p, "utf8")) });
      }
      if (!values["request-path"]) requests.push({ label: "generated 1 MB StatefulSet", request: largeWorkloadRequest() });
      return await benchRequests({
        policyDir,
        requests,
        settings,
        engines,
        iterations,
        timeoutSeconds,
        mixDir: values.mix ?? (existsSync(DEFAULT_CORPUS_DIR) ? DEFAULT_CORPUS_DIR : undefined),
        mixIterations: values.iterations === undefined ? MIX_ITERATIONS : iterations,
      });
    } catch (e) {
      if (e instanceof UsageError) throw e;
      engineError(e);
    }
  },
};
