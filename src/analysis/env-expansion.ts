/**
 * Kubernetes' `$(VAR)` expansion, done lazily and within a budget.
 *
 * The kubelet expands each `env[].value` against the variables defined before
 * it, and `command`/`args` against the final environment
 * (k8s.io/kubernetes third_party/forked/golang/expansion). Expanding a whole
 * environment up front is an amplification attack: 40 variables
 * `Vi=$(Vi-1)$(Vi-1)` are 2^40 characters. So only the variables the analysis
 * reads are expanded, each at most MAX_VALUE_LENGTH characters, chains at most
 * MAX_DEPTH deep, and every expansion of one analysis draws from one shared
 * budget. A variable beyond any limit is treated like one from `valueFrom`:
 * unknown, left as `$(NAME)`, so the bind that uses it is never a finding and
 * never an error.
 */
import type { Container } from "kubernetes-types/core/v1";

/**
 * The work reading one container may do, in units of about 1,000 wasm instructions
 * (what parsing, expanding, evaluating and reading flags cost, see shell/syntax.ts
 * PARSE_COST): WORK_PER_CHARACTER per character of the container's own command, args
 * and env, plus at most WORK_POOL_SHARE from a pool of WORK_POOL shared by the pod's
 * containers (small scripts cost more than their length: starting a shell alone is
 * ~300 units). What the manifest spells out is paid for by its bytes; what expansion
 * and evaluation multiply (a `$(VAR)` doubled 20 times, functions calling each other
 * twice) runs into the bound. Past it that container's binds are unknown: a warning,
 * never a finding, and the other containers are judged as usual, each within its own
 * allowance (the pool only adds to it). So no request, whatever its shape, costs more
 * than about WORK_PER_CHARACTER × 1,000 instructions per byte plus the pool.
 */
export const WORK_PER_CHARACTER = 12;
export const WORK_POOL = 32_768;
export const WORK_POOL_SHARE = 16_384;

/** Longest value an expanded variable may have (a listen address is < 300 characters). */
export const MAX_VALUE_LENGTH = 64 * 1024;
/** Longest chain of variables referring to earlier ones that is followed. */
export const MAX_DEPTH = 32;
/** Characters all expansions of one analysis may produce together. */
export const EXPANSION_BUDGET = 4 * 1024 * 1024;

/** The work left to one reading (see WORK_PER_CHARACTER); `exhausted` once any step found it spent. */
export interface ExpansionBudget {
  remaining: number;
  exhausted?: boolean;
  /** What it drew from its pod's pool (returned when unused). */
  drawn?: number;
}

/** The pod's shared pool of work (see WORK_POOL). */
export interface WorkPool {
  remaining: number;
}

export function newWorkPool(): WorkPool {
  return { remaining: WORK_POOL };
}
export type WorkBudget = ExpansionBudget;

/** A reading stopped at its work bound. */
export class WorkBoundError extends Error {
  constructor() {
    super("work bound reached");
  }
}

export function newBudget(chars = EXPANSION_BUDGET): ExpansionBudget {
  return { remaining: chars };
}

/** Pay `units` of work; throws WorkBoundError once the budget is spent. */
export function chargeWork(budget: WorkBudget, units: number): void {
  budget.remaining -= units;
  if (budget.remaining < 0) {
    budget.exhausted = true;
    throw new WorkBoundError();
  }
}

/** Characters of a container's command, args and env (names and literal values). */
export function containerTextLength(container: Container): number {
  let n = 0;
  const lists: unknown[] = [container.command, container.args];
  for (const list of lists) if (Array.isArray(list)) for (const w of list) if (typeof w === "string") n += w.length + 1;
  const env: unknown = container.env;
  if (Array.isArray(env))
    for (const e of env) {
      if (typeof e !== "object" || e === null) continue;
      const { name, value } = e as { name?: unknown; value?: unknown };
      if (typeof name === "string") n += name.length + 1;
      if (typeof value === "string") n += value.length;
    }
  return n;
}

/**
 * The work budget of reading one container: WORK_PER_CHARACTER × its text, plus up to
 * WORK_POOL_SHARE drawn from `pool` (the whole share when there is no pod: tests,
 * single containers).
 */
export function containerBudget(container: Container, pool?: WorkPool): WorkBudget {
  const drawn = pool === undefined ? WORK_POOL_SHARE : Math.min(pool.remaining, WORK_POOL_SHARE);
  if (pool !== undefined) pool.remaining -= drawn;
  return { remaining: drawn + WORK_PER_CHARACTER * containerTextLength(container), drawn };
}

