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
import { dirname, join } from "node:path";
// The registry client and signature checks (node:https, TLS, ciphers: ~40 ms to load) are loaded
// when a registry:// module is asked for, not by every command that reads a module from a file.
import type { ClientOptions } from "../toolchain/oci.js";
import type { Verification } from "../toolchain/signatures.js";
import { KeyError, loadVerificationKey } from "../toolchain/signing-keys.js";
import { MAX_CONFIG_BYTES, parseVerificationConfig, type Signature, type VerificationConfig, VerificationConfigError } from "../toolchain/verification-config.js";
import { userCacheDir } from "../toolchain/user-cache.js";
import { isWasm } from "../toolchain/wasm-binary.js";
import { UsageError } from "./command.js";

export { isCheckout, PACKAGE_NAME, packageJson, packageRoot } from "./package-info.js";
import { packageRoot } from "./package-info.js";

/** Modules built by `make build` in a checkout, or at pack time into the npm package. */
export const BUNDLED_MODULES_DIR = join(packageRoot, "dist");

/** The bundled module of a shipped policy, e.g. `reject-loopback-probes`. */
export function bundledModule(policy: string): string {
  return join(BUNDLED_MODULES_DIR, `${policy}.wasm`);
}

/** Names of the bundled modules (built in a checkout, shipped in the package). */
export function bundledModuleNames(): string[] {
  if (!existsSync(BUNDLED_MODULES_DIR)) return [];
  return readdirSync(BUNDLED_MODULES_DIR)
    .filter((f) => f.endsWith(".wasm"))
    .map((f) => f.slice(0, -".wasm".length))
    .sort();
}

/**
 * A module named on the command line: a file that exists is that file; else a
 * bare name of a bundled policy (`reject-loopback-probes`) is its bundled module.
 */
export function moduleFile(spec: string): string {
  if (existsSync(spec) || !/^[a-z0-9][a-z0-9-]*$/.test(spec)) return spec;
  const bundled = bundledModule(spec);
  return existsSync(bundled) ? bundled : spec;
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
export const cacheDir = userCacheDir;


export interface ModuleSource {
  bytes: Uint8Array;
  /** What to call the module in messages: the path or the reference. */
  label: string;
}

/** kwctl's verification flags, for every command that loads a registry:// module. */
export const VERIFICATION_OPTIONS = {
  "verification-key": { type: "string", short: "k", multiple: true },
  "verification-annotation": { type: "string", short: "a", multiple: true },
  "verification-config-path": { type: "string" },
} as const;

export const VERIFICATION_HELP = `Signature verification (kwctl's flags; registry:// modules only):
  -k, --verification-key PUB.pem     a public key (PEM) that must have signed the module;
                                     repeatable: every key must
  -a, --verification-annotation K=V  an annotation each -k signature must carry in its
                                     payload's "optional"; repeatable
  --verification-config-path FILE    a Kubewarden verification config (allOf, anyOf with
                                     minimumMatches, pubKey entries; keyless entries are
                                     reported as needing kwctl or cosign, never passed)
  The reference is resolved to a digest once, that digest's signatures
  (sha256-<hex>.sig) are checked, and only that digest is pulled: a module that
  fails is never written, cached or run.`;

export class VerificationFailed extends Error {}

/** Where a verification config came from: kwctl flags or a file. */
export interface ModuleVerification {
  config: VerificationConfig;
  /** "-k cosign.pub" or the config path, for messages. */
  source: string;
}

function readSmallFile(path: string, what: string, limit: number): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  if (text.length > limit) throw new UsageError(`${what} ${path} is larger than ${limit} bytes`);
  return text;
}

