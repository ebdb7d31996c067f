/**
 * `loopback-probes bench`: like `kwctl bench`, time validate-settings and
 * validate over many evaluations in one process, a fresh instance each time (as
 * policy-server does), next to two references built by the same toolchain:
 * the floor (the protocol layer with an empty policy) and the same policy in
 * Javy semantics (its top level runs in every _start instead of at build time).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { availableParallelism, tmpdir } from "node:os";
import { AuditQueue, type AuditResult } from "../audit/evaluate.js";
import { readManifestsParallel } from "../audit/read-parallel.js";
import { buildPolicy } from "../toolchain/build.js";
import { EvaluationPool } from "../toolchain/evaluation-pool.js";
import { DEFAULT_TIMEOUT_SECONDS, type Engine, ENGINES, loadPolicy } from "../toolchain/evaluate.js";
import { compileModule, runWasi, type WasiResult } from "../toolchain/wasi-runner.js";
import { runWasmtime, WASMTIME_VERSION } from "../toolchain/wasmtime-runner.js";
import { sourceHash } from "../toolchain/source-hash.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { BENCH_HELP, BENCH_SUMMARY, MIX_ITERATIONS } from "./bench-help.js";
import { benchMix, trafficMix } from "./bench-mix.js";
import { inTurns } from "./turns.js";
import { fleetYaml } from "./fleet.js";
import { engineError, parseEngine, parseTimeout, readSettings } from "./run.js";
import { MAX_REQUEST_BYTES, SHAPES, shapeCase } from "./worst-case.js";
import { MAX_ANSWER_BYTES } from "../kubewarden/bounded.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const CACHE = join(ROOT, ".cache", "bench");
const FLOOR_DIR = join(ROOT, "src", "toolchain", "floor-policy");
/** Real manifests the traffic mix reads when present (the project's corpus, beside the clone). */
const DEFAULT_MIX_DIR = join(ROOT, "..", "shared", "corpus");
/** Evaluations per request and module of the single-request table. */
const DEFAULT_ITERATIONS = 200;

interface Variant {
  label: string;
  path: string;
}

async function buildVariants(policyDir: string, log: (s: string) => void): Promise<Variant[]> {
  mkdirSync(CACHE, { recursive: true });
  const name = basename(policyDir);
  const hash = sourceHash(ROOT, ["src/analysis", "src/kubewarden", "src/toolchain", "policies", "package-lock.json"]);
  const stampPath = join(CACHE, `${name}.sha256`);
  const variants: (Variant & { dir: string; mode: "preevaluated" | "javy" })[] = [
    { label: `${name}`, path: join(CACHE, "pre", `${name}.wasm`), dir: policyDir, mode: "preevaluated" },
    { label: `${name} (javy semantics)`, path: join(CACHE, "javy", `${name}.wasm`), dir: policyDir, mode: "javy" },
    { label: "floor (empty policy)", path: join(CACHE, "pre", "floor-policy.wasm"), dir: FLOOR_DIR, mode: "preevaluated" },
  ];
  const fresh = existsSync(stampPath) && readFileSync(stampPath, "utf8") === hash && variants.every((v) => existsSync(v.path));
  if (!fresh) {
    for (const v of variants) {
      log(`building ${v.label}…`);
      mkdirSync(join(v.path, ".."), { recursive: true });
      await buildPolicy(v.dir, join(v.path, ".."), { mode: v.mode });
    }
    writeFileSync(stampPath, hash);
  }
  return variants.map(({ label, path }) => ({ label, path }));
}

/** A deterministic ~1 MB StatefulSet: many containers with env, args and probes. */
export function largeWorkloadRequest(targetBytes = 1024 * 1024): unknown {
  const containers: unknown[] = [];
  const object = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "large", namespace: "bench" }, spec: { serviceName: "large", template: { metadata: {}, spec: { containers } } } };
  let i = 0;
  while (JSON.stringify(object).length < targetBytes) {
    containers.push({
      name: `c${i}`,
      image: `registry.example.com/team/app-${i}:1.0.${i}`,
      args: [`--listen-address=${i % 3 === 0 ? "127.0.0.1" : "0.0.0.0"}:${8000 + (i % 100)}`, `--config=/etc/app/${i}.yaml`, "--log.level=info"],
      env: Array.from({ length: 10 }, (_, j) => ({ name: `VAR_${j}`, value: `value-${i}-${j}-${"x".repeat(40)}` })),
      ports: [{ name: "http", containerPort: 8000 + (i % 100) }],
      readinessProbe: { httpGet: { path: "/ready", port: "http", scheme: "HTTP" }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
    });
    i++;
  }
  return { uid: "bench-large", kind: { group: "apps", version: "v1", kind: "StatefulSet" }, resource: { group: "apps", version: "v1", resource: "statefulsets" }, operation: "CREATE", object };
}

