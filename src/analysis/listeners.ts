/**
 * What a container binds: for each program it runs (programs.ts), what the
 * program knowledge base (programs-knowledge/) says that program binds, read
 * from its command line, its environment and its image; for a program it does
 * not know, the generic listen flags and variables (listen-specs.ts, the
 * settings `listenFlags` / `listenEnvVars`).
 */
import type { Container } from "kubernetes-types/core/v1";
import { ContainerEnv, containerBudget, expandVars, newBudget, type ExpansionBudget } from "./env-expansion.js";
import { classifyHost, type HostClass } from "./host.js";
import { parseListenValue, parsePort } from "./listen-address.js";
import { DEFAULT_LISTEN_FLAGS, flagName, type ListenSpec } from "./listen-specs.js";
import { containerPrograms, unreadOverBudget, type Program } from "./programs.js";
import { knownBinds, type KnownBind } from "./programs-knowledge/binds.js";
import { readCommandLine, readJava } from "./programs-knowledge/command-line.js";
import { FRAMEWORKS, keyOf, readSpecFor } from "./programs-knowledge/index.js";
import { resolveProgram, type EnvAccess } from "./programs-knowledge/resolve.js";
import { socatBinds } from "./programs-knowledge/socat.js";
import type { ServerEntry, SettingSource } from "./programs-knowledge/types.js";
import type { UserKnowledge } from "./programs-knowledge/user.js";