/** KEY=VALUE pairs of -a (the first "=" splits; a later pair with the same KEY wins, as in kwctl). */
export function annotationPairs(values: readonly string[] | undefined, flag = "-a"): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const item of values ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag} takes KEY=VALUE, got "${item.slice(0, 60)}"`);
    pairs.push([item.slice(0, eq), item.slice(eq + 1)]);
  }
  return Object.fromEntries(pairs);
}

/**
 * The verification the flags ask for, as kwctl builds it: each -k is an allOf
 * pubKey entry carrying every -a; --verification-config-path reads a config and
 * excludes the other flags. Undefined when no flag is given.
 */
export function verificationFromFlags(values: { "verification-key"?: string[]; "verification-annotation"?: string[]; "verification-config-path"?: string }): ModuleVerification | undefined {
  const keys = values["verification-key"] ?? [];
  const annotations = annotationPairs(values["verification-annotation"]);
  const configPath = values["verification-config-path"];
  const flagsGiven = keys.length > 0 || Object.keys(annotations).length > 0;
  if (configPath !== undefined) {
    if (flagsGiven) throw new UsageError("--verification-config-path cannot be used together with -k/--verification-key or -a/--verification-annotation (put the keys and annotations in the config)");
    try {
      return { config: parseVerificationConfig(readSmallFile(configPath, "verification config", MAX_CONFIG_BYTES)), source: configPath };
    } catch (e) {
      if (e instanceof VerificationConfigError) throw new UsageError(`${configPath}: ${e.message}`);
      throw e;
    }
  }
  if (!flagsGiven) return undefined;
  if (keys.length === 0) throw new UsageError("-a/--verification-annotation needs -k/--verification-key: annotations are checked on the signatures of a key");
  const allOf: Signature[] = keys.map((path) => {
    const pem = readSmallFile(path, "verification key", 64 * 1024);
    try {
      loadVerificationKey(pem, path);
    } catch (e) {
      if (e instanceof KeyError) throw new UsageError(e.message);
      throw e;
    }
    // owner is informational in Kubewarden; the path names the key in messages.
    return { kind: "pubKey", key: pem, owner: path, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
  });
  return { config: { apiVersion: "v1", allOf }, source: keys.map((k) => `-k ${k}`).join(" ") };
}

/**
 * Verifies `spec` (registry:// only) and returns the verification; a failed one
 * throws VerificationFailed with every rule's outcome. Progress goes to stderr.
 */
export async function verifyModuleSource(spec: string, verification: ModuleVerification, options: ClientOptions): Promise<Verification> {
  if (!spec.startsWith("registry://")) throw new UsageError(`${spec}: signature verification needs a registry:// reference (signatures live in the registry, beside the module)`);
  const [{ OciError }, { formatVerification, SignatureError, verifyModule }] = await Promise.all([import("../toolchain/oci.js"), import("../toolchain/signatures.js")]);
  let result: Verification;
  try {
    result = await verifyModule(spec, verification.config, options);
  } catch (e) {
    if (e instanceof OciError || e instanceof SignatureError) {
      const cause = (e as Error & { cause?: { message?: string } }).cause?.message;
      throw new VerificationFailed(`cannot verify ${spec}: ${e.message}${cause ? ` (${cause})` : ""}`);
    }
    throw e;
  }
  const lines = formatVerification(result);
  if (!result.verified) throw new VerificationFailed(lines.join("\n"));
  console.error(lines.join("\n"));
  return result;
}

/**
 * Read a module named by a path, a bundled policy's name, or pulled from
 * `registry://HOST/REPO[:TAG|@sha256:…]`.
 *
 * Pulls go through pullToCache (src/toolchain/oci-files.ts) into cacheDir()/oci:
 * manifest digest when pinned, layer digest and size always; a digest-pinned
 * reference is served from the cache without the network once its bytes re-hash
 * to their digest; a tag is mutable, so it is resolved against the registry every time.
 * Credentials come from the docker config (as for `pull`) unless given.
 */
export async function loadModuleSource(spec: string, options: ClientOptions & { verification?: ModuleVerification | undefined } = {}): Promise<ModuleSource> {
  const { verification, ...clientOptions } = options;
  if (!spec.startsWith("registry://")) {
    if (verification) throw new UsageError(`${spec}: signature verification needs a registry:// reference (signatures live in the registry, beside the module)`);
    const bytes = readModuleFile(moduleFile(spec));
    if (!isWasm(bytes)) throw new UsageError(`${spec} is not a WebAssembly module (no \\0asm header)`, false);
    return { bytes, label: spec };
  }
  const [{ dockerConfigCredentials, parseReference }, { pullToCache }] = await Promise.all([import("../toolchain/oci.js"), import("../toolchain/oci-files.js")]);
  let ref;
  try {
    ref = parseReference(spec);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (verification) {
    // Verify first, then pull only the digest that was verified: a tag moved in between changes nothing.
    const verified = await verifyModuleSource(spec, verification, { credentials: dockerConfigCredentials(ref.registry), ...clientOptions });
    const loaded = await loadModuleSource(verified.immutable, clientOptions);
    return { ...loaded, label: `${spec} (${verified.digest}, signature verified)` };
  }
  // The one call into the registry client: pullToCache verifies every digest and
  // size, keys the cache by digest, re-hashes cached files before reuse, and serves
  // a digest-pinned reference without the network once cached.
  let pulled;
  try {
    pulled = await pullToCache(spec, { cacheDir: join(cacheDir(), "oci"), credentials: dockerConfigCredentials(ref.registry), ...clientOptions });
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
    if (code === "ENOENT") {
      const names = bundledModuleNames();
      const hint = path.startsWith(BUNDLED_MODULES_DIR)
        ? ": build the policies first (make build)"
        : ` (a file path, registry://HOST/REPO[:TAG|@sha256:…], or a bundled module: ${names.length > 0 ? names.join(", ") : "none built here (make build)"})`;
      throw new UsageError(`${path} not found${hint}`, false);
    }
    throw new UsageError(`cannot read module ${path}: ${e instanceof Error ? e.message : String(e)}`, false);
  }
}