/** Give back to the pool what a reading drew and did not use. */
export function returnToPool(budget: WorkBudget, pool: WorkPool): void {
  pool.remaining += Math.min(Math.max(budget.remaining, 0), budget.drawn ?? 0);
}

/** Looks a variable up; undefined = unknown (not defined, from valueFrom, or over a limit). */
export type Lookup = (name: string) => string | undefined;

/**
 * One pass of Kubernetes expansion: `$(NAME)` → the variable's value when known
 * (the name is anything up to the next `)`, as in Kubernetes ≥ 1.30 where env
 * names may contain any printable character but `=`), `$$` → `$`, anything else
 * as written. Returns undefined when the result would exceed `maxLength` or the
 * budget: the caller treats the text as unknown.
 */
export function expandText(text: string, lookup: Lookup, budget: ExpansionBudget, maxLength = MAX_VALUE_LENGTH): string | undefined {
  let dollar = text.indexOf("$");
  if (dollar < 0) return text;
  const out: string[] = [];
  let length = 0;
  let checkpoint = 0;
  const push = (s: string): boolean => {
    length += s.length;
    if (length > maxLength || length > budget.remaining) {
      // Failed work is paid for too; over the budget (not just over maxLength) the reading is cut short.
      if (length > budget.remaining) budget.exhausted = true;
      budget.remaining = Math.max(0, budget.remaining - length);
      return false;
    }
    out.push(s);
    return true;
  };
  while (dollar >= 0 && dollar + 1 < text.length) {
    if (!push(text.slice(checkpoint, dollar))) return undefined;
    const next = text.charCodeAt(dollar + 1);
    let advance = 2;
    if (next === 36 /* $ */) {
      if (!push("$")) return undefined;
    } else if (next === 40 /* ( */) {
      const close = text.indexOf(")", dollar + 2);
      if (close < 0) {
        if (!push("$(")) return undefined;
      } else {
        const name = text.slice(dollar + 2, close);
        const value = lookup(name);
        if (!push(value ?? `$(${name})`)) return undefined;
        advance = close + 1 - dollar;
      }
    } else {
      if (!push(text.slice(dollar, dollar + 2))) return undefined;
    }
    checkpoint = dollar + advance;
    dollar = text.indexOf("$", checkpoint);
  }
  if (!push(text.slice(checkpoint))) return undefined;
  budget.remaining -= length;
  return out.length === 1 ? out[0] : out.join("");
}

