import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The user's cache folder for this CLI: `$LOOPBACK_PROBES_CACHE`, else
 * `$XDG_CACHE_HOME/loopback-probes`, else `~/.cache/loopback-probes`. Pulled
 * modules (oci/) and, for the installed package, the wasmtime engine live there.
 */
export function userCacheDir(): string {
  if (process.env.LOOPBACK_PROBES_CACHE) return process.env.LOOPBACK_PROBES_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "loopback-probes");
}
