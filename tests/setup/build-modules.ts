/**
 * Vitest global setup: build every shipped policy and every test policy with the
 * real toolchain into .cache/test-wasm/, so end-to-end tests exercise exactly
 * the artifacts a user would ship. Runs the builds two at a time (2-core CI).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
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

/** Every file that can change a built module: sources, policies, test policies, the lock file. */
function inputsHash(): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else hash.update(p).update(readFileSync(p));
    }
  };
  for (const dir of [join("src", "analysis"), join("src", "kubewarden"), join("src", "toolchain"), "policies", join("tests", "fixtures", "policies")]) walk(join(ROOT, dir));
  hash.update(readFileSync(join(ROOT, "package-lock.json")));
  return hash.digest("hex");
}

export default async function setup(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const folders = [...policyFolders(join(ROOT, "policies")), ...policyFolders(join(ROOT, "tests", "fixtures", "policies"))];
  // Rebuilding takes ~10 s per module; skip it when no input changed since the last run.
  const stamp = join(OUT, "inputs.sha256");
  const hash = inputsHash();
  const built = folders.every((d) => existsSync(join(OUT, `${d.split("/").pop()}.wasm`)));
  if (built && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) {
    console.log(`test modules are up to date (${folders.length})`);
    return;
  }
  const queue = [...folders];
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      for (let dir = queue.shift(); dir; dir = queue.shift()) await buildPolicy(dir, OUT);
    }),
  );
  writeFileSync(stamp, hash);
  console.log(`built ${folders.length} modules for the tests in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
