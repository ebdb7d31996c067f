/**
 * A known server's listeners: each bind row's sources are walked in the
 * program's order of precedence (types.ts), the first that is set decides. An
 * overridden source binds nothing. A configuration file that may set the value
 * (given on the command line, or read without being named) makes every source
 * below it uncertain: a bind read from there is never a finding on its own.
 */
import { classifyHost } from "../host.js";
import { parseHostPort, parseListenValue, parsePort, type ParsedAddress } from "../listen-address.js";
import type { CommandLine, OptionHit } from "./command-line.js";
import { keyOf, versionAtLeast, parseVersion, type Version } from "./index.js";
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

interface Decided {
  values: { setting: string; value: string; source: KnownBind["source"]; ambiguous: boolean }[];
  uncertain: boolean;
}

const NOTHING: Decided = { values: [], uncertain: false };

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

function tierSources(tier: SettingTier): readonly SettingSource[] {
  return Array.isArray(tier) ? (tier as readonly SettingSource[]) : [tier as SettingSource];
}

function aliases(flag: string | readonly string[]): readonly string[] {
  return typeof flag === "string" ? [flag] : flag;
}

/** Apply a value template per list element: `8080;8081` with `http://*:{}` → `http://*:8080;http://*:8081`. */
function applyTemplate(template: string, value: string): string {
  const parts = value.split(value.indexOf(";") >= 0 ? ";" : ",");
  const out: string[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (t !== "") out.push(template.split("{}").join(t));
  }
  return out.join(";");
}

function lower(text: string): string {
  return text.toLowerCase();
}

/** The label of the first option or variable in a chain: what a default is the default of. */
function chainLabel(tiers: readonly SettingTier[]): string {
  for (const tier of tiers)
    for (const s of tierSources(tier)) {
      if ("flag" in s) return aliases(s.flag)[0]!;
      if ("env" in s) return s.env;
      if ("prop" in s) return s.prop;
      if ("sysprop" in s) return `-D${s.sysprop}`;
      if ("positional" in s) return "";
    }
  return "";
}

/**
 * Walk a chain of tiers: the first tier with a set source decides (all its set
 * sources count). `null` = a source is set to a value nobody can read (valueFrom,
 * an option with no value): nothing binds that we know.
 */
