/**
 * Lookups over the knowledge base, built once at module load (the build runs it
 * before the snapshot, so no request pays for them). Every lookup keyed by input
 * text is a Map: a program named `constructor` is just unknown.
 */
import { classifyHost } from "../host.js";
import { parseListenValue } from "../listen-address.js";
import { CLIENTS, LAUNCHERS } from "./clients.js";
import { BARE, optionKey, PROP, VALUE, WANTED, type ReadSpec } from "./command-line.js";
import { IMAGES } from "./images.js";
import { SERVERS } from "./servers.js";
import { compileRow } from "./binds.js";
import { parseVersion, versionAtLeast, type Version } from "./version.js";
import type { BindRow, ClientEntry, ImageEntry, LauncherEntry, OptionSyntax, ServerEntry, SettingSource, SettingTier, Subcommand } from "./types.js";

export { CLIENTS, IMAGES, LAUNCHERS, SERVERS };

const serversByName = new Map<string, ServerEntry>();
for (const s of SERVERS) for (const n of s.names) if (!serversByName.has(n)) serversByName.set(n, s);
const clientsByName = new Map<string, ClientEntry>();
for (const c of CLIENTS) for (const n of c.names) clientsByName.set(n, c);
const launchersByName = new Map<string, LauncherEntry[]>();
for (const l of LAUNCHERS)
  for (const n of l.names) {
    const list = launchersByName.get(n);
    if (list) list.push(l);
    else launchersByName.set(n, [l]);
  }

export function serverNamed(name: string): ServerEntry | undefined {
  return serversByName.get(name);
}
export function clientNamed(name: string): ClientEntry | undefined {
  return clientsByName.get(name);
}
export function launchersNamed(name: string): readonly LauncherEntry[] | undefined {
  return launchersByName.get(name);
}

/** The entries read as a framework when an unknown program's environment names them (ASP.NET Core). */
export const FRAMEWORKS: readonly ServerEntry[] = SERVERS.filter((s) => s.detectEnv !== undefined);

// ---- images ----

export interface ImageRef {
  /** Repository path components without the registry (`["grafana", "alloy"]`; Docker Hub's official images under `library`). */
  path: string[];
  tag: string;
}

/** Longest image reference read: past it the image is unknown (no real reference comes near). */
const MAX_IMAGE_LENGTH = 512;

/** `registry.example:5000/grafana/alloy:v1.2@sha256:…` → path [grafana, alloy], tag v1.2. */
export function parseImage(image: string): ImageRef | null {
  if (image.length === 0 || image.length > MAX_IMAGE_LENGTH) return null;
  const at = image.indexOf("@");
  // Repositories are lower case; a tag's case is kept only for versions, which are digits.
  let rest = (at >= 0 ? image.slice(0, at) : image).toLowerCase();
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  let tag = "";
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const path = rest.split("/");
  if (path.length > 1) {
    const first = path[0]!;
    if (first.indexOf(".") >= 0 || first.indexOf(":") >= 0 || first === "localhost") path.shift();
  }
  if (path.length === 1) path.unshift("library");
  return { path, tag };
}

const imagesByLast = new Map<string, { entry: ImageEntry; path: string[] }[]>();
for (const entry of IMAGES)
  for (const repo of entry.repositories) {
    const path = repo.split("/");
    const last = path[path.length - 1]!;
    const list = imagesByLast.get(last);
    if (list) list.push({ entry, path });
    else imagesByLast.set(last, [{ entry, path }]);
  }

/** The image's path ends with the repository path `repo` (component by component). */
export function pathEndsWith(path: readonly string[], repo: readonly string[]): boolean {
  if (repo.length > path.length) return false;
  for (let i = 1; i <= repo.length; i++) if (repo[repo.length - i] !== path[path.length - i]) return false;
  return true;
}

/** The image row whose repository path the image's path ends with, or undefined. */
export function imageEntry(image: string): { entry: ImageEntry; ref: ImageRef } | undefined {
  const ref = parseImage(image);
  if (ref === null) return undefined;
  const candidates = imagesByLast.get(ref.path[ref.path.length - 1]!);
  if (!candidates) return undefined;
  for (const { entry, path } of candidates) if (pathEndsWith(ref.path, path)) return { entry, ref };
  return undefined;
}

export { parseVersion, versionAtLeast, type Version };

// ---- how each entry's command line is read ----

function sourcesOf(tiers: readonly SettingTier[] | undefined): SettingSource[] {
  const out: SettingSource[] = [];
  if (tiers) for (const t of tiers) if (Array.isArray(t)) out.push(...(t as readonly SettingSource[])); else out.push(t as SettingSource);
  return out;
}

function names(flag: string | readonly string[]): readonly string[] {
  return typeof flag === "string" ? [flag] : flag;
}

const NO_OPTIONAL: ReadonlyMap<string, string> = new Map();

