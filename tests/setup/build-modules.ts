/**
 * Vitest global setup: build every shipped policy and every test policy with the
 * real toolchain into .cache/test-wasm/, so end-to-end tests exercise exactly
 * the artifacts a user would ship. Runs the builds two at a time (2-core CI).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { policyDirs } from "../../src/cli/build.js";
import { buildPolicy } from "../../src/toolchain/build.js";
import { sourceHash } from "../../src/toolchain/source-hash.js";

const ROOT = join(import.meta.dirname, "..", "..");
const OUT = join(ROOT, ".cache", "test-wasm");
/** What a module is built from: the runners and evaluation code are not among it, so editing them rebuilds nothing. */
export const BUILD_INPUTS = [
  "src/analysis",
  "src/kubewarden",
  ...["build.ts", "glue.ts", "prelude.js", "tools.ts", "wasm-binary.ts", "metadata.ts", "floor-policy"].map((f) => `src/toolchain/${f}`),
  "policies",
  "tests/fixtures/policies",
  "package-lock.json",
];

export default async function setup(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const folders = [
    ...policyDirs(join(ROOT, "policies")),
    ...policyDirs(join(ROOT, "tests", "fixtures", "policies")),
    join(ROOT, "src", "toolchain", "floor-policy"),
  ];
  // Rebuilding takes ~10 s per module; skip it when no input changed since the last run.
  const stamp = join(OUT, "inputs.sha256");
  const hash = sourceHash(ROOT, BUILD_INPUTS);
  const built = folders.every((d) => existsSync(join(OUT, `${basename(d)}.wasm`)));
  if (built && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) {
    console.log(`test modules are up to date (${folders.length})`);
    return;
  }
  // Policies that declare a native pre-check are also built with it forced off
  // (<name>.no-precheck.wasm): tests/e2e/native-precheck.test.ts compares both.
  const precheckOff = policyDirs(join(ROOT, "policies")).filter((d) => /Precheck\(/.test(readFileSync(join(d, "policy.ts"), "utf8")));
  const jobs: (() => Promise<unknown>)[] = [
    ...folders.map((dir) => () => buildPolicy(dir, OUT)),
    ...precheckOff.map((dir) => () => buildPolicy(dir, OUT, { nativePrecheck: false, name: `${basename(dir)}.no-precheck` })),
  ];
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) await job();
    }),
  );
  writeFileSync(stamp, hash);
  console.log(`built ${folders.length + precheckOff.length} modules for the tests in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
