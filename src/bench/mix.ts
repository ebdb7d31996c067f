/**
 * `loopback-probes bench --mix DIR`: the policy against the floor on a realistic
 * traffic mix — every workload of a folder of real manifests (read as `audit`
 * reads them, each sent as a CREATE) plus the policy's own violating test_data
 * requests — in one interleaved run: for each request, the policy and the floor
 * take turns, so machine noise hits both alike.
 *
 * Per engine it prints the geometric mean of policy / floor over the clean
 * requests (accepted without a word) and over the violating ones (rejected or
 * patched), and, under wasmtime, how many clean requests the native pre-check
 * answered (their instruction count is far below the floor's). Under wasmtime the ratio is of exact wasm
 * instruction counts (fuel); under node:wasi, of `_start` medians.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { auditRequest } from "../audit/evaluate.js";
import { readManifests } from "../audit/read.js";
import { podTemplateOf } from "../analysis/workload.js";
import type { Engine } from "../toolchain/evaluate.js";
import { compileModule, runWasi } from "../toolchain/wasi-runner.js";
import { runWasmtime } from "../toolchain/wasmtime-runner.js";
import { inTurns } from "./turns.js";

export interface MixRequest {
  label: string;
  stdin: Uint8Array;
}

/** The workloads of `dir` as validate requests with default settings, then the policy's violating test_data. */
export function trafficMix(dir: string, policyDir: string): MixRequest[] {
  const encoder = new TextEncoder();
  const out: MixRequest[] = [];
  const { objects } = readManifests([dir]);
  for (const o of objects) {
    if (podTemplateOf(o.object) === null) continue;
    out.push({ label: `${o.file}#${o.documentIndex + 1}`, stdin: encoder.encode(JSON.stringify({ request: auditRequest(o.object), settings: {} })) });
  }
  const testData = join(policyDir, "test_data");
  if (existsSync(testData))
    for (const f of readdirSync(testData).filter((f) => f.endsWith(".json")).sort())
      out.push({ label: `test_data/${f}`, stdin: encoder.encode(JSON.stringify({ request: JSON.parse(readFileSync(join(testData, f), "utf8")), settings: {} })) });
  return out;
}

/** How the policy answered: nothing to say, or something (a rejection, a patch, a warning). */
function verdict(stdout: Uint8Array): "clean" | "violating" {
  const answer = new TextDecoder().decode(stdout);
  return answer === '{"accepted":true}' ? "clean" : "violating";
}

export function geometricMean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += Math.log(v);
  return Math.exp(sum / values.length);
}

interface Row {
  verdict: "clean" | "violating";
  ratio: number;
  /** Under wasmtime: the policy cost less than a fifth of the floor's instructions, so it answered before JS (the native pre-check). */
  native: boolean;
}

async function measureOne(engine: Engine, policy: Uint8Array, policyModule: WebAssembly.Module, floor: Uint8Array, floorModule: WebAssembly.Module, stdin: Uint8Array, iterations: number): Promise<Row> {
  if (engine === "wasmtime") {
    const p = await runWasmtime(policy, "validate", stdin, { fuel: true });
    const f = await runWasmtime(floor, "validate", stdin, { fuel: true });
    if (p.exitCode !== 0 || f.exitCode !== 0) throw new Error(`a run failed: ${p.stderr.toString() || f.stderr.toString()}`);
    const ratio = p.fuel! / f.fuel!;
    return { verdict: verdict(p.stdout), ratio, native: ratio < 0.2 };
  }
  let answer: Uint8Array = new Uint8Array();
  const run = (module: WebAssembly.Module, isPolicy: boolean) => async (): Promise<number> => {
    const r = await runWasi(module, "validate", stdin);
    if (r.exitCode !== 0) throw new Error(`a run failed: ${r.stderr.toString()}`);
    if (isPolicy) answer = r.stdout;
    return r.startMs;
  };
  const [policyRuns, floorRuns] = await inTurns([run(policyModule, true), run(floorModule, false)], iterations, 2);
  const ps = policyRuns!.results;
  const fs = floorRuns!.results;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const ratio = median(ps) / median(fs);
  return { verdict: verdict(answer), ratio, native: ratio < 0.2 };
}

/** Run the mix; prints one summary block per engine. */
export async function benchMix(options: {
  requests: readonly MixRequest[];
  policy: { label: string; path: string };
  floor: { path: string };
  engines: readonly Engine[];
  iterations: number;
  log: (line: string) => void;
  print: (line: string) => void;
}): Promise<void> {
  const policy = new Uint8Array(readFileSync(options.policy.path));
  const floor = new Uint8Array(readFileSync(options.floor.path));
  const [policyModule, floorModule] = await Promise.all([compileModule(policy), compileModule(floor)]);
  for (const engine of options.engines) {
    const rows: Row[] = [];
    const t0 = performance.now();
    for (let i = 0; i < options.requests.length; i++) {
      if (i % 100 === 0) options.log(`  ${engine}: ${i}/${options.requests.length} requests…`);
      rows.push(await measureOne(engine, policy, policyModule, floor, floorModule, options.requests[i]!.stdin, options.iterations));
    }
    const clean = rows.filter((r) => r.verdict === "clean");
    const violating = rows.filter((r) => r.verdict === "violating");
    const unit = engine === "wasmtime" ? "wasm instructions (fuel)" : `_start medians of ${options.iterations} runs`;
    options.print(`traffic mix — ${engine === "wasmtime" ? "wasmtime" : "node:wasi"}, ${options.policy.label} / floor, ${unit} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    // Only instruction counts tell a native answer apart (times carry a fixed per-run overhead).
    const native = engine === "wasmtime" ? `   answered natively: ${clean.filter((r) => r.native).length}` : "";
    options.print(`  clean      ${String(clean.length).padStart(5)} requests   geometric mean ${geometricMean(clean.map((r) => r.ratio)).toFixed(2)}×${native}`);
    options.print(`  violating  ${String(violating.length).padStart(5)} requests   geometric mean ${geometricMean(violating.map((r) => r.ratio)).toFixed(2)}×`);
    options.print(`  all        ${String(rows.length).padStart(5)} requests   geometric mean ${geometricMean(rows.map((r) => r.ratio)).toFixed(2)}×`);
  }
}