/** Kubernetes expansion against a plain map, without limits beyond the default value length. */
export function expandVars(text: string, env: ReadonlyMap<string, string>): string {
  return expandText(text, (n) => env.get(n), newBudget(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER) ?? text;
}

const UNKNOWN = null;
/** Shared, never written: a container without env entries keeps these. */
const NO_NAMES: string[] = [];
const NO_DEFS = new Map<string, number[]>();
const NO_RAW: (string | null)[] = [];
const NO_EXPANDED: (string | null | undefined)[] = [];

/**
 * A container's environment, expanded on demand. Variables from `valueFrom`
 * (and `envFrom`) are unknown; a later definition of a name replaces an earlier one.
 */
export class ContainerEnv {
  // Allocated only for a container that has env entries: most have none, and in
  // QuickJS every array and Map allocated per container shows in the latency.
  private names: string[] = NO_NAMES;
  /** The literal value, or null for valueFrom. */
  private raw: (string | null)[] = NO_RAW;
  /** Memo: undefined = not yet expanded; null = unknown. */
  private expanded: (string | null | undefined)[] = NO_EXPANDED;
  /** Every definition index of a name, ascending. */
  private defs: Map<string, number[]> = NO_DEFS;

  /** Variables may also come from envFrom (a ConfigMap or Secret the manifest does not show). */
  readonly hasEnvFrom: boolean;

  constructor(
    container: Container,
    readonly budget: ExpansionBudget,
  ) {
    const from: unknown = container.envFrom;
    this.hasEnvFrom = Array.isArray(from) && from.length > 0;
    const entries: unknown = container.env;
    if (!Array.isArray(entries) || entries.length === 0) return;
    this.names = [];
    this.raw = [];
    this.expanded = [];
    this.defs = new Map();
    for (let i = 0; i < entries.length; i++) {
      const e: unknown = entries[i];
      if (typeof e !== "object" || e === null) continue;
      const { name, value, valueFrom } = e as { name?: unknown; value?: unknown; valueFrom?: unknown };
      if (typeof name !== "string") continue;
      const index = this.names.length;
      this.names.push(name);
      // The API server defaults a missing value to "": only valueFrom makes a variable unknown.
      // A value of another type is malformed (the shape check says so): unknown.
      this.raw.push(valueFrom !== undefined && valueFrom !== null ? null : typeof value === "string" ? value : value === undefined || value === null ? "" : null);
      this.expanded.push(undefined);
      const list = this.defs.get(name);
      if (list) list.push(index);
      else this.defs.set(name, [index]);
    }
  }

  get size(): number {
    return this.names.length;
  }

  /** Some entry defines `name` (its value may still be unknown: valueFrom, over a limit). */
  defines(name: string): boolean {
    return this.defs.has(name);
  }

  /**
   * What a process in the container sees for `name`: its value; null when no entry
   * defines it and nothing else can (then it is unset, unless the runtime sets it);
   * undefined when unknown (valueFrom, envFrom, over a limit, set by the runtime).
   */
  lookup(name: string): string | null | undefined {
    const list = this.defs.get(name);
    if (list) return this.valueAt(list[list.length - 1]!, 0) ?? undefined;
    if (this.hasEnvFrom || isRuntimeVariable(name)) return undefined;
    return null;
  }

  /** The value the container sees for `name`, or undefined when unknown. */
  get(name: string): string | undefined {
    const list = this.defs.get(name);
    if (!list) return undefined;
    return this.valueAt(list[list.length - 1]!, 0) ?? undefined;
  }

  /** Expand command/args text against the final environment; undefined when over a limit. */
  expand(text: string): string | undefined {
    return expandText(text, (n) => this.get(n), this.budget);
  }

  /** The latest definition of `name` before index `before`, or -1. */
  private definedBefore(name: string, before: number): number {
    const list = this.defs.get(name);
    if (!list || list[0]! >= before) return -1;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid]! < before) lo = mid;
      else hi = mid - 1;
    }
    return list[lo]!;
  }

  private valueAt(index: number, depth: number): string | null {
    const memo = this.expanded[index];
    if (memo !== undefined) return memo;
    const raw = this.raw[index]!;
    let value: string | null = UNKNOWN;
    if (raw !== null) {
      if (depth >= MAX_DEPTH) value = raw.indexOf("$") < 0 ? raw : UNKNOWN;
      else
        value =
          expandText(
            raw,
            (n) => {
              const def = this.definedBefore(n, index);
              return def < 0 ? undefined : (this.valueAt(def, depth + 1) ?? undefined);
            },
            this.budget,
          ) ?? UNKNOWN;
    }
    this.expanded[index] = value;
    return value;
  }

  /** Every known variable, expanded (for callers that want the whole map; bounded by the budget). */
  toMap(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of this.defs.keys()) {
      const v = this.get(name);
      if (v !== undefined) out.set(name, v);
    }
    return out;
  }
}

/**
 * Variables a container has without its spec naming them: set by Kubernetes (service
 * links `FOO_SERVICE_HOST`, `FOO_PORT_80_TCP…`, `KUBERNETES_*`), the runtime and the
 * image (HOME, HOSTNAME, PATH, …), or the shell itself. Their values are unknown; any
 * other name the spec does not define is unset (an image's own ENV is not visible to a
 * manifest check; it is taken as not setting the names a script tests).
 */
export function isRuntimeVariable(name: string): boolean {
  if (RUNTIME_VARIABLES.has(name)) return true;
  if (name.startsWith("KUBERNETES_")) return true;
  return name.endsWith("_SERVICE_HOST") || name.indexOf("_SERVICE_PORT") > 0 || name.endsWith("_PORT") || name.indexOf("_PORT_") > 0;
}

const RUNTIME_VARIABLES = new Set([
  "HOME", "HOSTNAME", "PATH", "TERM", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ", "PWD", "OLDPWD", "SHLVL", "PPID",
  "UID", "EUID", "GID", "RANDOM", "LINENO", "SECONDS", "BASH", "BASHPID", "BASH_VERSION", "BASH_SOURCE", "HOSTTYPE",
  "OSTYPE", "MACHTYPE", "OPTIND", "OPTARG", "REPLY", "PS1", "PS2", "PS4", "ENV", "BASH_ENV", "CDPATH",
]);
