/**
 * Where pulled modules land on disk: `pull -o FILE` and the module cache behind
 * `--policy registry://…`. Files appear whole or not at all (temp file in the same
 * folder, fsync, then rename or link), never through a symlink planted at the
 * target, and never over an existing file unless asked.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, type Stats, unlinkSync, writeSync } from "node:fs";
import { userCacheDir } from "./user-cache.js";
import { basename, dirname, join } from "node:path";
import { type ClientOptions, DEFAULT_MAX_MODULE_BYTES, MAX_MANIFEST_BYTES, OciError, parseReference, RegistryClient, resolveManifest, sha256, streamModule, wasmLayerOf } from "./oci.js";

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new OciError(`cannot inspect ${path}: ${(e as Error).message}`);
  }
}

/**
 * Writes a file from streamed chunks atomically. `produce` receives a writer; when it
 * resolves the file is synced and published at `target` (replacing what is there only
 * when `replace` is true — a symlink at the target is replaced, never followed); when
 * it throws, nothing is left behind.
 */
export async function writeAtomically(target: string, replace: boolean, produce: (write: (chunk: Uint8Array) => void) => Promise<void>): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.part`);
  let fd: number | null = null;
  try {
    try {
      // "wx": O_CREAT|O_EXCL, which also refuses to open through a symlink.
      fd = openSync(temp, "wx", 0o644);
    } catch (e) {
      throw new OciError(`cannot write in ${dirname(target)}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as Error).message}`);
    }
    const out = fd;
    await produce((chunk) => {
      for (let done = 0; done < chunk.length; ) done += writeSync(out, chunk, done, chunk.length - done);
    });
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    if (replace) {
      const existing = lstatOrNull(target);
      if (existing?.isDirectory()) throw new OciError(`${target} is a directory`);
      renameSync(temp, target);
      return;
    }
    try {
      // link() fails with EEXIST if anything (a file, a dangling symlink) appeared at the target meanwhile.
      linkSync(temp, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new OciError(`${target} already exists: pass --force to replace it`);
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw new OciError(`cannot write ${target}: ${(e as Error).message}`);
      // A filesystem without hard links: check, then rename (a small race, documented).
      if (lstatOrNull(target)) throw new OciError(`${target} already exists: pass --force to replace it`);
      renameSync(temp, target);
      return;
    }
    unlinkSync(temp);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}

export interface PullToFileOptions extends ClientOptions {
  /** Replace an existing file (or the symlink itself: never its target). */
  force?: boolean;
}

export interface PulledFile {
  /** The manifest digest we computed (equal to the reference's when it pins one). */
  digest: string;
  layerDigest: string;
  bytes: number;
}

/** Pulls a module straight to `target`, streaming and verifying; `target` appears only when all checks passed. */
export async function pullToFile(source: string, target: string, options: PullToFileOptions = {}): Promise<PulledFile> {
  const existing = lstatOrNull(target);
  if (existing && !options.force) throw new OciError(`${target} already exists: pass --force to replace it`);
  if (existing?.isDirectory()) throw new OciError(`${target} is a directory`);
  const client = new RegistryClient(parseReference(source), options);
  const { digest, layer } = await resolveManifest(client, options);
  // FILE's folders are created (as for every -o); a failed pull removes the ones it created.
  let created: string | undefined;
  try {
    created = mkdirSync(dirname(target), { recursive: true });
  } catch (e) {
    throw new OciError(`cannot create ${dirname(target)}: ${(e as Error).message}`);
  }
  try {
    await writeAtomically(target, options.force === true, (write) => streamModule(client, layer, write));
  } catch (e) {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw e;
  }
  return { digest, layerDigest: layer.digest, bytes: layer.size };
}

/** The user's cache (`$LOOPBACK_PROBES_CACHE`, `$XDG_CACHE_HOME/loopback-probes` or `~/.cache/loopback-probes`) + `oci`. */
export function defaultCacheDir(): string {
  return join(userCacheDir(), "oci");
}

export interface CacheOptions extends ClientOptions {
  /** Cache root (see defaultCacheDir); created when missing. */
  cacheDir: string;
}

export interface CachedModule {
  /** The verified module file inside the cache. Read it; do not modify it. */
  path: string;
  /** The manifest digest (computed; equal to the reference's when it pins one). */
  digest: string;
  layerDigest: string;
  /** True when the module bytes came from the cache rather than the registry. */
  reused: boolean;
}

const hexOf = (digest: string) => digest.slice("sha256:".length);

/** Reads a cache file if it is a regular file of at most `limit` bytes whose sha256 is `digest`. */
function readVerified(path: string, digest: string, limit: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > limit) return null;
    const bytes = readFileSync(fd);
    return sha256(bytes) === digest ? bytes : null;
  } finally {
    closeSync(fd);
  }
}

function dropQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}

/**
 * Pulls `registry://HOST/REPO[:TAG|@sha256:…]` into a content-addressed cache and returns
 * the verified module's path. Layout: `<cacheDir>/manifests/sha256/<hex>.json` (manifest
 * bytes) and `<cacheDir>/blobs/sha256/<hex>.wasm` (the wasm layer).
 *
 * - A reference pinned by digest whose manifest and layer are cached is answered without
 *   any network access.
 * - A tag is always resolved against the registry (tags move); the layer is downloaded
 *   only when the cache does not hold it.
 * - Every cached file is re-hashed before it is reused; a file that does not match its
 *   name is deleted and fetched again.
 */
export async function pullToCache(source: string, options: CacheOptions): Promise<CachedModule> {
  const ref = parseReference(source);
  const maxModuleBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
  const manifestDir = join(options.cacheDir, "manifests", "sha256");
  const blobDir = join(options.cacheDir, "blobs", "sha256");
  const manifestPath = (digest: string) => join(manifestDir, `${hexOf(digest)}.json`);
  const blobPath = (digest: string) => join(blobDir, `${hexOf(digest)}.wasm`);
  const cachedBlob = (digest: string) => {
    const ok = readVerified(blobPath(digest), digest, maxModuleBytes) !== null;
    if (!ok) dropQuietly(blobPath(digest));
    return ok;
  };

  if (ref.digest) {
    const manifest = readVerified(manifestPath(ref.digest), ref.digest, MAX_MANIFEST_BYTES);
    if (manifest) {
      const layer = wasmLayerOf(manifest, maxModuleBytes);
      if (cachedBlob(layer.digest)) return { path: blobPath(layer.digest), digest: ref.digest, layerDigest: layer.digest, reused: true };
    } else dropQuietly(manifestPath(ref.digest));
  }

  try {
    mkdirSync(manifestDir, { recursive: true, mode: 0o700 });
    mkdirSync(blobDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new OciError(`cannot create the module cache ${options.cacheDir}: ${(e as Error).message}`);
  }
  const client = new RegistryClient(ref, options);
  const { digest, bytes, layer } = await resolveManifest(client, options);
  const reused = cachedBlob(layer.digest);
  if (!reused) await writeAtomically(blobPath(layer.digest), true, (write) => streamModule(client, layer, write));
  await writeAtomically(manifestPath(digest), true, async (write) => write(bytes));
  return { path: blobPath(layer.digest), digest, layerDigest: layer.digest, reused };
}