interface Stats {
  min: number;
  median: number;
  p90: number;
}
function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
  return { min: s[0]!, median: at(0.5), p90: at(0.9) };
}

interface Measurement {
  engine: Engine;
  variant: string;
  request: string;
  phase: "validate-settings" | "validate";
  total: Stats;
  start: Stats;
  /** wasm instructions executed (wasmtime fuel), for validate under wasmtime. */
  fuel?: number;
  /** An evaluation hit the --timeout deadline (policy-server would answer 500): no timings. */
  deadline?: boolean;
}

/** A variant's timings on one input, or "deadline" when a run hit it (the row says so instead). */
type TurnResult = { total: Stats; start: Stats } | "deadline";

/** Every variant on one input, in turns (turns.ts); a variant that hits the deadline stops there. */
async function measureInTurns(
  engine: Engine,
  variants: readonly Variant[],
  action: "validate" | "validate-settings",
  stdin: Uint8Array,
  iterations: number,
  timeoutSeconds: number | null,
): Promise<TurnResult[]> {
  const runs = await Promise.all(
    variants.map(async (variant) => {
      const bytes = new Uint8Array(readFileSync(variant.path));
      const module = engine === "node" ? await compileModule(bytes) : null;
      return async (): Promise<{ total: number; start: number } | "stop"> => {
        const r: WasiResult & { interrupted?: boolean } = module ? await runWasi(module, action, stdin) : await runWasmtime(bytes, action, stdin, { timeoutSeconds });
        if (r.interrupted) return "stop";
        if (r.exitCode !== 0) throw new Error(`${variant.label}: ${action} failed: ${r.trap ?? r.stderr}`);
        return { total: r.instantiateMs + r.startMs, start: r.startMs };
      };
    }),
  );
  const warmup = Math.min(20, Math.max(3, Math.floor(iterations / 10)));
  return (await inTurns(runs, iterations, warmup)).map(({ results, stopped }) =>
    stopped ? "deadline" : { total: stats(results.map((r) => r.total)), start: stats(results.map((r) => r.start)) },
  );
}