function decide(tiers: readonly SettingTier[], line: CommandLine, env: EnvAccess, ctx: BindContext, repeatable: boolean): Decided | null {
  const syntax = ctx.entry.syntax;
  const dashUnderscore = ctx.entry.dashUnderscore === true;
  const caseless = syntax === "dotnet" || ctx.entry.names.includes("java");
  let uncertain = false;
  for (const tier of tiers) {
    const values: Decided["values"] = [];
    for (const s of tierSources(tier)) {
      if ("flag" in s) {
        let hits: OptionHit[] | undefined;
        for (const name of aliases(s.flag)) {
          const found = line.options.get(keyOf(syntax, name, dashUnderscore));
          if (found) hits = hits ? [...hits, ...found].sort((a, b) => a.at - b.at) : found;
        }
        if (!hits || hits.length === 0) continue;
        const chosen = repeatable ? hits : [hits[hits.length - 1]!];
        for (const hit of chosen) {
          if (hit.value === undefined) return null;
          values.push({ setting: hit.written, value: hit.value, source: "arg", ambiguous: s.ambiguous === true || ambiguousOption(aliases(s.flag)[0]!) });
        }
      } else if ("env" in s) {
        const state = env.state(s.env);
        if (state === "unset") continue;
        const value = env.get(s.env);
        if (state === "unknown" || value === undefined) return null;
        values.push({ setting: s.env, value: s.template !== undefined ? applyTemplate(s.template, value) : value, source: "env", ambiguous: false });
      } else if ("prop" in s) {
        const p = line.props.get(caseless ? lower(s.prop) : dashUnderscore ? s.prop.split("_").join("-") : s.prop);
        if (p) values.push({ setting: p.written.indexOf("=") >= 0 ? p.written.slice(0, p.written.indexOf("=")) : p.written, value: p.value, source: "arg", ambiguous: false });
      } else if ("sysprop" in s) {
        const p = line.sysprops.get(s.sysprop);
        if (p) values.push({ setting: `-D${s.sysprop}`, value: p.value, source: "arg", ambiguous: false });
      } else if ("envPattern" in s) {
        const [prefix, suffix] = s.envPattern;
        const lp = lower(prefix);
        const ls = lower(suffix);
        for (const name of env.names()) {
          const l = lower(name);
          if (l.length <= lp.length + ls.length || !l.startsWith(lp) || !l.endsWith(ls)) continue;
          const state = env.state(name);
          const value = env.get(name);
          if (state === "unknown" || value === undefined) return null;
          values.push({ setting: name, value, source: "env", ambiguous: false });
        }
      } else if ("propPattern" in s) {
        const [prefix, suffix] = s.propPattern;
        for (const [key, p] of line.props)
          if (key.length > prefix.length + suffix.length && key.startsWith(prefix) && key.endsWith(suffix))
            values.push({ setting: p.written.indexOf("=") >= 0 ? p.written.slice(0, p.written.indexOf("=")) : p.written, value: p.value, source: "arg", ambiguous: false });
      } else if ("positional" in s) {
        const value = line.positional[s.positional];
        if (value !== undefined) values.push({ setting: "", value, source: "positional", ambiguous: false });
      } else if ("configFlag" in s) {
        for (const name of aliases(s.configFlag)) if (line.options.has(keyOf(syntax, name, dashUnderscore))) uncertain = true;
      } else if ("configEnv" in s) {
        if (env.state(s.configEnv) !== "unset") uncertain = true;
      } else if ("implicitConfig" in s) {
        uncertain = true;
      } else if ("value" in s) {
        let versionUnknown = false;
        if (s.since !== undefined || s.before !== undefined) {
          if (ctx.version === null) versionUnknown = true;
          else if ((s.since !== undefined && !versionAtLeast(ctx.version, parseVersion(s.since)!)) || (s.before !== undefined && versionAtLeast(ctx.version, parseVersion(s.before)!))) continue;
        }
        if (versionUnknown || !ctx.defaultsCertain) uncertain = true;
        values.push({ setting: chainLabel(tiers), value: s.value, source: "default", ambiguous: false });
      }
    }
    if (values.length > 0) return { values, uncertain };
  }
  return NOTHING;
}

function rowHolds(row: BindRow, line: CommandLine, env: EnvAccess, ctx: BindContext): boolean {
  const syntax = ctx.entry.syntax;
  const has = (name: string) => line.options.has(keyOf(syntax, name, ctx.entry.dashUnderscore === true));
  if (row.unlessFlag?.some(has) === true) return false;
  if (row.whenFlag === undefined && row.whenEnv === undefined) return true;
  if (row.whenFlag?.some(has) === true) return true;
  if (row.whenEnv?.some((n) => env.state(n) === "set" && (lower(env.get(n)!) === "true" || env.get(n) === "1")) === true) return true;
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
  for (const row of rows) {
    if (!rowHolds(row, line, env, ctx)) continue;
    const address = decide(row.address, line, env, ctx, row.repeatable === true);
    if (address === null || address.values.length === 0) continue;
    let port: number | null = null;
    if (row.port) {
      const p = decide(row.port, line, env, ctx, false);
      // A port a configuration file may change is kept: if it differs, nothing listens on the probed port either.
      if (p !== null && p.values.length > 0) port = parsePort(p.values[p.values.length - 1]!.value);
    }
    for (const v of address.values) {
      const group = nextGroup();
      for (const a of addressesOf(row, v.value)) {
        out.push({
          host: a.host,
          port: a.port ?? port,
          setting: v.setting === "" ? "" : v.setting,
          value: v.value,
          source: v.source,
          certain: !address.uncertain,
          ambiguous: v.ambiguous,
          group,
        });
      }
    }
  }
  return out;
}

export { classifyHost };
