/**
 * Vitest global setup: build every shipped policy and every test policy with the
 * real toolchain into .cache/test-wasm/, so end-to-end tests exercise exactly
 * the artifacts a user would ship. Runs the builds two at a time (2-core CI).
 */
import { mkdirSync, readdirSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildPolicy } from "../../src/toolchain/build.js";

const ROOT = join(import.meta.dirname, "..", "..");
const OUT = join(ROOT, ".cache", "test-wasm");

function policyFolders(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => join(root, n))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, "policy.ts")));
}

export default async function setup(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const folders = [...policyFolders(join(ROOT, "policies")), ...policyFolders(join(ROOT, "tests", "fixtures", "policies"))];
  const queue = [...folders];
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      for (let dir = queue.shift(); dir; dir = queue.shift()) await buildPolicy(dir, OUT);
    }),
  );
  console.log(`built ${folders.length} modules for the tests in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
