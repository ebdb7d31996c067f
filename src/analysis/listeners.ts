/**
 * What a container binds, read from its command line and environment.
 */
import type { Container } from "kubernetes-types/core/v1";
import { ContainerEnv, containerBudget, expandVars, newBudget, type ExpansionBudget } from "./env-expansion.js";
import { classifyHost, type HostClass } from "./host.js";
import { parseListenValue, parsePort } from "./listen-address.js";
import { DEFAULT_LISTEN_FLAGS, flagName, type ListenSpec } from "./listen-specs.js";
import { baseName, containerPrograms, unreadOverBudget, type Program } from "./programs.js";

/** Command-line clients: their address flags name what they connect to, never a bind. */
export const CLIENT_PROGRAMS: ReadonlySet<string> = new Set([
  "psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "pg_basebackup", "mysql", "mysqldump", "mysqladmin", "mariadb",
  "mariadb-dump", "redis-cli", "mongo", "mongosh", "mongodump", "mongorestore", "tctl", "temporal", "etcdctl", "kubectl", "curl",
  "wget", "nc", "ncat", "grpcurl", "grpc_health_probe", "nslookup", "dig", "ping",
]);

/** A program that binds nothing whatever its flags say (the program knowledge will own this). */
export function isKnownClient(program: Program): boolean {
  return CLIENT_PROGRAMS.has(baseName(program.argv[0] ?? ""));
}

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
  /** Listeners of one container read from one value (a URL list gives many) share this number. */
  origin?: number;
  /** Made on every path the container can take (see Program.certain); only certain binds make findings. */
  certain: boolean;
}

/** What one container binds, or why that is unknown. */
export interface ContainerBinds {
  listeners: Listener[];
  /** Set when a work bound stopped the reading (see ContainerPrograms.unread): the binds are unknown. */
  unread?: string;
}

export interface ListenerSpecs {
  flags: readonly ListenSpec[];
  envVars: readonly ListenSpec[];
}

/**
 * The container's literal environment with Kubernetes `$(VAR)` expansion applied
 * in order. Variables from `valueFrom`/`envFrom` are unknown (absent from the map),
 * as are values over the expansion limits (env-expansion.ts).
 */
export function literalEnv(container: Container): Map<string, string> {
  return new ContainerEnv(container, newBudget()).toMap();
}

export { expandVars };

function defaultPortFor(spec: ListenSpec, image: string): number | null {
  if (spec.defaultPortByImage) for (const needle in spec.defaultPortByImage) if (image.indexOf(needle) >= 0) return spec.defaultPortByImage[needle]!;
  return spec.defaultPort ?? null;
}

/** What a flag, as written, means to us. */
interface FlagEntry {
  /** The flag's name without dashes (`flagName`): hits and port values are kept by it. */
  key: string;
  /** The listen spec it sets, if any. */
  spec?: ListenSpec;
  /** The `flagName` of the spec's port flag, if it has one. */
  portKey?: string;
  /** It carries a port for some spec (`port`, `secure-port`, …). */
  isPort: boolean;
}

/**
 * Flags by every written form that `flagName` reads as theirs (`-name`, `--name`),
 * built once per spec list, so a word costs one Map lookup (in QuickJS each string
 * operation per word shows). The default lists are indexed at module load, which
 * the build runs before the snapshot, so a policy using them never builds an index
 * at admission time.
 */
const specIndexCache = new WeakMap<readonly ListenSpec[], Map<string, FlagEntry>>();
function specIndex(specs: readonly ListenSpec[]): Map<string, FlagEntry> {
  let index = specIndexCache.get(specs);
  if (!index) {
    const byKey = new Map<string, FlagEntry>();
    const entry = (key: string): FlagEntry => {
      let e = byKey.get(key);
      if (!e) byKey.set(key, (e = { key, isPort: false }));
      return e;
    };
    for (const s of specs) {
      const e = entry(flagName(s.name));
      if (!e.spec) {
        e.spec = s;
        if (s.portFrom !== undefined) e.portKey = flagName(s.portFrom);
      }
      if (s.portFrom !== undefined) entry(flagName(s.portFrom)).isPort = true;
    }
    index = new Map();
    for (const [key, e] of byKey) {
      // The written forms flagName maps to this key: `--key` always; `-key` unless it would read as `--…`.
      index.set(`--${key}`, e);
      if (key.charCodeAt(0) !== 45 /* - */) index.set(`-${key}`, e);
    }
    specIndexCache.set(specs, index);
  }
  return index;
}
specIndex(DEFAULT_LISTEN_FLAGS);

