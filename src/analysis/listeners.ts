/**
 * What a container binds, read from its command line and environment.
 */
import type { Container, EnvVar } from "kubernetes-types/core/v1";
import { classifyHost, type HostClass } from "./host.js";
import { parseListenValue, parsePort } from "./listen-address.js";
import { flagName, type ListenSpec } from "./listen-specs.js";

export interface Listener {
  container: string;
  host: string;
  hostClass: HostClass;
  /** null when neither the value, a port flag nor a known default gives the port. */
  port: number | null;
  /** Where it was read: the flag as written (`--listen-address`) or the env var name. */
  setting: string;
  /** The value after `$(VAR)` expansion. */
  value: string;
  source: "arg" | "env";
}

export interface ListenerSpecs {
  flags: readonly ListenSpec[];
  envVars: readonly ListenSpec[];
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * The container's literal environment with Kubernetes `$(VAR)` expansion applied
 * in order. Variables from `valueFrom`/`envFrom` are unknown (absent from the map).
 */
export function literalEnv(container: Container): Map<string, string> {
  const env = new Map<string, string>();
  const entries: unknown = container.env;
  if (!Array.isArray(entries)) return env;
  for (const e of entries as unknown[]) {
    if (typeof e !== "object" || e === null) continue;
    const { name, value, valueFrom } = e as EnvVar;
    if (typeof name !== "string") continue;
    if (typeof value === "string" && valueFrom === undefined) env.set(name, expandVars(value, env));
    else env.delete(name);
  }
  return env;
}

/** Kubernetes variable expansion: `$(VAR)` from known vars, `$$` → `$`, unknown refs left as written. */
export function expandVars(text: string, env: ReadonlyMap<string, string>): string {
  // The common case without a regex. In QuickJS, regexes and even String#includes
  // cost microseconds per call on hot paths; indexOf is the cheap test.
  if (text.indexOf("$") < 0) return text;
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && env.has(name) ? env.get(name)! : match;
  });
}

/** command + args as words: expanded, and split on whitespace so `sh -c "… --flag=v …"` is read too. */
export function commandWords(container: Container, env: ReadonlyMap<string, string>): string[] {
  const tokens = [...strings(container.command), ...strings(container.args)];
  // Fast path for the usual command line: no variables, no spaces, no quotes.
  // In QuickJS every scan of a string costs ~13 ns per character, so the whole
  // line is scanned once, by one regex, instead of several times per token.
  if (!/[\s'"$]/.test(tokens.join("\u0000"))) return tokens.filter((t) => t.length > 0);
  const words: string[] = [];
  for (const token of tokens) {
    const expanded = expandVars(token, env);
    if (!needsSplitting(expanded)) {
      if (expanded.length > 0) words.push(expanded);
      continue;
    }
    for (const w of expanded.split(/\s+/)) if (w.length > 0) words.push(unquote(w));
  }
  return words;
}

function needsSplitting(token: string): boolean {
  return token.indexOf(" ") >= 0 || token.indexOf("\t") >= 0 || token.indexOf("\n") >= 0 || token.indexOf('"') >= 0 || token.indexOf("'") >= 0;
}

function unquote(word: string): string {
  return word.replace(/^(['"])(.*)\1$/, "$2").replace(/^['"]|['"]$/g, "");
}

interface FlagOccurrence {
  written: string;
  name: string;
  value: string;
}

/** Every `--flag=value`, `--flag value`, `-flag=value`, `-flag value` among the words. */
export function flagOccurrences(words: readonly string[]): FlagOccurrence[] {
  const out: FlagOccurrence[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.charCodeAt(0) !== 45 /* - */) continue;
    const first = w.charCodeAt(w.charCodeAt(1) === 45 ? 2 : 1) | 0x20; // lower-cased letter test
    if (first < 97 || first > 122) continue;
    const eq = w.indexOf("=");
    if (eq >= 0) out.push({ written: w.slice(0, eq), name: flagName(w.slice(0, eq)), value: w.slice(eq + 1) });
    else {
      const next = words[i + 1];
      out.push({ written: w, name: flagName(w), value: next !== undefined && !next.startsWith("-") ? next : "" });
    }
  }
  return out;
}

function defaultPortFor(spec: ListenSpec, image: string): number | null {
  for (const [needle, port] of Object.entries(spec.defaultPortByImage ?? {})) if (image.includes(needle)) return port;
  return spec.defaultPort ?? null;
}

/** Specs by normalised flag name, computed once per spec list (settings are fixed per evaluation). */
const specIndexCache = new WeakMap<readonly ListenSpec[], Map<string, ListenSpec>>();
function specIndex(specs: readonly ListenSpec[]): Map<string, ListenSpec> {
  let index = specIndexCache.get(specs);
  if (!index) {
    index = new Map();
    for (const s of specs) if (!index.has(flagName(s.name))) index.set(flagName(s.name), s);
    specIndexCache.set(specs, index);
  }
  return index;
}

/** Everything this container is known to bind. */
export function containerListeners(container: Container, specs: ListenerSpecs): Listener[] {
  const name = typeof container.name === "string" ? container.name : "";
  const image = typeof container.image === "string" ? container.image : "";
  const env = literalEnv(container);
  const out: Listener[] = [];
  const flags = flagOccurrences(commandWords(container, env));
  const lastFlag = (n: string) => {
    const name = flagName(n);
    for (let i = flags.length - 1; i >= 0; i--) if (flags[i]!.name === name) return flags[i]!.value;
    return undefined;
  };
  const index = specIndex(specs.flags);

  const add = (spec: ListenSpec, setting: string, value: string, source: Listener["source"], portText: string | undefined) => {
    for (const addr of parseListenValue(value, spec.form)) {
      const port = addr.port ?? (portText !== undefined ? parsePort(portText) : null) ?? defaultPortFor(spec, image);
      out.push({ container: name, host: addr.host, hostClass: classifyHost(addr.host), port, setting, value, source });
    }
  };

  for (const f of flags) {
    const spec = index.get(f.name);
    if (spec) add(spec, f.written, f.value, "arg", spec.portFrom ? lastFlag(spec.portFrom) : undefined);
  }
  for (const spec of specs.envVars) {
    const value = env.get(spec.name);
    if (value !== undefined) add(spec, spec.name, value, "env", spec.portFrom ? env.get(spec.portFrom) : undefined);
  }
  return out;
}
