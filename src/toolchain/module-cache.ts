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
import { basename, dirname, join } from "node:path";
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
  /** Paths besides MODULE_INPUTS the module is built from, e.g. the test policies (part of its folder's key). */
  extraInputs?: readonly string[];
}

export interface CachedModules {
  dir: string;
  /** Names that had to be built now (the others were in the cache). */
  built: string[];
}

export interface CachedModuleOptions {
  /** Builds at a time (each is one CPU-bound process at a time: one per core). */
  parallel?: number;
  /** One line per module as it starts and ends (builds take minutes: say so while they run). */
  progress?: (line: string) => void;
  /** Hears each job as soon as its module is in the cache: at once when it was there, else when built. */
  onReady?: (job: ModuleJob, path: string) => void;
}

/**
 * Make sure every job's module is in the cache folder of the current inputs,
 * building the missing ones `parallel` at a time.
 */
export async function cachedModules(root: string, jobs: readonly ModuleJob[], options: CachedModuleOptions & { extraInputs?: readonly string[] } = {}): Promise<CachedModules> {
  const extraInputs = options.extraInputs ?? [];
  const { built } = await cachedModuleSet(root, jobs.map((job) => ({ ...job, extraInputs })), options);
  return { dir: moduleCacheDir(root, extraInputs), built };
}

/**
 * cachedModules for jobs of different inputs (the shipped policies and the test
 * policies) in one queue, so that no build waits for another set to finish:
 * taken in the order given (the caller puts first what is needed first).
 * Resolves with every job's module path; after a failed build no other starts,
 * and the call rejects with that failure once the builds in flight have ended.
 */
export async function cachedModuleSet(root: string, jobs: readonly ModuleJob[], options: CachedModuleOptions = {}): Promise<{ paths: string[]; built: string[] }> {
  const dirs = new Map<string, string>();
  const dirOf = (job: ModuleJob) => {
    const key = JSON.stringify(job.extraInputs ?? []);
    let dir = dirs.get(key);
    if (dir === undefined) {
      dir = moduleCacheDir(root, job.extraInputs);
      mkdirSync(dir, { recursive: true });
      const now = new Date();
      utimesSync(dir, now, now); // "used": pruning keeps the folders used last
      dirs.set(key, dir);
    }
    return dir;
  };
  const nameOf = (job: ModuleJob) => job.name ?? basename(job.dir);
  const paths = jobs.map((job) => join(dirOf(job), `${nameOf(job)}.wasm`));
  const missing: number[] = [];
  for (const [i, job] of jobs.entries()) {
    if (existsSync(paths[i]!)) options.onReady?.(job, paths[i]!);
    else missing.push(i);
  }
  const built: string[] = [];
  const missing0 = [...missing];
  const total = missing.length;
  let started = 0;
  let failed = false;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = missing.shift(); i !== undefined && !failed; i = missing.shift()) {
      const job = jobs[i]!;
      const name = nameOf(job);
      const t1 = performance.now();
      options.progress?.(`building ${name} (${++started} of ${total}: inputs changed)…`);
      try {
        // Build under a temporary name in the same folder, then rename: never a half-written module.
        const temp = `${name}.partial-${process.pid}`;
        const r = await buildPolicy(job.dir, dirname(paths[i]!), { name: temp, ...(job.nativePrecheck === false ? { nativePrecheck: false } : {}) });
        renameSync(r.output, paths[i]!);
        built.push(name);
        options.progress?.(`built ${name}: ${(r.bytes / 1024).toFixed(0)} KiB in ${((performance.now() - t1) / 1000).toFixed(1)} s (${built.length} of ${total} done)`);
      } catch (e) {
        failed = true;
        options.progress?.(`building ${name} failed`);
        throw e;
      }
      options.onReady?.(job, paths[i]!);
    }
  };
  // Every build in flight ends before a failure is reported: no build outlives the call.
  const ends = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(options.parallel ?? 1, total)) }, worker));
  for (const end of ends) if (end.status === "rejected") throw end.reason;
  const into = [...new Set(missing0.map((i) => dirname(paths[i]!)))];
  if (total > 0) options.progress?.(`built ${total} module${total === 1 ? "" : "s"} in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${into.join(", ")}`);
  prune(moduleCacheRoot(root));
  return { paths, built };
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
