/**
 * Vitest global setup: every shipped policy and every test policy built with the
 * real toolchain, so end-to-end tests exercise exactly the artifacts a user
 * would ship. The builds come from the module cache `make build` and `npm pack`
 * share (src/toolchain/module-cache.ts): built once per change of their inputs,
 * two at a time (2-core CI), with a line per module while they run. The tests
 * read them from .cache/test-wasm/ (a copy of the cache folders in use).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { policyDirs } from "../../src/cli/module-source.js";
import { cachedModules, MODULE_INPUTS, type ModuleJob } from "../../src/toolchain/module-cache.js";

const ROOT = join(import.meta.dirname, "..", "..");
const OUT = join(ROOT, ".cache", "test-wasm");
/** What the test modules are built from (the test policies besides the shipped ones). */
export const BUILD_INPUTS = [...MODULE_INPUTS, "tests/fixtures/policies"];

export default async function setup(): Promise<void> {
  const shipped = policyDirs(join(ROOT, "policies"));
  // Policies that declare a native pre-check are also built with it forced off
  // (<name>.no-precheck.wasm): tests/e2e/native-precheck.test.ts compares both.
  const precheckOff = shipped.filter((d) => /Precheck\(/.test(readFileSync(join(d, "policy.ts"), "utf8")));
  const progress = (line: string) => process.stderr.write(`test modules: ${line}\n`);
  const policies: ModuleJob[] = [
    ...shipped.map((dir) => ({ dir })),
    { dir: join(ROOT, "src", "toolchain", "floor-policy") },
    ...precheckOff.map((dir) => ({ dir, name: `${basename(dir)}.no-precheck`, nativePrecheck: false })),
  ];
  const fixtures: ModuleJob[] = policyDirs(join(ROOT, "tests", "fixtures", "policies")).map((dir) => ({ dir }));
  // The shipped policies' folder is keyed by their inputs alone (make build and npm pack use the
  // same one); the test policies' also by tests/fixtures/policies.
  const sets = [
    { jobs: policies, dir: (await cachedModules(ROOT, policies, { parallel: 2, progress })).dir },
    { jobs: fixtures, dir: (await cachedModules(ROOT, fixtures, { parallel: 2, progress, extraInputs: ["tests/fixtures/policies"] })).dir },
  ];
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const set of sets) for (const job of set.jobs) copyFileSync(join(set.dir, `${job.name ?? basename(job.dir)}.wasm`), join(OUT, `${job.name ?? basename(job.dir)}.wasm`));
  if (readdirSync(OUT).length !== policies.length + fixtures.length) throw new Error(`test modules: expected ${policies.length + fixtures.length} in ${OUT}`);
}