function buildReadSpec(entry: ServerEntry, rows: readonly BindRow[], extraValueOptions: readonly string[] = []): ReadSpec {
  const key = (w: string) => optionKey(entry.syntax, w, entry.dashUnderscore === true);
  const keys = new Map<string, number>();
  const mark = (w: string, flag: number) => {
    const k = key(w);
    keys.set(k, (keys.get(k) ?? 0) | flag);
  };
  for (const row of rows) {
    for (const s of [...sourcesOf(row.address), ...sourcesOf(row.port)]) {
      if ("flag" in s) for (const n of names(s.flag)) mark(n, WANTED);
      if ("configFlag" in s) for (const n of names(s.configFlag)) mark(n, WANTED);
    }
    for (const n of [...(row.whenFlag ?? []), ...(row.unlessFlag ?? [])]) mark(n, WANTED | BARE);
  }
  for (const n of [...(entry.valueOptions ?? []), ...extraValueOptions]) mark(n, VALUE);
  for (const n of entry.propOptions ?? []) mark(n, PROP);
  // A condition that is also a value option (`--tls-cert-file`) is read with its value.
  for (const [k, f] of keys) if ((f & BARE) !== 0 && (f & VALUE) !== 0) keys.set(k, f & ~BARE);
  let optional = NO_OPTIONAL;
  if (entry.optionalValues !== undefined && entry.optionalValues.length > 0) {
    const map = new Map<string, string>();
    for (const [n, v] of entry.optionalValues) map.set(key(n), v);
    optional = map;
  }
  let written: Map<string, string> | null = null;
  if (entry.syntax === "go" && entry.dashUnderscore !== true) {
    written = new Map();
    for (const k of keys.keys()) {
      written.set(`--${k}`, k);
      if (k.charCodeAt(0) !== 45 /* - */) written.set(`-${k}`, k);
    }
  }
  return { syntax: entry.syntax, keys, written, optional, longOptionProps: entry.longOptionProps === true, dashUnderscore: entry.dashUnderscore === true };
}

const readSpecs = new WeakMap<object, ReadSpec>();

/** The read spec for an entry's own binds, or one subcommand's. Built at module load for every entry. */
export function readSpecFor(entry: ServerEntry, sub?: Subcommand): ReadSpec {
  const holder: object = sub ?? entry;
  let spec = readSpecs.get(holder);
  if (!spec) readSpecs.set(holder, (spec = buildReadSpec(entry, sub ? sub.binds : (entry.binds ?? []), sub?.valueOptions)));
  return spec;
}

/** The top-level read (options before a subcommand): only value options matter, to find the subcommand. */
export function topLevelSpec(entry: ServerEntry): ReadSpec {
  const holder = entry.names;
  let spec = readSpecs.get(holder);
  if (!spec) readSpecs.set(holder, (spec = buildReadSpec(entry, [])));
  return spec;
}

for (const entry of SERVERS) {
  if (entry.binds) {
    readSpecFor(entry);
    for (const row of entry.binds) compileRow(row, entry);
  }
  if (entry.subcommands) {
    topLevelSpec(entry);
    for (const sub of entry.subcommands) {
      readSpecFor(entry, sub);
      for (const row of sub.binds) compileRow(row, entry);
    }
  }
}

/** The syntax a program's options follow, for normalising an option key outside a read. */
export function keyOf(syntax: OptionSyntax, written: string, dashUnderscore = false): string {
  return optionKey(syntax, written, dashUnderscore);
}

// ---- what the native pre-check must treat as loopback text ----

/** A row whose default can bind loopback with nothing in the manifest saying so (no implicit config file above it). */
function hasCertainLoopbackDefault(row: BindRow): boolean {
  for (const s of sourcesOf(row.address)) {
    if ("implicitConfig" in s) return false;
    if ("value" in s) {
      const form = row.form === "hosts" ? "address" : row.form;
      for (const a of parseListenValue(s.value, form)) if (classifyHost(a.host) === "loopback") return true;
    }
  }
  return false;
}

function entryHasLoopbackDefault(entry: ServerEntry): boolean {
  for (const row of entry.binds ?? []) if (hasCertainLoopbackDefault(row)) return true;
  for (const sub of entry.subcommands ?? []) for (const row of sub.binds) if (hasCertainLoopbackDefault(row)) return true;
  return false;
}

/**
 * Texts that name a program (or an image) whose defaults bind loopback without
 * any loopback text in the manifest: the names of such servers and the last
 * path component of their images. The native pre-check treats them like
 * loopback text (clean-object.ts), so such a workload always reaches the JS.
 * Lower-case ASCII, as the pre-check's triggers are.
 */
export function loopbackDefaultTriggers(): string[] {
  const out = new Set<string>();
  const programs = new Set<string>();
  for (const entry of SERVERS)
    if (entryHasLoopbackDefault(entry))
      for (const n of entry.names) {
        programs.add(n);
        out.add(n.toLowerCase());
      }
  for (const image of IMAGES)
    if (programs.has(image.program))
      // The image must end with the whole repository path to match (imageEntry): that path is the
      // trigger, except for Docker Hub's official images, written without `library/`.
      for (const repo of image.repositories) out.add((repo.startsWith("library/") ? repo.slice(8) : repo).toLowerCase());
  return [...out].sort();
}
