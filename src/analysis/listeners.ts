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
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && env.has(name) ? env.get(name)! : match;
  });
}

/** command + args as words: expanded, and split on whitespace so `sh -c "… --flag=v …"` is read too. */
export function commandWords(container: Container, env: ReadonlyMap<string, string>): string[] {
  return [...strings(container.command), ...strings(container.args)]
    .map((t) => expandVars(t, env))
    .flatMap((t) => t.split(/\s+/))
    .filter((t) => t.length > 0)
    .map(unquote);
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
    if (!/^--?[A-Za-z]/.test(w)) continue;
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

/** Everything this container is known to bind. */
export function containerListeners(container: Container, specs: ListenerSpecs): Listener[] {
  const name = typeof container.name === "string" ? container.name : "";
  const image = typeof container.image === "string" ? container.image : "";
  const env = literalEnv(container);
  const out: Listener[] = [];
  const flags = flagOccurrences(commandWords(container, env));
  const lastFlag = (n: string) => [...flags].reverse().find((f) => f.name === flagName(n))?.value;

  const add = (spec: ListenSpec, setting: string, value: string, source: Listener["source"], portText: string | undefined) => {
    for (const addr of parseListenValue(value, spec.form)) {
      const port = addr.port ?? (portText !== undefined ? parsePort(portText) : null) ?? defaultPortFor(spec, image);
      out.push({ container: name, host: addr.host, hostClass: classifyHost(addr.host), port, setting, value, source });
    }
  };

  for (const f of flags) {
    const spec = specs.flags.find((s) => flagName(s.name) === f.name);
    if (spec) add(spec, f.written, f.value, "arg", spec.portFrom ? lastFlag(spec.portFrom) : undefined);
  }
  for (const spec of specs.envVars) {
    const value = env.get(spec.name);
    if (value !== undefined) add(spec, spec.name, value, "env", spec.portFrom ? env.get(spec.portFrom) : undefined);
  }
  return out;
}
