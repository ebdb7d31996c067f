/**
 * `loopback-probes bench` (default): like `kwctl bench`, time validate-settings and
 * validate over many evaluations in one process, a fresh instance each time (as
 * policy-server does), next to two references built by the same toolchain:
 * the floor (the protocol layer with an empty policy) and the same policy in
 * Javy semantics (its top level runs in every _start instead of at build time);
 * then the traffic mix (mix.ts).
 */
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Engine } from "../toolchain/evaluate.js";
import { compileModule, runWasi, type WasiResult } from "../toolchain/wasi-runner.js";
import { runWasmtime, WASMTIME_VERSION } from "../toolchain/wasmtime-runner.js";
import { benchMix, trafficMix } from "./mix.js";
import { buildVariants, DEFAULT_CORPUS_DIR, type Variant } from "./modules.js";
import { inTurns } from "./turns.js";

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

export interface RequestsBench {
  policyDir: string;
  requests: { label: string; request: unknown }[];
  settings: unknown;
  engines: Engine[];
  iterations: number;
  timeoutSeconds: number | null;
  /** The folder of manifests for the traffic mix; "none": no mix; undefined: none because the default corpus is missing (said so). */
  mixDir: string | undefined;
  mixIterations: number;
}

/** The single-request table, then the traffic mix; returns the exit code. */
export async function benchRequests(options: RequestsBench): Promise<number> {
  const { policyDir, requests, settings, engines, iterations, timeoutSeconds } = options;
  const variants = await buildVariants(policyDir, (s) => console.error(s));
  const [policyVariant, javyVariant, floorVariant] = variants;
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
        const [p, f] = await measureInTurns(engine, [policyVariant, floorVariant], phase, input, iterations, timeoutSeconds);
        const [j] = await measureInTurns(engine, [javyVariant], phase, input, iterations, timeoutSeconds);
        const measured: TurnResult[] = [p!, j!, f!];
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
  const mixDir = options.mixDir;
  if (mixDir === undefined) console.log(`
traffic mix skipped: no ${DEFAULT_CORPUS_DIR} (--mix DIR reads workloads from a folder of manifests)`);
  else if (mixDir !== "none") {
    const mix = trafficMix(resolve(mixDir), policyDir);
    console.error(`traffic mix: ${mix.length} requests from ${mixDir} and ${basename(policyDir)}/test_data`);
    console.log("");
    await benchMix({
      requests: mix,
      policy: variants[0]!,
      floor: variants[2]!,
      engines,
      iterations: options.mixIterations,
      log: (line) => console.error(line),
      print: (line) => console.log(line),
    });
  }
  return 0;
}
