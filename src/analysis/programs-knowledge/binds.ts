/**
 * A known server's listeners: each bind row's sources are walked in the
 * program's order of precedence (types.ts), the first that is set decides. An
 * overridden source binds nothing. A configuration file that may set the value
 * (given on the command line, or read without being named) makes every source
 * below it uncertain: a bind read from there is never a finding on its own.
 *
 * Rows are compiled once (option keys normalised, sources tagged by kind) and
 * the compiled form is what a request walks: indexed loops, no iterators, no
 * closures, no allocation but the results. In QuickJS an iterator step or a
 * small allocation costs thousands of wasm instructions, and this runs for every
 * known program of every pod.
 */
import { parseHostPort, parseListenValue, parsePort, type ParsedAddress } from "../listen-address.js";
import { optionKey, type CommandLine, type OptionHit } from "./command-line.js";
import { parseVersion, versionAtLeast, type Version } from "./version.js";
import type { EnvAccess } from "./resolve.js";
import type { BindRow, ServerEntry, SettingSource, SettingTier } from "./types.js";

/** A listener found by the knowledge base (listeners.ts turns it into a Listener). */
export interface KnownBind {
  host: string;
  port: number | null;
  /** Where it was read: the option as written, the variable's name, or the option whose default it is. */
  setting: string;
  value: string;
  source: "arg" | "env" | "default" | "positional";
  /** False when a source above the one that decided may override it (a configuration file). */
  certain: boolean;
  /** Read from an option clients use too (`--addr`): dropped when another container declares or binds its port. */
  ambiguous: boolean;
  /** Binds read from one value share this number (a URL list). */
  group: number;
}

export interface BindContext {
  entry: ServerEntry;
  /** The default binds hold (no unknown script in front of the program). */
  defaultsCertain: boolean;
  version: Version | null;
}

const FLAG = 0;
const ENV = 1;
const PROP = 2;
const SYSPROP = 3;
const ENV_PATTERN = 4;
const PROP_PATTERN = 5;
const POSITIONAL = 6;
const CONFIG_FLAG = 7;
const CONFIG_ENV = 8;
const IMPLICIT = 9;
const VALUE = 10;

/**
 * A source, compiled: its kind (`k`) and only what a request needs, normalised in
 * advance. Few fields on purpose: every row of every entry is compiled before the
 * snapshot, and a field is 16 bytes of the module's memory image.
 */
type Compiled =
  /** FLAG, CONFIG_FLAG: option keys (optionKey) of the aliases; `amb`: an option clients spell too. */
  | { k: typeof FLAG | typeof CONFIG_FLAG; keys: readonly string[]; amb: boolean }
  /** ENV (`t`: a value template), PROP, SYSPROP, CONFIG_ENV: the name as looked up (props normalised). */
  | { k: typeof ENV | typeof PROP | typeof SYSPROP | typeof CONFIG_ENV; n: string; t: string }
  /** ENV_PATTERN (lower case), PROP_PATTERN: prefix and suffix. */
  | { k: typeof ENV_PATTERN | typeof PROP_PATTERN; pre: string; suf: string }
  | { k: typeof POSITIONAL; i: number }
  | { k: typeof IMPLICIT }
  /** VALUE: the default, and the versions it holds for (null: any). */
  | { k: typeof VALUE; v: string; since: Version | null; before: Version | null };

/** A chain, flattened: its sources in order, each telling whether it ends its tier (no array per tier). */
type Chain = readonly (Compiled & { e: boolean })[];

interface CompiledRow {
  address: Chain;
  port: Chain | null;
  /** What a default is the default of: the chain's first option or variable ("" for an argument). */
  label: string;
  when: readonly string[];
  whenEnv: readonly string[];
  unless: readonly string[];
}

/**
 * Option names clients spell too (`--addr`, `--address`, `--host` name the server a
 * CLI dials): even for a program known to serve on one, a bind read from it yields
 * to a neighbour that declares or binds the port (reachability.ts).
 */
