/**
 * One build of each module per change of what it is built from, shared by
 * `make build` (the CLI's `build`), `npm test` (tests/setup/build-modules.ts)
 * and `npm pack` (scripts/pack.ts): a build takes ~30 s per module, and the
 * three used to build the same bytes three times.
 *
 * The cache is content-addressed: `.cache/modules/<hash>/<name>.wasm`, where
 * <hash> digests the names and bytes of every input (MODULE_INPUTS, plus the
 * extra folders a caller builds from, e.g. the test policies). A build is
 * byte-reproducible, so a module found there is exactly what building again
 * would give. Each module is written to a temporary name and renamed, so an
 * interrupted build leaves no half module; only the newest few hash folders
 * are kept.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { basename, join } from "node:path";
import { buildPolicy } from "./build.js";
import { sourceHash } from "./source-hash.js";

/**
 * What a module is built from, relative to the repository root: the analysis,
 * the Kubewarden adapter, the build steps of the toolchain (not its runners,
 * OCI client or evaluation code: editing those rebuilds nothing), the policies
 * and the locked tool versions.
 */
export const MODULE_INPUTS = [
  "src/analysis",
  "src/kubewarden",
  ...["build.ts", "glue.ts", "prelude.js", "tools.ts", "wasm-binary.ts", "metadata.ts", "capabilities.ts", "host-calls.ts", "floor-policy"].map((f) => `src/toolchain/${f}`),
  "policies",
  "package-lock.json",
];

/** Hash folders kept (the newest by use): a branch switch back and forth rebuilds nothing. */
const KEEP = 4;

/** `$LOOPBACK_PROBES_MODULE_CACHE`, else `<root>/.cache/modules`. */
export function moduleCacheRoot(root: string): string {
  return process.env.LOOPBACK_PROBES_MODULE_CACHE || join(root, ".cache", "modules");
}

/** The folder that holds (or will hold) the modules built from the current inputs. */
export function moduleCacheDir(root: string, extraInputs: readonly string[] = []): string {
  return join(moduleCacheRoot(root), sourceHash(root, [...MODULE_INPUTS, ...extraInputs]).slice(0, 32));
}

export interface ModuleJob {
  /** The policy folder. */
  dir: string;
  /** Output name without .wasm (default: the folder's name). */
  name?: string;
  /** false: the policy's native pre-check forced off (differential tests). */
  nativePrecheck?: boolean;
}

export interface CachedModules {
  dir: string;
  /** Names that had to be built now (the others were in the cache). */
  built: string[];
}

/**
 * Make sure every job's module is in the cache folder of the current inputs,
 * building the missing ones `parallel` at a time. `progress` hears one line
 * per module as it starts and ends (builds take minutes: say so while they run).
 */
export async function cachedModules(
  root: string,
  jobs: readonly ModuleJob[],
  options: { extraInputs?: readonly string[]; parallel?: number; progress?: (line: string) => void } = {},
): Promise<CachedModules> {
  const dir = moduleCacheDir(root, options.extraInputs);
  mkdirSync(dir, { recursive: true });
  const now = new Date();
  utimesSync(dir, now, now); // "used": pruning keeps the folders used last
  const missing = jobs.filter((j) => !existsSync(join(dir, `${j.name ?? basename(j.dir)}.wasm`)));
  const built: string[] = [];
  const total = missing.length;
  let started = 0;
  const queue = [...missing];
  const t0 = performance.now();
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const name = job.name ?? basename(job.dir);
      const t1 = performance.now();
      options.progress?.(`building ${name} (${++started} of ${total}: inputs changed)…`);
      // Build under a temporary name in the same folder, then rename: never a half-written module.
      const temp = `${name}.partial-${process.pid}`;
      const r = await buildPolicy(job.dir, dir, { name: temp, ...(job.nativePrecheck === false ? { nativePrecheck: false } : {}) });
      renameSync(r.output, join(dir, `${name}.wasm`));
      built.push(name);
      options.progress?.(`built ${name}: ${(r.bytes / 1024).toFixed(0)} KiB in ${((performance.now() - t1) / 1000).toFixed(1)} s (${built.length} of ${total} done)`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel ?? 1, total)) }, worker));
  if (total > 0) options.progress?.(`built ${total} module${total === 1 ? "" : "s"} in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${dir}`);
  prune(moduleCacheRoot(root));
  return { dir, built };
}

/** Keep the KEEP hash folders used last. */
function prune(cacheRoot: string): void {
  let entries: { path: string; used: number }[];
  try {
    entries = readdirSync(cacheRoot).map((n) => ({ path: join(cacheRoot, n), used: statSync(join(cacheRoot, n)).mtimeMs }));
  } catch {
    return;
  }
  entries.sort((a, b) => b.used - a.used);
  for (const old of entries.slice(KEEP)) rmSync(old.path, { recursive: true, force: true });
}
