/**
 * Where the CLI finds things: its own package (version, bundled modules) and
 * the module a `--policy` flag names — a file path, a bundled policy name, or a
 * `registry://` reference pulled into a local cache.
 *
 * Paths are resolved relative to the package, never the current directory, so
 * an installed `loopback-probes` works from any folder. The same code runs as
 * TypeScript in a checkout (src/cli/) and bundled in the npm package (lib/), so
 * the package root is found by walking up to our package.json rather than by a
 * fixed number of "..".
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { type ClientOptions, dockerConfigCredentials, parseReference } from "../toolchain/oci.js";
import { pullToCache } from "../toolchain/oci-files.js";
import { isWasm } from "../toolchain/wasm-binary.js";
import { UsageError } from "./command.js";

export const PACKAGE_NAME = "loopback-probe-policies";

/** The folder holding our package.json (the repository root in a checkout). */
export const packageRoot: string = (() => {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${import.meta.dirname}`);
  }
})();

export const packageJson = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
  name: string;
  version: string;
  description: string;
  license: string;
  homepage?: string;
};

/** Modules built by `make build` in a checkout, or at pack time into the npm package. */
export const BUNDLED_MODULES_DIR = join(packageRoot, "dist");

/** The bundled module of a shipped policy, e.g. `reject-loopback-probes`. */
export function bundledModule(policy: string): string {
  return join(BUNDLED_MODULES_DIR, `${policy}.wasm`);
}

export const POLICIES_DIR = "policies";

/** Every folder under `root` that has a policy.ts (policy sources exist only in a checkout). */
export function policyDirs(root = POLICIES_DIR): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => join(root, n))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, "policy.ts")))
    .sort();
}

/** `$LOOPBACK_PROBES_CACHE`, else `$XDG_CACHE_HOME/loopback-probes`, else `~/.cache/loopback-probes`. */
export function cacheDir(): string {
  if (process.env.LOOPBACK_PROBES_CACHE) return process.env.LOOPBACK_PROBES_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "loopback-probes");
}


export interface ModuleSource {
  bytes: Uint8Array;
  /** What to call the module in messages: the path or the reference. */
  label: string;
}

/**
 * Read a module named by a path or pulled from `registry://HOST/REPO[:TAG|@sha256:…]`.
 *
 * Pulls go through pullToCache (src/toolchain/oci-files.ts) into cacheDir()/oci:
 * manifest digest when pinned, layer digest and size always; a digest-pinned
 * reference is served from the cache without the network once its bytes re-hash
 * to their digest; a tag is mutable, so it is resolved against the registry every time.
 * Credentials come from the docker config (as for `pull`) unless given.
 */
export async function loadModuleSource(spec: string, options: ClientOptions = {}): Promise<ModuleSource> {
  if (!spec.startsWith("registry://")) {
    const bytes = readModuleFile(spec);
    if (!isWasm(bytes)) throw new UsageError(`${spec} is not a WebAssembly module (no \\0asm header)`, false);
    return { bytes, label: spec };
  }
  let ref;
  try {
    ref = parseReference(spec);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // The one call into the registry client: pullToCache verifies every digest and
  // size, keys the cache by digest, re-hashes cached files before reuse, and serves
  // a digest-pinned reference without the network once cached.
  let pulled;
  try {
    pulled = await pullToCache(spec, { cacheDir: join(cacheDir(), "oci"), credentials: dockerConfigCredentials(ref.registry), ...options });
  } catch (e) {
    const cause = (e as Error & { cause?: { message?: string } }).cause?.message;
    throw new UsageError(`cannot pull ${spec}: ${(e as Error).message}${cause ? ` (${cause})` : ""}`, false);
  }
  return { bytes: new Uint8Array(readFileSync(pulled.path)), label: `${spec} (${pulled.digest})` };
}

function readModuleFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UsageError(`${path} not found${path.startsWith(BUNDLED_MODULES_DIR) ? ": build the policies first (make build)" : ""}`, false);
    throw new UsageError(`cannot read module ${path}: ${e instanceof Error ? e.message : String(e)}`, false);
  }
}