const AMBIGUOUS_NAMES = new Set(["addr", "address", "host"]);

function ambiguousOption(written: string): boolean {
  let i = 0;
  while (i < 2 && written.charCodeAt(i) === 45 /* - */) i++;
  return AMBIGUOUS_NAMES.has(written.slice(i));
}

function aliases(flag: string | readonly string[]): readonly string[] {
  return typeof flag === "string" ? [flag] : flag;
}

function compileSource(s: SettingSource, entry: ServerEntry, caseless: boolean): Compiled {
  const du = entry.dashUnderscore === true;
  const key = (n: string) => optionKey(entry.syntax, n, du);
  if ("flag" in s) {
    const names = aliases(s.flag);
    return { k: FLAG, keys: names.map(key), amb: s.ambiguous === true || ambiguousOption(names[0]!) };
  }
  if ("env" in s) return { k: ENV, n: s.env, t: s.template ?? "" };
  if ("prop" in s) return { k: PROP, n: caseless ? s.prop.toLowerCase() : du ? s.prop.split("_").join("-") : s.prop, t: "" };
  if ("sysprop" in s) return { k: SYSPROP, n: s.sysprop, t: "" };
  if ("envPattern" in s) return { k: ENV_PATTERN, pre: s.envPattern[0].toLowerCase(), suf: s.envPattern[1].toLowerCase() };
  if ("propPattern" in s) return { k: PROP_PATTERN, pre: s.propPattern[0], suf: s.propPattern[1] };
  if ("positional" in s) return { k: POSITIONAL, i: s.positional };
  if ("configFlag" in s) return { k: CONFIG_FLAG, keys: aliases(s.configFlag).map(key), amb: false };
  if ("configEnv" in s) return { k: CONFIG_ENV, n: s.configEnv, t: "" };
  if ("implicitConfig" in s) return { k: IMPLICIT };
  return { k: VALUE, v: s.value, since: s.since !== undefined ? parseVersion(s.since) : null, before: s.before !== undefined ? parseVersion(s.before) : null };
}

function compileTiers(tiers: readonly SettingTier[], entry: ServerEntry, caseless: boolean): Chain {
  const out: (Compiled & { e: boolean })[] = [];
  for (const t of tiers) {
    const sources = Array.isArray(t) ? (t as readonly SettingSource[]) : [t as SettingSource];
    sources.forEach((s, i) => out.push(Object.assign(compileSource(s, entry, caseless), { e: i === sources.length - 1 })));
  }
  return out;
}

/** The label of the first option or variable in a chain: what a default is the default of. */
function chainLabel(tiers: readonly SettingTier[]): string {
  for (const tier of tiers)
    for (const s of Array.isArray(tier) ? (tier as readonly SettingSource[]) : [tier as SettingSource]) {
      if ("flag" in s) return aliases(s.flag)[0]!;
      if ("env" in s) return s.env;
      if ("prop" in s) return s.prop;
      if ("sysprop" in s) return `-D${s.sysprop}`;
      if ("positional" in s) return "";
    }
  return "";
}

const compiledRows = new WeakMap<BindRow, CompiledRow>();

/** A row compiled for its entry (cached; index.ts compiles every row before the snapshot). */
export function compileRow(row: BindRow, entry: ServerEntry): CompiledRow {
  let c = compiledRows.get(row);
  if (!c) {
    const caseless = entry.syntax === "dotnet" || entry.names.includes("java");
    const key = (n: string) => optionKey(entry.syntax, n, entry.dashUnderscore === true);
    c = {
      address: compileTiers(row.address, entry, caseless),
      port: row.port ? compileTiers(row.port, entry, caseless) : null,
      label: chainLabel(row.address),
      when: (row.whenFlag ?? []).map(key),
      whenEnv: row.whenEnv ?? [],
      unless: (row.unlessFlag ?? []).map(key),
    };
    compiledRows.set(row, c);
  }
  return c;
}