const fmt = (n: number) => n.toFixed(3).padStart(8);

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
        mix: { type: "string" },
        "worst-case": { type: "boolean" },
        shape: { type: "string", multiple: true },
        size: { type: "string" },
      },
      false,
    );
    if (values["worst-case"]) return benchWorstCase(values.policy, values.shape, values.size, parseTimeout(values.timeout));
    if (values.shape !== undefined || values.size !== undefined) throw new UsageError("--shape and --size go with --worst-case");
    values.policy ??= "policies/reject-loopback-probes";
    if (values.fleet !== undefined) return benchFleet(values.fleet, resolve(values.policy), parseTimeout(values.timeout), readSettings(values));
    const engines = [...new Set((values.engine ?? [...ENGINES].reverse()).map((e) => parseEngine(e, "node")))];
    const timeoutSeconds = parseTimeout(values.timeout);
    const iterations = Number(values.iterations ?? DEFAULT_ITERATIONS);
    if (!Number.isInteger(iterations) || iterations < 1) throw new UsageError(`--iterations must be a positive integer, got ${values.iterations}`);
    const policyDir = resolve(values.policy);
    if (!existsSync(join(policyDir, "policy.ts"))) throw new UsageError(`${values.policy} is not a policy folder`);
    const settings = readSettings(values);
    // Checked before minutes of measuring, not after them.
    if (values.mix !== undefined && values.mix !== "none" && !existsSync(values.mix)) throw new UsageError(`--mix ${values.mix}: no such file or folder`);
    const requests: { label: string; request: unknown }[] = [];
    // Default traffic: the broken seed case, and the clean requests a cluster mostly sends
    // (bench/requests: a GitOps Deployment CREATE and UPDATE, a ReplicaSet-created Pod).
    const cleanDir = join(ROOT, "bench", "requests");
    const paths = values["request-path"] ?? [
      join(policyDir, "test_data", "prometheus-listenlocal-broken.json"),
      ...(existsSync(cleanDir) ? readdirSync(cleanDir).filter((f) => f.endsWith(".json")).sort().map((f) => join(cleanDir, f)) : []),
    ];
    for (const p of paths) {
      if (!existsSync(p)) throw new UsageError(`request ${p} not found`);
      requests.push({ label: basename(p), request: JSON.parse(readFileSync(p, "utf8")) });
    }
    if (!values["request-path"]) requests.push({ label: "generated 1 MB StatefulSet", request: largeWorkloadRequest() });

    const variants = await buildVariants(policyDir, (s) => console.error(s));
    // buildVariants' order: the policy, its Javy-semantics build, the floor.
    const [policyVariant, javyVariant, floorVariant] = variants as [Variant, Variant, Variant];
    const results: Measurement[] = [];
    for (const req of requests) {
      const validateInput = new TextEncoder().encode(JSON.stringify({ request: req.request, settings }));
      const settingsInput = new TextEncoder().encode(JSON.stringify(settings));
      console.error(`request ${req.label}: ${(validateInput.length / 1024).toFixed(1)} KiB on stdin`);
      for (const engine of engines) {
        console.error(`  ${engine}: policy and floor in turns, then the Javy-semantics build, ${iterations} evaluations each…`);
        for (const [phase, input] of [["validate-settings", settingsInput], ["validate", validateInput]] as const) {
          // The policy and the floor take turns; the Javy-semantics build (10–100× slower, only
          // compared with the policy) runs on its own after them: among the three, whichever module
          // followed it more often would run with colder caches and look slower.
          let measured: TurnResult[];
          try {
            const [p, f] = await measureInTurns(engine, [policyVariant, floorVariant], phase, input, iterations, timeoutSeconds);
            const [j] = await measureInTurns(engine, [javyVariant], phase, input, iterations, timeoutSeconds);
            measured = [p!, j!, f!];
          } catch (e) {
            engineError(e);
          }
          for (let k = 0; k < variants.length; k++) {
            const v = variants[k]!;
            const m = measured[k]!;
            const row = { engine, variant: v.label, request: req.label, phase };
            const fuel = engine === "wasmtime" && (phase === "validate" || m === "deadline") ? ((await runWasmtime(new Uint8Array(readFileSync(v.path)), phase, input, { fuel: true })).fuel ?? undefined) : undefined;
            const none = { min: NaN, median: NaN, p90: NaN };
            results.push({ ...row, ...(m === "deadline" ? { total: none, start: none, deadline: true } : m), ...(fuel === undefined ? {} : { fuel }) });
          }
        }
      }
    }

    const width = Math.max(...variants.map((v) => v.label.length));
    console.log(`node ${process.version}, engines: ${engines.map((e) => (e === "wasmtime" ? `wasmtime ${WASMTIME_VERSION}` : "node:wasi")).join(", ")}; ${iterations} evaluations each, fresh instance per evaluation; times in ms`);
    for (const req of requests)
      for (const engine of engines) {
        console.log(`\n${req.label} — ${engine === "wasmtime" ? `wasmtime ${WASMTIME_VERSION}` : "node:wasi"}`);
        console.log(`  ${"module".padEnd(width)}  ${"phase".padEnd(17)}  ${"total min".padStart(9)} ${"median".padStart(8)} ${"p90".padStart(8)}   ${"_start min".padStart(10)} ${"median".padStart(8)} ${"p90".padStart(8)}${engine === "wasmtime" ? "   wasm instructions" : ""}`);
        // One module's rows together, as before the modules took turns.
        const rows = variants.flatMap((v) => results.filter((r) => r.request === req.label && r.engine === engine && r.variant === v.label));
        for (const m of rows) {
          const times = m.deadline
            ? `${`hit the ${timeoutSeconds} s deadline: policy-server answers 500`.padEnd(56)}`
            : `${fmt(m.total.min).padStart(9)} ${fmt(m.total.median)} ${fmt(m.total.p90)}   ${fmt(m.start.min).padStart(10)} ${fmt(m.start.median)} ${fmt(m.start.p90)}`;
          console.log(`  ${m.variant.padEnd(width)}  ${m.phase.padEnd(17)}  ${times}${m.fuel === undefined ? "" : `   ${m.fuel.toLocaleString("en-US").padStart(17)}`}`);
        }
        const median = (label: string) => results.find((r) => r.request === req.label && r.engine === engine && r.variant === label && r.phase === "validate")!.start.median;
        const [policy, javy, floor] = [median(policyVariant.label), median(javyVariant.label), median(floorVariant.label)];
        const fuelOf = (label: string) => results.find((r) => r.request === req.label && r.engine === engine && r.variant === label && r.phase === "validate")?.fuel;
        const [policyFuel, floorFuel] = [fuelOf(policyVariant.label), fuelOf(floorVariant.label)];
        const instructions = policyFuel !== undefined && floorFuel !== undefined ? `; wasm instructions policy / floor = ${(policyFuel / floorFuel).toFixed(2)}×` : "";
        console.log(`  ratios (validate _start median): policy / floor = ${(policy / floor).toFixed(2)}×, javy semantics / policy = ${(javy / policy).toFixed(2)}×${instructions}`);
      }
    console.log("\nmodule sizes:");
    for (const v of variants) console.log(`  ${v.label.padEnd(width)}  ${(readFileSync(v.path).length / 1e6).toFixed(3)} MB (${readFileSync(v.path).length} bytes)`);

    // The traffic mix: real workloads (../shared/corpus when present, or --mix DIR) and the policy's violating test_data.
    const mixDir = values.mix ?? (existsSync(DEFAULT_MIX_DIR) ? DEFAULT_MIX_DIR : undefined);
    if (mixDir === undefined) console.log(`
traffic mix skipped: no ${DEFAULT_MIX_DIR} (--mix DIR reads workloads from a folder of manifests)`);
    else if (values.mix !== "none") {
      const mix = trafficMix(resolve(mixDir), policyDir);
      console.error(`traffic mix: ${mix.length} requests from ${mixDir} and ${basename(policyDir)}/test_data`);
      console.log("");
      await benchMix({
        requests: mix,
        policy: variants[0]!,
        floor: variants[2]!,
        engines,
        iterations: values.iterations === undefined ? MIX_ITERATIONS : iterations,
        log: (line) => console.error(line),
        print: (line) => console.log(line),
      });
    }
    return 0;
  },
};

