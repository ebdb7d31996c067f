/**
 * Vitest global setup: every shipped policy and every test policy built with the
 * real toolchain, so end-to-end tests exercise exactly the artifacts a user
 * would ship. The builds come from the module cache `make build` and `npm pack`
 * share (src/toolchain/module-cache.ts): built once per change of their inputs,
 * two at a time (2-core CI), in one queue, with a line per module while they run.
 * The tests read them from .cache/test-wasm/ (copies of the cache's modules).
 *
 * The tests start as soon as the shipped policies are there (after `make demo`,
 * at once); the test-only modules (the no-pre-check builds, the test policies,
 * the floor policy) keep building meanwhile, and a test that needs one waits
 * for it (tests/helpers.ts wasmPath). A fresh clone used to build those six
 * before any test ran, one minute and a half of the test run's seven on 2 cores,
 * while most test files need only the shipped policies.
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { policyDirs } from "../../src/cli/module-source.js";
import { cachedModuleSet, MODULE_INPUTS, type ModuleJob } from "../../src/toolchain/module-cache.js";
import { TEST_MODULES_FAILED, TEST_MODULES_LIST, TEST_WASM_DIR } from "./test-modules.js";

const ROOT = join(import.meta.dirname, "..", "..");
/** What the test modules are built from (the test policies besides the shipped ones). */
export const BUILD_INPUTS = [...MODULE_INPUTS, "tests/fixtures/policies"];

export default async function setup(): Promise<() => Promise<void>> {
  const shipped: ModuleJob[] = policyDirs(join(ROOT, "policies")).map((dir) => ({ dir }));
  // Policies that declare a native pre-check are also built with it forced off
  // (<name>.no-precheck.wasm): tests/e2e/native-precheck.test.ts, the longest file, compares both
  // from its first test on, so they come first.
  const precheckOff = shipped.filter(({ dir }) => /Precheck\(/.test(readFileSync(join(dir, "policy.ts"), "utf8")));
  // The test policies' cache folder is keyed by tests/fixtures/policies too (make build and npm pack use the other).
  const testOnly: ModuleJob[] = [
    ...precheckOff.map(({ dir }) => ({ dir, name: `${basename(dir)}.no-precheck`, nativePrecheck: false })),
    ...policyDirs(join(ROOT, "tests", "fixtures", "policies")).map((dir) => ({ dir, extraInputs: ["tests/fixtures/policies"] })),
    { dir: join(ROOT, "src", "toolchain", "floor-policy") },
  ];
  const nameOf = (job: ModuleJob) => job.name ?? basename(job.dir);
  rmSync(TEST_WASM_DIR, { recursive: true, force: true });
  mkdirSync(TEST_WASM_DIR, { recursive: true });
  writeFileSync(TEST_MODULES_LIST, `${JSON.stringify([...shipped, ...testOnly].map(nameOf))}\n`);

  let shippedLeft = shipped.length;
  let shippedReady: () => void = () => {};
  const shippedDone = new Promise<void>((resolve) => (shippedReady = resolve));
  if (shippedLeft === 0) shippedReady();
  const progress = (line: string) => process.stderr.write(`test modules: ${line}\n`);
  const all = cachedModuleSet(ROOT, [...shipped, ...testOnly], {
    parallel: 2,
    progress,
    onReady: (job, path) => {
      // Copied under a temporary name, then renamed: a waiting test never reads half a module.
      const out = join(TEST_WASM_DIR, `${nameOf(job)}.wasm`);
      copyFileSync(path, `${out}.partial`);
      renameSync(`${out}.partial`, out);
      if (shipped.includes(job) && --shippedLeft === 0) shippedReady();
    },
  });
  // A failed build: the tests waiting for a module stop with this message, and the run fails at teardown.
  all.catch((e: unknown) => writeFileSync(TEST_MODULES_FAILED, e instanceof Error ? (e.stack ?? e.message) : String(e)));
  await Promise.race([shippedDone, all]); // a failed build before the shipped policies are there stops the run here
  return async () => {
    await all;
  };
}