/** Apply a value template per list element: `8080;8081` with `http://*:{}` → `http://*:8080;http://*:8081`. */
function applyTemplate(template: string, value: string): string {
  const parts = value.split(value.indexOf(";") >= 0 ? ";" : ",");
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i]!.trim();
    if (t !== "") out.push(template.split("{}").join(t));
  }
  return out.join(";");
}

interface Value {
  setting: string;
  value: string;
  source: KnownBind["source"];
  ambiguous: boolean;
}

/** What decided a chain: its values, and whether a source above them may override them. */
interface Decided {
  values: Value[];
  uncertain: boolean;
}

function settingOf(p: { written: string }): string {
  const eq = p.written.indexOf("=");
  return eq >= 0 ? p.written.slice(0, eq) : p.written;
}

/** The hits of a flag's aliases, in command-line order. */
function hitsOf(keys: readonly string[], line: CommandLine): OptionHit[] | undefined {
  let hits: OptionHit[] | undefined;
  for (let k = 0; k < keys.length; k++) {
    const found = line.options.get(keys[k]!);
    if (!found || found.length === 0) continue;
    hits = hits === undefined ? found : [...hits, ...found].sort((a, b) => a.at - b.at);
  }
  return hits;
}

/**
 * Walk a chain of tiers: the first tier with a set source decides (all its set
 * sources count). `null` = a source is set to a value nobody can read (valueFrom,
 * an option with no value): nothing binds that we know. An empty `values`: nothing set.
 */
function decide(chain: Chain, label: string, line: CommandLine, env: EnvAccess, ctx: BindContext, repeatable: boolean): Decided | null {
  let uncertain = false;
  let values: Value[] | null = null;
  for (let s = 0; s < chain.length; s++) {
    {
      const c = chain[s]!;
      switch (c.k) {
        case FLAG: {
          const hits = hitsOf(c.keys, line);
          if (hits === undefined) break;
          for (let h = repeatable ? 0 : hits.length - 1; h < hits.length; h++) {
            const hit = hits[h]!;
            if (hit.value === undefined) return null;
            (values ??= []).push({ setting: hit.written, value: hit.value, source: "arg", ambiguous: c.amb });
          }
          break;
        }
        case ENV: {
          const state = env.state(c.n);
          if (state === "unset") break;
          const value = env.get(c.n);
          if (state === "unknown" || value === undefined) return null;
          (values ??= []).push({ setting: c.n, value: c.t !== "" ? applyTemplate(c.t, value) : value, source: "env", ambiguous: false });
          break;
        }
        case PROP: {
          const p = line.props.get(c.n);
          if (p) (values ??= []).push({ setting: settingOf(p), value: p.value, source: "arg", ambiguous: false });
          break;
        }
        case SYSPROP: {
          const p = line.sysprops.get(c.n);
          if (p) (values ??= []).push({ setting: `-D${c.n}`, value: p.value, source: "arg", ambiguous: false });
          break;
        }
        case ENV_PATTERN: {
          const names = env.names();
          for (let n = 0; n < names.length; n++) {
            const name = names[n]!;
            if (name.length <= c.pre.length + c.suf.length) continue;
            const l = name.toLowerCase();
            if (!l.startsWith(c.pre) || !l.endsWith(c.suf)) continue;
            const value = env.get(name);
            if (env.state(name) === "unknown" || value === undefined) return null;
            (values ??= []).push({ setting: name, value, source: "env", ambiguous: false });
          }
          break;
        }
        case PROP_PATTERN:
          for (const [key, p] of line.props)
            if (key.length > c.pre.length + c.suf.length && key.startsWith(c.pre) && key.endsWith(c.suf))
              (values ??= []).push({ setting: settingOf(p), value: p.value, source: "arg", ambiguous: false });
          break;
        case POSITIONAL: {
          const value = line.positional[c.i];
          if (value !== undefined) (values ??= []).push({ setting: "", value, source: "positional", ambiguous: false });
          break;
        }
        case CONFIG_FLAG:
          for (let k = 0; k < c.keys.length; k++) if (line.options.has(c.keys[k]!)) uncertain = true;
          break;
        case CONFIG_ENV:
          if (env.state(c.n) !== "unset") uncertain = true;
          break;
        case IMPLICIT:
          uncertain = true;
          break;
        default: {
          // VALUE: the default, for the versions it holds for (an unknown version: uncertain).
          if (c.since !== null || c.before !== null) {
            if (ctx.version === null) uncertain = true;
            else if ((c.since !== null && !versionAtLeast(ctx.version, c.since)) || (c.before !== null && versionAtLeast(ctx.version, c.before))) break;
          }
          if (!ctx.defaultsCertain) uncertain = true;
          (values ??= []).push({ setting: label, value: c.v, source: "default", ambiguous: false });
        }
      }
      // The tier ends here: the first tier with a set source decides.
      if (c.e && values !== null) return { values, uncertain };
    }
  }
  return { values: [], uncertain };
}