/**
 * `bench --fleet N`: the audit's read + evaluate throughput on a generated fleet,
 * through the audit's own pipeline: the YAML read on worker threads, each object
 * evaluated on the evaluation pool as soon as it is read.
 */
async function benchFleet(count: string, policyDir: string, timeoutSeconds: number | null, settings: unknown): Promise<number> {
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--fleet must be a positive whole number of objects, got ${count}`);
  if (!existsSync(join(policyDir, "policy.ts"))) throw new UsageError(`${policyDir} is not a policy folder`);
  const [variant] = await buildVariants(policyDir, (s) => console.error(s));
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
    const pool = new EvaluationPool({ [name]: policy.bytes }, timeoutSeconds === null ? {} : { timeoutMs: timeoutSeconds * 1000 });
    const queue = new AuditQueue({ validators: [{ name, policy, settings }], pool });
    let results: AuditResult[];
    let t1: number;
    try {
      const manifests = await readManifestsParallel([file], {
        onObjects: (objects) => {
          if (Number.isNaN(firstObjects)) firstObjects = performance.now();
          queue.add(objects);
        },
        onThreads: (threads) => {
          readers = threads;
          pool.warm();
        },
      });
      t1 = performance.now();
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
    console.log(`threads: ${readers} reading (${readers === 0 ? "input below the threshold: read on the main thread" : "worker threads"}), ${pool.threads} evaluating; ${availableParallelism()} cores`);
    console.log(`end to end ${seconds(t2)} s: ${Math.round(n / ((t2 - t0) / 1000))} objects/s`);
    console.log(`  read      0.00–${seconds(t1)} s (objects stream to evaluation from ${seconds(firstObjects)} s)`);
    console.log(`  evaluate  ${seconds(firstObjects)}–${seconds(t2)} s (${evaluated} objects evaluated, ${n - evaluated} not selected by the policy's rules)`);
    console.log(`CPU ${cpuSeconds.toFixed(2)} s over ${seconds(t2)} s wall = ${(cpuSeconds / ((t2 - t0) / 1000)).toFixed(2)} cores busy; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
    return failed === fleet.broken ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `text` broken at spaces into lines of at most `width` characters, each indented. */

/** The probe policies `bench --worst-case` measures by default. */
const WORST_CASE_POLICIES = ["policies/reject-loopback-probes", "policies/rewrite-loopback-probes"];

/** Just the policy module (no Javy-semantics or floor variants), cached like buildVariants'. */
async function buildPolicyOnly(policyDir: string): Promise<string> {
  const name = basename(policyDir);
  const dir = join(CACHE, "worst-case");
  const path = join(dir, `${name}.wasm`);
  const stampPath = join(dir, `${name}.sha256`);
  const hash = sourceHash(ROOT, ["src/analysis", "src/kubewarden", "src/toolchain", "policies", "package-lock.json"]);
  if (!(existsSync(path) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === hash)) {
    console.error(`building ${name}…`);
    mkdirSync(dir, { recursive: true });
    await buildPolicy(policyDir, dir);
    writeFileSync(stampPath, hash);
  }
  return path;
}

/**
 * `bench --worst-case`: every adversarial shape at the API server's request
 * limit, under wasmtime as policy-server runs it. Instructions come from a fuel
 * run (exact, machine-independent); wall time and the deadline from a run with
 * the epoch deadline and no fuel, as policy-server configures wasmtime.
 */
async function benchWorstCase(policy: string | undefined, shapes: string[] | undefined, size: string | undefined, timeoutSeconds: number | null): Promise<number> {
  const targetBytes = size === undefined ? MAX_REQUEST_BYTES : Number(size);
  if (!Number.isInteger(targetBytes) || targetBytes < 1000) throw new UsageError(`--size must be a whole number of bytes ≥ 1000, got ${size}`);
  const known = SHAPES.map((s) => s.name);
  for (const s of shapes ?? []) if (!known.includes(s)) throw new UsageError(`unknown shape ${s}; shapes: ${known.join(", ")}`);
  const policyDirs = (policy === undefined ? WORST_CASE_POLICIES : [policy]).map((p) => resolve(p));
  for (const dir of policyDirs) if (!existsSync(join(dir, "policy.ts"))) throw new UsageError(`${dir} is not a policy folder`);
  const modules: { name: string; bytes: Uint8Array }[] = [];
  for (const dir of policyDirs) modules.push({ name: basename(dir), bytes: new Uint8Array(readFileSync(await buildPolicyOnly(dir))) });
  const selected = shapes ?? known;
  const deadline = timeoutSeconds === null ? "no deadline" : `${timeoutSeconds} s deadline`;
  console.log(`worst-case requests of at most ${targetBytes} bytes under wasmtime ${WASMTIME_VERSION}, ${deadline} (an interrupt after ${timeoutSeconds === null ? "—" : `${Math.max(0, timeoutSeconds - 1)}–${timeoutSeconds} s`}); answers limited to ${MAX_ANSWER_BYTES} bytes`);
  const header = `  ${"shape".padEnd(22)} ${"request B".padStart(9)} ${"instructions".padStart(15)} ${"instr/B".padStart(7)} ${"wall ms".padStart(8)} ${"answer B".padStart(8)}  ${"answer".padEnd(8)} deadline`;
  let failed = 0;
  for (const module of modules) {
    console.log(`\n${module.name}`);
    console.log(header);
    try {
      // Compile (cached) and warm up on a small request, so no row pays for it.
      await runWasmtime(module.bytes, "validate", shapeCase(selected[0]!, 2000).stdin, { timeoutSeconds });
    } catch (e) {
      engineError(e);
    }
    for (const shape of selected) {
      const { stdin } = shapeCase(shape, targetBytes);
      const counted = await runWasmtime(module.bytes, "validate", stdin, { fuel: true });
      const timed = await runWasmtime(module.bytes, "validate", stdin, { timeoutSeconds });
      const outOfFuel = counted.fuel === null || (counted.trap !== undefined && /fuel/i.test(counted.trap));
      const instructions = outOfFuel ? "> fuel budget" : counted.fuel!.toLocaleString("en-US");
      const perByte = outOfFuel ? "—" : (counted.fuel! / stdin.length).toFixed(0);
      // The answer as the fuel run gave it (no deadline): what policy-server would get in time on a faster machine.
      const answered = outOfFuel ? timed : counted;
      let verdict = "—";
      if (!answered.interrupted && answered.exitCode === 0) {
        try {
          const answer = JSON.parse(new TextDecoder().decode(answered.stdout)) as { accepted?: boolean; mutated_object?: unknown };
          verdict = answer.accepted === false ? "rejected" : answer.mutated_object !== undefined ? "mutated" : "accepted";
        } catch {
          verdict = "not JSON";
        }
      }
      const met = !timed.interrupted && timed.exitCode === 0 && timed.trap === undefined;
      const tooLarge = answered.stdout.length > MAX_ANSWER_BYTES;
      if (!met || tooLarge) failed++;
      const answerBytes = verdict === "—" ? "—" : String(answered.stdout.length);
      const status = timed.interrupted ? "MISSED: interrupted, policy-server answers 500" : met ? "met" : `FAILED: ${timed.trap ?? `exit ${timed.exitCode}`}`;
      console.log(`  ${shape.padEnd(22)} ${String(stdin.length).padStart(9)} ${instructions.padStart(15)} ${perByte.padStart(7)} ${timed.startMs.toFixed(0).padStart(8)} ${answerBytes.padStart(8)}${tooLarge ? "!" : " "} ${verdict.padEnd(8)} ${status}`);
    }
  }
  return failed === 0 ? 0 : 1;
}