/**
 * Everything this container is known to bind: the listen flags of the programs it
 * runs (programs.ts decides which those are), read as Go's flag and pflag
 * packages read them — `--flag=value`, `--flag value`, `-flag=value`,
 * `-flag value`, flags and positional arguments interspersed, `--` ends the
 * flags, the LAST occurrence of a flag wins unless the spec is repeatable — with
 * their paired port flags, and the listen env vars. One pass over each program's
 * words, keeping only flags that matter: in QuickJS every string operation and
 * allocation on this path shows in the admission latency.
 */
export function containerListeners(container: Container, specs: ListenerSpecs, budget: ExpansionBudget = containerBudget(container)): Listener[] {
  return containerBinds(container, specs, budget).listeners;
}

/** containerListeners, with the reason when a work bound left the container's binds unknown (then no listeners). */
export function containerBinds(container: Container, specs: ListenerSpecs, budget: ExpansionBudget = containerBudget(container)): ContainerBinds {
  const name = typeof container.name === "string" ? container.name : "";
  const image = typeof container.image === "string" ? container.image : "";
  const env = new ContainerEnv(container, budget);
  const flags = specIndex(specs.flags);
  const out: Listener[] = [];
  let nextOrigin = 0;
  const add = (spec: ListenSpec, setting: string, value: string, source: Listener["source"], portText: string | undefined, certain: boolean) => {
    const addrs = parseListenValue(value, spec.form);
    // Each listener is paid from the container's work budget (a URL list can name thousands).
    budget.remaining -= addrs.length;
    if (budget.remaining < 0) {
      budget.exhausted = true;
      return;
    }
    const origin = nextOrigin++;
    for (let i = 0; i < addrs.length; i++) {
      const addr = addrs[i]!;
      const port = addr.port ?? (portText !== undefined ? parsePort(portText) : null) ?? defaultPortFor(spec, image);
      out.push({ container: name, host: addr.host, hostClass: classifyHost(addr.host), port, setting, value, source, origin, certain });
    }
  };

  const read = containerPrograms(container, env);
  if (read.unread !== undefined) return { listeners: [], unread: read.unread };
  const programs = read.programs;
  for (let p = 0; p < programs.length; p++) {
    if (isKnownClient(programs[p]!)) continue;
    const words = programs[p]!.argv;
    // Reading a program's flags is paid from the container's work budget too.
    budget.remaining -= 10 + words.length;
    if (budget.remaining < 0) {
      budget.exhausted = true;
      break;
    }
    const certain = programs[p]!.certain;
    // Per flag name the hits that count: the last one, or all for repeatable specs.
    let hits: Map<string, { entry: FlagEntry; written: string; value: string }[]> | null = null;
    let portValues: Map<string, string> | null = null;
    for (let i = 1; i < words.length; i++) {
      const w = words[i]!;
      if (w.charCodeAt(0) !== 45 /* - */ || w.length < 2) continue;
      if (w === "--") break; // everything after is an argument, not a flag
      const eq = w.indexOf("=");
      const flag = eq >= 0 ? w.slice(0, eq) : w;
      const entry = flags.get(flag);
      if (entry === undefined) continue;
      let value = "";
      if (eq >= 0) value = w.slice(eq + 1);
      else if (i + 1 < words.length) value = words[++i]!; // a value flag takes the next word, whatever it is
      if (entry.spec) {
        const hit = { entry, written: flag, value };
        const same = (hits ??= new Map()).get(entry.key);
        if (same && entry.spec.repeatable) same.push(hit);
        else hits.set(entry.key, [hit]);
      }
      if (entry.isPort) (portValues ??= new Map()).set(entry.key, value);
    }
    if (hits)
      for (const list of hits.values())
        for (let h = 0; h < list.length; h++) {
          const hit = list[h]!;
          const portKey = hit.entry.portKey;
          add(hit.entry.spec!, hit.written, hit.value, "arg", portKey !== undefined ? portValues?.get(portKey) : undefined, certain);
        }
  }
  if (env.size > 0)
    for (let i = 0; i < specs.envVars.length; i++) {
      const spec = specs.envVars[i]!;
      const value = env.get(spec.name);
      if (value !== undefined) add(spec, spec.name, value, "env", spec.portFrom ? env.get(spec.portFrom) : undefined, true);
    }
  if (budget.exhausted) return { listeners: [], unread: unreadOverBudget().unread! };
  return { listeners: out };
}
