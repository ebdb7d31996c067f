/**
 * What a container binds, read from its command line and environment.
 */
import type { Container, EnvVar } from "kubernetes-types/core/v1";
import { classifyHost, type HostClass } from "./host.js";
import { parseListenValue, parsePort } from "./listen-address.js";
import { DEFAULT_LISTEN_FLAGS, flagName, type ListenSpec } from "./listen-specs.js";

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

/**
 * The container's literal environment with Kubernetes `$(VAR)` expansion applied
 * in order. Variables from `valueFrom`/`envFrom` are unknown (absent from the map).
 */
export function literalEnv(container: Container): Map<string, string> {
  const env = new Map<string, string>();
  const entries: unknown = container.env;
  if (!Array.isArray(entries)) return env;
  for (let i = 0; i < entries.length; i++) {
    const e: unknown = entries[i];
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
  const tokens: string[] = [];
  // Indexed loops throughout: a for-of loop costs QuickJS an iterator object.
  for (const list of [container.command, container.args]) {
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++) if (typeof list[i] === "string") tokens.push(list[i]!);
  }
  // Fast path for the usual command line: no variables, no spaces, no quotes.
  // In QuickJS every scan of a string costs ~13 ns per character, so the whole
  // line is scanned once, by one regex, instead of several times per token.
  if (!/[\s'"$]/.test(tokens.join("\u0000"))) return tokens.filter((t) => t.length > 0);
  const words: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const expanded = expandVars(tokens[i]!, env);
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

function defaultPortFor(spec: ListenSpec, image: string): number | null {
  if (spec.defaultPortByImage) for (const needle in spec.defaultPortByImage) if (image.indexOf(needle) >= 0) return spec.defaultPortByImage[needle]!;
  return spec.defaultPort ?? null;
}

interface SpecIndex {
  /** Listen specs by flag name without dashes. */
  byName: Map<string, ListenSpec>;
  /** Flag names that carry a port for some spec (`port`, `secure-port`, …). */
  portFlags: Set<string>;
}

/**
 * Specs by normalised flag name, built once per spec list. The default lists are
 * indexed at module load, which the build runs before the snapshot, so a policy
 * using them never builds an index at admission time.
 */
const specIndexCache = new WeakMap<readonly ListenSpec[], SpecIndex>();
function specIndex(specs: readonly ListenSpec[]): SpecIndex {
  let index = specIndexCache.get(specs);
  if (!index) {
    index = { byName: new Map(), portFlags: new Set() };
    for (const s of specs) {
      if (!index.byName.has(flagName(s.name))) index.byName.set(flagName(s.name), s);
      if (s.portFrom !== undefined) index.portFlags.add(flagName(s.portFrom));
    }
    specIndexCache.set(specs, index);
  }
  return index;
}
specIndex(DEFAULT_LISTEN_FLAGS);

/**
 * Everything this container is known to bind: `--flag=value`, `--flag value`,
 * `-flag=value`, `-flag value` for the listen flags, their port flags (the last
 * occurrence wins, as with Go's flag package), and the listen env vars.
 * One pass over the words, keeping only flags that matter: in QuickJS every
 * string operation and allocation on this path shows in the admission latency.
 */
export function containerListeners(container: Container, specs: ListenerSpecs): Listener[] {
  const name = typeof container.name === "string" ? container.name : "";
  const image = typeof container.image === "string" ? container.image : "";
  const env = literalEnv(container);
  const words = commandWords(container, env);
  const { byName, portFlags } = specIndex(specs.flags);
  const hits: { spec: ListenSpec; written: string; value: string }[] = [];
  let portValues: Map<string, string> | null = null;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.charCodeAt(0) !== 45 /* - */) continue;
    const eq = w.indexOf("=");
    const flag = eq >= 0 ? w.slice(0, eq) : w;
    const key = flagName(flag);
    const spec = byName.get(key);
    const isPort = portFlags.has(key);
    if (!spec && !isPort) continue;
    let value = "";
    if (eq >= 0) value = w.slice(eq + 1);
    else if (i + 1 < words.length && words[i + 1]!.charCodeAt(0) !== 45) value = words[i + 1]!;
    if (spec) hits.push({ spec, written: flag, value });
    if (isPort) (portValues ??= new Map()).set(key, value);
  }

  const out: Listener[] = [];
  const add = (spec: ListenSpec, setting: string, value: string, source: Listener["source"], portText: string | undefined) => {
    const addrs = parseListenValue(value, spec.form);
    for (let i = 0; i < addrs.length; i++) {
      const addr = addrs[i]!;
      const port = addr.port ?? (portText !== undefined ? parsePort(portText) : null) ?? defaultPortFor(spec, image);
      out.push({ container: name, host: addr.host, hostClass: classifyHost(addr.host), port, setting, value, source });
    }
  };
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!;
    add(h.spec, h.written, h.value, "arg", h.spec.portFrom !== undefined ? portValues?.get(flagName(h.spec.portFrom)) : undefined);
  }
  if (env.size > 0)
    for (let i = 0; i < specs.envVars.length; i++) {
      const spec = specs.envVars[i]!;
      const value = env.get(spec.name);
      if (value !== undefined) add(spec, spec.name, value, "env", spec.portFrom ? env.get(spec.portFrom) : undefined);
    }
  return out;
}