export interface Listener {
  container: string;
  host: string;
  hostClass: HostClass;
  /** null when neither the value, a port flag nor a known default gives the port. */
  port: number | null;
  /** Where it was read: the flag as written (`--listen-address`), the env var name, or what a default belongs to. */
  setting: string;
  /** The value after `$(VAR)` expansion (for a default, the default). */
  value: string;
  /**
   * `default`: nothing in the manifest sets it; the program's default applies (the knowledge base says so).
   * `positional`: an argument, not an option (Django's `runserver 0.0.0.0:8000`); `setting` is the program.
   */
  source: "arg" | "env" | "default" | "positional";
  /** Listeners of one container read from one value (a URL list gives many) share this number. */
  origin?: number;
  /** Made on every path the container can take (see Program.certain) and not overridable by a file we cannot see; only certain binds make findings. */
  certain: boolean;
  /** The program that makes it, when the knowledge base knows it (`uvicorn`, `vault server`). */
  program?: string;
  /**
   * Read from a flag clients spell too (`--addr`, `--address`, `--host`): `known-server`
   * for a program known to serve on it, `needs-declared-port` for a program we do not
   * know (it binds only when its own container declares the port). Either is dropped
   * when another container of the pod declares or binds the port (reachability.ts).
   */
  evidence?: "known-server" | "needs-declared-port";
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
  /** Programs of the user's own (settings `programs`), read before the built-in knowledge base. */
  programs?: UserKnowledge;
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

interface SpecIndex {
  byFlag: Map<string, FlagEntry>;
  /** Specs whose name is a suffix of the flag (`-listen-address`). */
  suffixes: ListenSpec[];
}

/**
 * Flags by every written form that `flagName` reads as theirs (`-name`, `--name`),
 * built once per spec list, so a word costs one Map lookup (in QuickJS each string
 * operation per word shows). The default lists are indexed at module load, which
 * the build runs before the snapshot, so a policy using them never builds an index
 * at admission time.
 */
const specIndexCache = new WeakMap<readonly ListenSpec[], SpecIndex>();
function specIndex(specs: readonly ListenSpec[]): SpecIndex {
  let index = specIndexCache.get(specs);
  if (!index) {
    const byKey = new Map<string, FlagEntry>();
    const suffixes: ListenSpec[] = [];
    const entry = (key: string): FlagEntry => {
      let e = byKey.get(key);
      if (!e) byKey.set(key, (e = { key, isPort: false }));
      return e;
    };
    for (const s of specs) {
      if (s.suffix === true) {
        suffixes.push(s);
        continue;
      }
      const e = entry(flagName(s.name));
      if (!e.spec) {
        e.spec = s;
        if (s.portFrom !== undefined) e.portKey = flagName(s.portFrom);
      }
      if (s.portFrom !== undefined) entry(flagName(s.portFrom)).isPort = true;
    }
    const byFlag = new Map<string, FlagEntry>();
    for (const [key, e] of byKey) {
      // The written forms flagName maps to this key: `--key` always; `-key` unless it would read as `--…`.
      byFlag.set(`--${key}`, e);
      if (key.charCodeAt(0) !== 45 /* - */) byFlag.set(`-${key}`, e);
    }
    index = { byFlag, suffixes };
    specIndexCache.set(specs, index);
  }
  return index;
}
specIndex(DEFAULT_LISTEN_FLAGS);

/** Options the generic reading leaves out for a known Go program (its own rows read them, or it is known not to serve on them). */
interface GenericOptions {
  /** Known program: skip ambiguous generic flags and these keys (`flagName`). */
  known?: { ownKeys: ReadonlySet<string> };
}
const NO_OPTIONS: GenericOptions = {};

/** What one program binds, read with the generic flags as Go's flag/pflag read them. */
interface GenericHit {
  spec: ListenSpec;
  written: string;
  value: string;
  /** The port flag's key for this hit (a suffix flag's `<prefix>-port`). */
  portKey?: string;
}

/**
 * The generic listen flags in one program's words, read as Go's flag and pflag
 * packages read them — `--flag=value`, `--flag value`, `-flag=value`, `-flag value`,
 * flags and positional arguments interspersed, `--` ends the flags, the LAST
 * occurrence of a flag wins unless the spec is repeatable — with their paired port
 * flags. One pass over the words, keeping only flags that matter: in QuickJS every
 * string operation and allocation on this path shows in the admission latency.
 */
function genericFlagHits(words: readonly string[], first: number, index: SpecIndex, options: GenericOptions): { hits: GenericHit[]; ports: Map<string, string> | null } {
  let hits: Map<string, GenericHit[]> | null = null;
  let portValues: Map<string, string> | null = null;
  let wantedPorts: Set<string> | null = null;
  const own = options.known?.ownKeys;
  for (let i = first; i < words.length; i++) {
    const w = words[i]!;
    if (w.charCodeAt(0) !== 45 /* - */ || w.length < 2) continue;
    if (w === "--") break; // everything after is an argument, not a flag
    const eq = w.indexOf("=");
    const flag = eq >= 0 ? w.slice(0, eq) : w;
    let entry = index.byFlag.get(flag);
    let spec = entry?.spec;
    let portKey = entry?.portKey;
    let key = entry?.key;
    // Suffix specs all end in `…address` or `…addr`: the last character rules out nearly every
    // other flag before any string search (in QuickJS each endsWith costs thousands of instructions).
    const last = flag.charCodeAt(flag.length - 1);
    if (entry === undefined && index.suffixes.length > 0 && (last === 115 /* s */ || last === 114 /* r */) && flag.length > 12) {
      const name = flagName(flag);
      for (let s = 0; s < index.suffixes.length; s++) {
        const suffix = index.suffixes[s]!;
        if (name.length > suffix.name.length && name.endsWith(suffix.name)) {
          spec = suffix;
          key = name;
          if (suffix.name.charCodeAt(0) === 45) (wantedPorts ??= new Set()).add((portKey = `${name.slice(0, name.length - suffix.name.length)}-port`));
          break;
        }
      }
    }
    if (key === undefined) {
      if (wantedPorts !== null && eq >= 0) {
        const name = flagName(flag);
        if (wantedPorts.has(name)) (portValues ??= new Map()).set(name, w.slice(eq + 1));
      }
      continue;
    }
    let value = "";
    if (eq >= 0) value = w.slice(eq + 1);
    else if (i + 1 < words.length) value = words[++i]!; // a value flag takes the next word, whatever it is
    if (spec && !(own !== undefined && (spec.ambiguous === true || own.has(key)))) {
      const hit: GenericHit = { spec, written: flag, value };
      if (portKey !== undefined) hit.portKey = portKey;
      const same = (hits ??= new Map()).get(key);
      if (same && spec.repeatable) same.push(hit);
      else hits.set(key, [hit]);
    }
    if (entry?.isPort === true) (portValues ??= new Map()).set(key, value);
  }
  // A suffix flag's port flag given before it (`--healthz-port=1 --healthz-listen-address=…`) or as two words.
  if (wantedPorts !== null)
    for (let i = first; i < words.length; i++) {
      const w = words[i]!;
      if (w.charCodeAt(0) !== 45) continue;
      const eq = w.indexOf("=");
      const name = flagName(eq >= 0 ? w.slice(0, eq) : w);
      if (!wantedPorts.has(name)) continue;
      const value = eq >= 0 ? w.slice(eq + 1) : i + 1 < words.length ? words[i + 1]! : "";
      (portValues ??= new Map()).set(name, value);
    }
  const out: GenericHit[] = [];
  if (hits) for (const list of hits.values()) for (let h = 0; h < list.length; h++) out.push(list[h]!);
  return { hits: out, ports: portValues };
}

/** Keys (`flagName`) a known Go program's rows read itself: the generic reading leaves them to the rows. */
const ownKeysCache = new WeakMap<ServerEntry, Set<string>>();
function ownKeys(entry: ServerEntry): Set<string> {
  let keys = ownKeysCache.get(entry);
  if (!keys) {
    keys = new Set();
    const add = (s: SettingSource) => {
      if ("flag" in s) for (const n of typeof s.flag === "string" ? [s.flag] : s.flag) keys!.add(flagName(n));
    };
    const rows = [...(entry.binds ?? []), ...(entry.subcommands ?? []).flatMap((sub) => sub.binds)];
    for (const row of rows) for (const tier of [...row.address, ...(row.port ?? [])]) for (const s of Array.isArray(tier) ? tier : [tier]) add(s as SettingSource);
    ownKeysCache.set(entry, keys);
  }
  return keys;
}

/**
 * Everything this container is known to bind: the binds of the programs it runs
 * (programs.ts decides which those are). Ambiguous binds (Listener.evidence) are
 * candidates the pod-level reading keeps or drops (reachability.ts podBinds).
 */
export function containerListeners(container: Container, specs: ListenerSpecs, budget: ExpansionBudget = containerBudget(container)): Listener[] {
  return containerBinds(container, specs, budget).listeners;
}

/**
 * What a program's environment tells the knowledge base (EnvAccess): one object per
 * container, its lookup swapped per program (a closure per program costs allocations
 * QuickJS makes visible). `unknown`: a variable the container names without a value we
 * can read (valueFrom), or any variable when `envFrom` may supply it.
 */
class ProgramEnv implements EnvAccess {
  lookup: (name: string) => string | undefined = () => undefined;
  constructor(
    private readonly fromEnvFrom: boolean,
    private readonly definedNames: () => string[],
    private readonly defines: (name: string) => boolean,
  ) {}
  get(name: string): string | undefined {
    return this.lookup(name);
  }
  state(name: string): "set" | "unset" | "unknown" {
    return this.lookup(name) !== undefined ? "set" : this.fromEnvFrom || this.defines(name) ? "unknown" : "unset";
  }
  names(): readonly string[] {
    return this.definedNames();
  }
}

/** containerListeners, with the reason when a work bound left the container's binds unknown (then no listeners). */
export function containerBinds(container: Container, specs: ListenerSpecs, budget: ExpansionBudget = containerBudget(container)): ContainerBinds {
  const name = typeof container.name === "string" ? container.name : "";
  const image = typeof container.image === "string" ? container.image : "";
  const env = new ContainerEnv(container, budget);
  const index = specIndex(specs.flags);
  const out: Listener[] = [];
  let nextOrigin = 0;
  const next = () => nextOrigin++;
  const add = (spec: ListenSpec, setting: string, value: string, source: Listener["source"], portText: string | undefined, certain: boolean, evidence?: Listener["evidence"]) => {
    const addrs = parseListenValue(value, spec.form);
    // Each listener is paid from the container's work budget (a URL list can name thousands).
    budget.remaining -= addrs.length;
    if (budget.remaining < 0) {
      budget.exhausted = true;
      return;
    }
    const origin = next();
    for (let i = 0; i < addrs.length; i++) {
      const addr = addrs[i]!;
      const port = addr.port ?? (portText !== undefined ? parsePort(portText) : null) ?? defaultPortFor(spec, image);
      const l: Listener = { container: name, host: addr.host, hostClass: classifyHost(addr.host), port, setting, value, source, origin, certain };
      if (evidence !== undefined) l.evidence = evidence;
      out.push(l);
    }
  };
  const addKnown = (binds: readonly KnownBind[], program: string, certain: boolean) => {
    budget.remaining -= binds.length;
    if (budget.remaining < 0) {
      budget.exhausted = true;
      return;
    }
    for (let i = 0; i < binds.length; i++) {
      const b = binds[i]!;
      const setting = b.source === "default" ? `${program} ${b.setting}`.trim() : b.setting === "" ? program : b.setting;
      // A default of "all interfaces" reads better with its port (`:3500`).
      const value = b.source === "default" && b.value === "" ? `:${b.port ?? ""}` : b.value;
      const l: Listener = { container: name, host: b.host, hostClass: classifyHost(b.host), port: b.port, setting, value, source: b.source, origin: b.group, certain: certain && b.certain, program };
      if (b.ambiguous) l.evidence = "known-server";
      out.push(l);
    }
  };
  const genericFlags = (words: readonly string[], first: number, certain: boolean, options: GenericOptions) => {
    const { hits, ports } = genericFlagHits(words, first, index, options);
    const evidence = options.known ? undefined : "needs-declared-port";
    for (let h = 0; h < hits.length; h++) {
      const hit = hits[h]!;
      const portKey = hit.portKey ?? (hit.spec.portFrom !== undefined ? flagName(hit.spec.portFrom) : undefined);
      add(hit.spec, hit.written, hit.value, "arg", portKey !== undefined ? ports?.get(portKey) : undefined, certain, hit.spec.ambiguous === true ? evidence : undefined);
    }
  };

  const read = containerPrograms(container, env);
  if (read.unread !== undefined) return { listeners: [], unread: read.unread };
  const envList: unknown = container.env;
  let envNames: string[] | null = null;
  let envNameSet: Set<string> | null = null;
  /** The names the container's env defines (valueFrom ones included), built on first use: most containers never ask. */
  const definedNames = (): string[] => {
    if (envNames === null) {
      envNames = [];
      if (Array.isArray(envList))
        for (let i = 0; i < envList.length; i++) {
          const e: unknown = envList[i];
          if (typeof e === "object" && e !== null && typeof (e as { name?: unknown }).name === "string") envNames.push((e as { name: string }).name);
        }
    }
    return envNames;
  };
  const defines = (n: string): boolean => (envNameSet ??= new Set(definedNames())).has(n);
  const envFrom: unknown = container.envFrom;
  const access = new ProgramEnv(Array.isArray(envFrom) && envFrom.length > 0, definedNames, defines);
  let envRead = false;

  const programs = read.programs;
  // Every program the shell model found is read: how many is bounded by the container's work budget.
  for (let p = 0; p < programs.length; p++) {
    const program = programs[p]!;
    // Reading a program's binds is paid from the container's work budget too.
    budget.remaining -= 10 + program.argv.length;
    if (budget.remaining < 0) {
      budget.exhausted = true;
      break;
    }
    const lookup = program.env;
    access.lookup = lookup;
    const r = resolveProgram(program.argv, image, access, specs.programs);
    if (r.kind === "client") continue;
    if (r.kind === "server") {
      const entry = r.entry;
      if (entry.syntax === "socat") addKnown(socatBinds(r.args, next), r.name, program.certain);
      else if (r.noRows !== true) {
        const spec = readSpecFor(entry, r.subcommand);
        const line = r.jvmArgs !== undefined ? readJava(r.jvmArgs, r.args) : readCommandLine(r.args, spec);
        const rows = r.subcommand ? r.subcommand.binds : (entry.binds ?? []);
        addKnown(knownBinds(rows, line, access, { entry, defaultsCertain: r.defaultsCertain, version: r.version }, next), r.name, program.certain);
      }
      if (entry.generic === true) genericFlags(r.args, 0, program.certain, { known: { ownKeys: ownKeys(entry) } });
      continue;
    }
    // A program the knowledge base does not know: the generic flags, a framework its
    // environment names (ASP.NET Core), and the generic variables (once per container).
    genericFlags(r.argv, 1, program.certain, NO_OPTIONS);
    if (env.size > 0) {
      // A framework is detected by a variable the container's env names (not one envFrom may hold).
      for (let f = 0; f < FRAMEWORKS.length; f++) {
        const fw = FRAMEWORKS[f]!;
        const detect = fw.detectEnv!;
        let named = false;
        for (let d = 0; d < detect.length && !named; d++) named = lookup(detect[d]!) !== undefined || defines(detect[d]!);
        if (!named) continue;
        const line = readCommandLine(r.argv.slice(1), readSpecFor(fw));
        addKnown(knownBinds(fw.binds ?? [], line, access, { entry: fw, defaultsCertain: false, version: null }, next), fw.names[0]!, program.certain);
      }
      if (!envRead) {
        envRead = true;
        for (let i = 0; i < specs.envVars.length; i++) {
          const spec = specs.envVars[i]!;
          const value = lookup(spec.name);
          if (value !== undefined) add(spec, spec.name, value, "env", spec.portFrom ? lookup(spec.portFrom) : undefined, program.certain);
        }
      }
    }
  }
  if (budget.exhausted) return { listeners: [], unread: unreadOverBudget().unread! };
  return { listeners: out };
}

export { keyOf };