function rowHolds(row: CompiledRow, line: CommandLine, env: EnvAccess): boolean {
  for (let i = 0; i < row.unless.length; i++) if (line.options.has(row.unless[i]!)) return false;
  if (row.when.length === 0 && row.whenEnv.length === 0) return true;
  for (let i = 0; i < row.when.length; i++) if (line.options.has(row.when[i]!)) return true;
  for (let i = 0; i < row.whenEnv.length; i++) {
    const n = row.whenEnv[i]!;
    const v = env.state(n) === "set" ? env.get(n)! : "";
    if (v === "1" || v.toLowerCase() === "true") return true;
  }
  return false;
}

/** Parse one bind value in the row's form. */
function addressesOf(row: BindRow, value: string): ParsedAddress[] {
  if (row.form !== "hosts") {
    const parsed = parseListenValue(value, row.form);
    if (row.portOnlyHost !== undefined && parsed.length === 1 && parsed[0]!.host === "" && value.indexOf(":") < 0 && parsed[0]!.port !== null)
      return [{ host: row.portOnlyHost, port: parsed[0]!.port }];
    return parsed;
  }
  const out: ParsedAddress[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 44;
    if (c !== 44 /* , */ && c !== 32 /* space */) continue;
    let part = value.slice(start, i);
    start = i + 1;
    if (part === "") continue;
    if (part.charCodeAt(0) === 45 /* - */) part = part.slice(1); // redis: `-::1` binds if it can
    if (part === "::*") part = "::"; // redis: every IPv6 address
    out.push(parseHostPort(part));
  }
  return out;
}

/** Every listener the rows say the program makes. */
export function knownBinds(rows: readonly BindRow[], line: CommandLine, env: EnvAccess, ctx: BindContext, nextGroup: () => number): KnownBind[] {
  const out: KnownBind[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const compiled = compileRow(row, ctx.entry);
    if (!rowHolds(compiled, line, env)) continue;
    const address = decide(compiled.address, compiled.label, line, env, ctx, row.repeatable === true);
    if (address === null || address.values.length === 0) continue;
    let port: number | null = null;
    if (compiled.port !== null) {
      const p = decide(compiled.port, "", line, env, ctx, false);
      // A port a configuration file may change is kept: if it differs, nothing listens on the probed port either.
      if (p !== null && p.values.length > 0) port = parsePort(p.values[p.values.length - 1]!.value);
    }
    for (let v = 0; v < address.values.length; v++) {
      const value = address.values[v]!;
      const group = nextGroup();
      const addrs = addressesOf(row, value.value);
      for (let a = 0; a < addrs.length; a++)
        out.push({
          host: addrs[a]!.host,
          port: addrs[a]!.port ?? port,
          setting: value.setting,
          value: value.value,
          source: value.source,
          certain: !address.uncertain,
          ambiguous: value.ambiguous,
          group,
        });
    }
  }
  return out;
}
