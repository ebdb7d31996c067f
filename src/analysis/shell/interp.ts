/**
 * Abstract evaluation of a parsed script: which processes it can start, with which
 * words and environment, and on which paths.
 *
 * Every simple command that can run is visited — sequences, `&&`/`||`, pipelines,
 * groups, subshells, background jobs, loop bodies, called functions, command
 * substitutions, `eval` of text the spec fixes — and the external ones are handed
 * to the host (programs.ts), which unwraps wrappers and nested shells. Builtins
 * change the state instead: assignments, `export`/`readonly`/`local`/`declare`,
 * `set --`, `shift`, `unset`, `read` (unknown), `.` (everything unknown).
 *
 * Paths. A condition the spec decides (`[ "$DEBUG" = 1 ]` with DEBUG=0 from an env
 * literal, `true`, `case` on a known word) takes only its live branch; an undecided
 * one takes both, each under a guard literal. Guards form a tree (the path
 * conditions so far), so the set of paths that reach a command is the node it is
 * run under; joining paths is their lowest common ancestor. A process is certain
 * when every path that runs any process runs it (see certainProcesses): paths that
 * end (`exit`, a failed `&&` at the end, `exec` elsewhere) bind nothing and do not
 * count. Ordinary commands are assumed to succeed unless their status decides a
 * branch (`a && b` runs b only on some paths; `set -e` failures end a path).
 *
 * Cost. Each construct is evaluated once per time control reaches it: loops once
 * (the variables the body assigns are unknown on entry, so one pass stands for
 * every iteration), functions once per call (recursion stops at a function already
 * being run), `eval` and nested shells with a depth bound. Every step, character
 * and field is paid from the container's work budget (WorkBudget): past it the
 * container's binds are unknown.
 */
import { chargeWork, type WorkBudget } from "../env-expansion.js";
import { evalDoubleBracket, evalTest, not, type Tri } from "./conditions.js";
import { expandFields, expandPattern, expandString, isUnknown, joinScalars, matchPattern, sameValue, spell, unknown, type ExpandScope, type Scalar, type Unknown, type Value } from "./expand.js";
import { arithAssigned, isName, literalText, parseScript, plainText, wordParts, type AndOr, type Assign, type Command, type List, type ListItem, type NameSet, type Pipeline, type SyntaxOptions, type WordPart } from "./syntax.js";

/**
 * What evaluating costs, in work units of about 1,000 wasm instructions (see PARSE_COST):
 * a command, a simple command and each of its words, a compound command, a branch
 * taken both ways, a loop body, a function call, a variable written.
 */
export const EVAL_COST = { command: 25, simple: 40, word: 6, builtin: 10, external: 45, compound: 60, branch: 50, loop: 140, call: 120, write: 3, assign: 35, test: 30, item: 25, define: 40 } as const;

/** Deepest evaluation (nested compound commands, function calls, `eval`, nested shells). */
export const MAX_EVAL_DEPTH = 64;

export class ShellBoundError extends Error {}

// ---- paths --------------------------------------------------------------------------------

/** A node of the path tree: the paths on which every branch decision so far went one way. */
export class Guard {
  /** The flows that simply go on from here, by status (shared: flows are never changed once made). */
  flows: (Flow | undefined)[] | null = null;
  constructor(
    readonly parent: Guard | null,
    readonly depth: number,
  ) {}
  /** A fresh branch decision taken one way below this node. */
  child(): Guard {
    return new Guard(this, this.depth + 1);
  }
}

/** The paths of either: their lowest common ancestor. */
export function joinGuards(a: Guard | null, b: Guard | null, budget?: WorkBudget): Guard | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  let x = a;
  let y = b;
  let steps = 0;
  while (x.depth > y.depth) (x = x.parent!), steps++;
  while (y.depth > x.depth) (y = y.parent!), steps++;
  while (x !== y) (x = x.parent!), (y = y.parent!), (steps += 2);
  if (budget) chargeWork(budget, steps);
  return x;
}

/**
 * The node every counting process's path passes through (their lowest common
 * ancestor), in time linear in the nodes walked. A process is certain when it runs
 * under exactly this node: then every path that runs any process runs it.
 */
export function commonGuard(guards: readonly Guard[]): Guard | null {
  if (guards.length === 0) return null;
  let top = guards[0]!;
  let same = true;
  for (let i = 1; i < guards.length && same; i++) same = guards[i] === top;
  if (same) return top; // the usual case: every process on the same paths
  const chain = new Set<Guard>();
  const seen = new Set<Guard>();
  for (let n: Guard | null = top; n !== null; n = n.parent) chain.add(n);
  for (let i = 1; i < guards.length; i++) {
    let n: Guard | null = guards[i]!;
    while (n !== null && !chain.has(n) && !seen.has(n)) {
      seen.add(n);
      n = n.parent;
    }
    // A node seen before lies below the current top already.
    if (n === null || !chain.has(n)) continue;
    for (let m: Guard = top; m !== n; m = m.parent!) {
      chain.delete(m);
      seen.add(m);
    }
    top = n;
  }
  return top;
}

// ---- variables ----------------------------------------------------------------------------

/** A shell variable: its value and whether it is exported; null = unset. Functions live here too. */
type Entry = { v: Value; x: boolean; fn?: Command } | null;

/** The environment a process starts with: a value, null when unset, an Unknown when the manifest cannot tell. */
export interface ProcessEnv {
  get(name: string): Scalar | null;
}

const CLOBBER = "\u0000*";
const POSITIONAL = "\u0000@";
const ALLEXPORT = "\u0000a";
const FUNCTION = "\u0000f:";

interface History {
  stamps: number[];
  entries: Entry[];
}

/**
 * Where a branch began in the undo log: every write logs the name and the entry it
 * replaced, so a branch is a position in that log (nothing to allocate), undone by
 * restoring its entries backwards and merged from the names after it.
 */
type Frame = number;

const NO_STATE: Map<string, Entry> = new Map();

/**
 * The shell's variables, with their history: every write is stamped, so the
 * environment a process started with stays readable after later writes (a
 * snapshot is a stamp), at no copying cost. Branches roll their writes back.
 */
class Vars {
  private readonly hist = new Map<string, History>();
  private stamp = 0;
  /** The undo log: names and the entries their writes replaced, in order. */
  private readonly logNames: string[] = [];
  private readonly logOld: Entry[] = [];

  constructor(
    private readonly base: ProcessEnv,
    private readonly budget: WorkBudget,
    /** `$1 …` as the process starts. */
    private readonly positional: readonly Scalar[],
  ) {}

  now(): number {
    return this.stamp;
  }

  private fromBase(name: string): Entry {
    if (name.charCodeAt(0) === 0) return name === POSITIONAL ? { v: this.positional, x: false } : null;
    const v = this.base.get(name);
    return v === null ? null : { v, x: true };
  }

  /** The entry as of `stamp` (the latest when omitted), with `.`'s clobbering applied. */
  at(name: string, stamp = this.stamp): Entry {
    const h = this.hist.get(name);
    let written = -1;
    let entry: Entry = null;
    if (h) {
      const k = lastAtOrBefore(h.stamps, stamp);
      if (k >= 0) {
        written = h.stamps[k]!;
        entry = h.entries[k]!;
      }
    }
    if (written < 0) entry = this.fromBase(name);
    // `.` and `eval` of unknown text clobber plain variables; functions and "$@" are kept.
    if (name.charCodeAt(0) !== 0) {
      const c = this.at(CLOBBER, stamp);
      if (c !== null && Number(c.v) > written) return { v: unknown(`\${${name}}`), x: true };
    }
    return entry;
  }

  get(name: string): Entry {
    return this.at(name);
  }

  private write(name: string, entry: Entry): void {
    chargeWork(this.budget, EVAL_COST.write);
    let h = this.hist.get(name);
    if (!h) this.hist.set(name, (h = { stamps: [], entries: [] }));
    h.stamps.push(++this.stamp);
    h.entries.push(entry);
  }

  set(name: string, entry: Entry): void {
    this.logNames.push(name);
    this.logOld.push(this.get(name));
    this.write(name, entry);
  }

  /** Every variable unknown from now on (`.`, an `eval` of unknown text). */
  clobber(): void {
    this.set(CLOBBER, { v: String(this.stamp + 1), x: false });
  }

  mark(): Frame {
    return this.logNames.length;
  }

  /** The current entries of every name written since `frame` began. */
  capture(frame: Frame): Map<string, Entry> {
    const names = this.logNames;
    if (names.length <= frame) return NO_STATE;
    const out = new Map<string, Entry>();
    for (let i = frame; i < names.length; i++) if (!out.has(names[i]!)) out.set(names[i]!, this.get(names[i]!));
    chargeWork(this.budget, EVAL_COST.write * (names.length - frame));
    return out;
  }

  /** Undo every write since `frame` began (newest first, so each name ends as it was). */
  rollback(frame: Frame): void {
    const names = this.logNames;
    const olds = this.logOld;
    for (let i = names.length - 1; i >= frame; i--) this.write(names[i]!, olds[i]!);
    names.length = frame;
    olds.length = frame;
  }

  /** End `frame`, keeping its writes (they stay in the log, for the branches around it). */
  commit(_frame: Frame): void {}

  /** After branches: each name takes the value every surviving branch agrees on, else unknown. */
  merge(states: readonly Map<string, Entry>[]): void {
    let any = false;
    for (let i = 0; i < states.length && !any; i++) any = states[i]!.size > 0;
    if (!any) return;
    const names = new Set<string>();
    for (const s of states) for (const n of s.keys()) names.add(n);
    for (const name of names) {
      const current = this.get(name);
      let merged: Entry | undefined;
      let differs = false;
      for (const s of states) {
        const e = s.has(name) ? s.get(name)! : current;
        if (merged === undefined) merged = e;
        else if (!sameEntry(merged, e)) differs = true;
      }
      if (name === CLOBBER) {
        // Clobbered on some branch: clobbered after the join.
        let latest = 0;
        for (const s of states) {
          const e = s.get(name);
          if (e) latest = Math.max(latest, Number(e.v));
        }
        if (differs) this.set(name, { v: String(latest), x: false });
        else if (merged !== undefined && !sameEntry(merged, current)) this.set(name, merged);
        continue;
      }
      if (differs) this.set(name, { v: unknown(name.charCodeAt(0) === 0 ? "${@}" : `\${${name}}`), x: true });
      else if (merged !== undefined && !sameEntry(merged, current)) this.set(name, merged);
    }
  }

  /** The environment a process started now sees (exported variables). */
  private lastSnapshot: ProcessEnv | null = null;
  private lastSnapshotStamp = -1;

  snapshot(overlay: Map<string, Scalar | null> | null): ProcessEnv {
    const stamp = this.stamp;
    // Processes started with no write in between see the same environment.
    if (overlay === null && this.lastSnapshotStamp === stamp) return this.lastSnapshot!;
    const env: ProcessEnv = {
      get: (name: string): Scalar | null => {
        if (overlay?.has(name)) return overlay.get(name)!;
        const e = this.at(name, stamp);
        if (e === null || !e.x || Array.isArray(e.v)) return null;
        return e.v as Scalar;
      },
    };
    if (overlay === null) {
      this.lastSnapshot = env;
      this.lastSnapshotStamp = stamp;
    }
    return env;
  }
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === null || b === null) return a === b;
  return a.x === b.x && a.fn === b.fn && sameValue(a.v, b.v);
}

function lastAtOrBefore(stamps: number[], stamp: number): number {
  let lo = 0;
  let hi = stamps.length - 1;
  if (hi < 0 || stamps[0]! > stamp) return -1;
  if (stamps[hi]! <= stamp) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (stamps[mid]! <= stamp) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---- evaluation ---------------------------------------------------------------------------

/** How control leaves a construct: the paths that go on, break, continue or return (null: none). */
interface Flow {
  next: Guard | null;
  brk: Guard | null;
  cont: Guard | null;
  ret: Guard | null;
  /** The exit status on the paths that go on: true = success. */
  status: Tri;
}

const ENDED: Flow = { next: null, brk: null, cont: null, ret: null, status: null };

/** The flow that goes on at `g` with `status` (every path ended when g is null). */
function flowTo(g: Guard | null, status: Tri = null): Flow {
  if (g === null) return ENDED;
  const flows = (g.flows ??= []);
  const k = status === null ? 0 : status ? 1 : 2;
  return (flows[k] ??= { next: g, brk: null, cont: null, ret: null, status });
}

/** What the evaluation tells its host (programs.ts). */
export interface ShellHost {
  readonly budget: WorkBudget;
  /** Options for parsing `eval`'d text. */
  readonly syntax: SyntaxOptions;
  /** An external command runs with these words and environment, on the paths of `guard`. */
  run(argv: Scalar[], env: ProcessEnv, guard: Guard, depth: number): void;
}

export interface ShellProcess {
  /** The environment the shell starts with. */
  env: ProcessEnv;
  /** `$0`, and `$1 …`. */
  arg0: Scalar;
  positional: readonly Scalar[];
  /** The paths on which the shell itself runs. */
  guard: Guard;
  /** Nesting so far (shells inside shells, from the container's command). */
  depth: number;
}

/** Builtins that run no process and never bind: their status is read where it decides something. */
const BUILTINS = new Set([
  ":", "true", "false", "echo", "printf", "test", "[", "cd", "pwd", "pushd", "popd", "dirs", "umask", "ulimit", "trap", "wait",
  "hash", "type", "alias", "unalias", "shopt", "times", "jobs", "kill", "bg", "fg", "disown", "suspend", "history", "help", "caller",
  "enable", "complete", "compgen", "compopt", "bind", "logout", "fc", "ulimit", "let", "getopts", "read", "mapfile", "readarray",
  "unset", "export", "readonly", "declare", "typeset", "local", "set", "shift", "eval", "exec", "exit", "return", "break", "continue",
  ".", "source", "command", "builtin",
]);

/** Builtins whose only effect here is their status. */
const QUIET_BUILTINS = new Set([":", "true", "false", "echo", "cd", "pwd", "umask", "ulimit", "trap", "wait", "hash", "type", "alias", "unalias", "shopt", "times", "jobs", "kill", "bg", "fg", "disown", "history", "help", "enable", "logout", "pushd", "popd", "dirs"]);

/** POSIX special builtins: found before functions. */
const SPECIAL_BUILTINS = new Set([":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift", "times", "trap", "unset", "source"]);

interface LoopContext {
  kind: "loop";
  frame: Frame;
  breaks: Map<string, Entry>[];
}
interface FunctionContext {
  kind: "function";
  frame: Frame;
  returns: Map<string, Entry>[];
  locals: Map<string, Entry>;
  name: string;
}

/** Evaluate a parsed script as a shell process. */
export function evaluateScript(body: List, process: ShellProcess, host: ShellHost): void {
  new Interp(process, host).run(body);
}

class Interp implements ExpandScope {
  private readonly vars: Vars;
  private depth: number;
  private readonly contexts: (LoopContext | FunctionContext | { kind: "subshell" })[] = [];
  /** Functions being run (a call to one of them again is recursion). */
  private calling: Set<string> | null = null;
  /** Function definitions evaluated so far (none: no command name needs looking up as one). */
  private functions = 0;

  constructor(
    private readonly process: ShellProcess,
    private readonly host: ShellHost,
  ) {
    this.vars = new Vars(process.env, host.budget, process.positional);
    this.depth = process.depth;
  }

  run(body: List): void {
    this.list(body, this.process.guard);
  }

  private enter(): void {
    if (++this.depth > MAX_EVAL_DEPTH) throw new ShellBoundError(`script evaluation nested more than ${MAX_EVAL_DEPTH} deep`);
  }
  private leave(): void {
    this.depth--;
  }

  // -- the scope expansions see

  // ExpandScope: the interpreter is the scope its expansions see (methods, not closures:
  // nothing to allocate per script).
  get(name: string): Value | null {
    const e = this.vars.get(name);
    return e === null ? null : e.v;
  }
  set(name: string, value: Scalar): void {
    this.assign(name, value, false);
  }
  arg0(): Scalar {
    return this.process.arg0;
  }
  positional(): readonly Scalar[] | Unknown {
    const e = this.vars.get(POSITIONAL);
    if (e === null) return [];
    return Array.isArray(e.v) ? (e.v as readonly Scalar[]) : (e.v as Unknown);
  }
  substitute(part: Extract<WordPart, { k: "cmdsub" | "procsub" }>): void {
    // The commands run in a subshell, on the paths of the command being expanded.
    const g = this.currentGuard;
    this.subshell(() => this.list(part.body, g));
    this.currentGuard = g;
  }
  charge(units: number): void {
    chargeWork(this.host.budget, units);
  }
  /** The guard of the command being expanded (for command substitutions). */
  private currentGuard!: Guard;

  private assign(name: string, value: Value, exported: boolean): void {
    const old = this.vars.get(name);
    const allexport = this.vars.get(ALLEXPORT);
    const x = exported || (old !== null && old.x) || (allexport !== null && allexport.v === "1");
    this.vars.set(name, { v: value, x });
  }

  private subshell(run: () => void): void {
    const frame = this.vars.mark();
    this.contexts.push({ kind: "subshell" });
    try {
      run();
    } finally {
      this.contexts.pop();
      this.vars.rollback(frame);
    }
  }

  // -- lists

  private list(list: List, g: Guard): Flow {
    this.enter();
    let flow = flowTo(g, true);
    let brk: Guard | null = null;
    let cont: Guard | null = null;
    let ret: Guard | null = null;
    const items = list.items;
    for (let i = 0; i < items.length; i++) {
      const g2 = flow.next;
      if (g2 === null) break; // every path has ended: the rest is dead code
      const item = items[i]!;
      if (list.bg !== null && list.bg[i]) {
        this.subshell(() => this.item(item, g2));
        flow = flowTo(g2, true);
        continue;
      }
      flow = this.item(item, g2);
      if (flow.brk !== null) brk = joinGuards(brk, flow.brk, this.host.budget);
      if (flow.cont !== null) cont = joinGuards(cont, flow.cont, this.host.budget);
      if (flow.ret !== null) ret = joinGuards(ret, flow.ret, this.host.budget);
    }
    this.leave();
    if (brk === null && cont === null && ret === null) return flow.brk === null && flow.cont === null && flow.ret === null ? flow : flowTo(flow.next, flow.status);
    return { next: flow.next, brk, cont, ret, status: flow.status };
  }

  private item(node: ListItem, g: Guard): Flow {
    if (node.k === "andor") return this.andOr(node, g);
    if (node.k === "pipe") return this.pipeline(node, g);
    return this.command(node, g);
  }

  private andOr(ao: AndOr, g: Guard): Flow {
    let flow = this.item(ao.first, g);
    for (const { op, p } of ao.rest) {
      if (flow.next === null) break;
      const runIt: Tri = op === "&&" ? flow.status : not(flow.status);
      if (runIt === false) continue; // the status passes through unchanged
      if (runIt === true) {
        flow = this.seq(flow, this.item(p, flow.next));
        continue;
      }
      // Undecided: on some paths p runs, on others the list goes on without it.
      this.charge(EVAL_COST.branch);
      const g0 = flow.next;
      const taken = g0.child();
      const skipped = g0.child();
      const frame = this.vars.mark();
      const f = this.item(p, taken);
      const state = f.next !== null ? this.vars.capture(frame) : null;
      this.vars.rollback(frame);
      if (state !== null && state !== NO_STATE) this.vars.merge([state, NO_STATE]);
      const merged = this.seq(flow, { ...f, next: joinGuards(f.next, skipped, this.host.budget), status: null });
      flow = merged;
    }
    return flow;
  }

  /** `a` then `b`, where `b` was evaluated on `a`'s continuing paths. */
  private seq(a: Flow, b: Flow): Flow {
    const budget = this.host.budget;
    return { next: b.next, brk: joinGuards(a.brk, b.brk, budget), cont: joinGuards(a.cont, b.cont, budget), ret: joinGuards(a.ret, b.ret, budget), status: b.status };
  }

  private pipeline(p: Pipeline, g: Guard): Flow {
    if (p.cmds.length === 1) {
      const f = this.command(p.cmds[0]!, g);
      return p.bang ? { ...f, status: not(f.status) } : f;
    }
    // Every part runs, each in its own subshell; the status is the last one's.
    let status: Tri = null;
    for (const cmd of p.cmds) this.subshell(() => (status = this.command(cmd, g).status));
    return flowTo(g, p.bang ? not(status) : status);
  }

  // -- commands

  private command(cmd: Command, g: Guard): Flow {
    this.charge(cmd.k === "simple" ? EVAL_COST.command : EVAL_COST.compound);
    switch (cmd.k) {
      case "simple":
        return this.simple(cmd, g);
      case "group":
        return this.list(cmd.body, g);
      case "subshell": {
        let status: Tri = null;
        this.subshell(() => (status = this.list(cmd.body, g).status));
        return flowTo(g, status);
      }
      case "if":
        return this.ifCommand(cmd, g);
      case "while":
        return this.whileCommand(cmd, g);
      case "for":
        return this.forCommand(cmd, g);
      case "case":
        return this.caseCommand(cmd, g);
      case "func":
        this.charge(EVAL_COST.define);
        this.functions++;
        this.vars.set(FUNCTION + cmd.name, { v: "", x: false, fn: cmd });
        return flowTo(g, true);
      case "arith":
        for (const name of arithAssigned(cmd.text)) this.assign(name, unknown(`\${${name}}`), false);
        return flowTo(g, null);
      case "test":
        this.charge(EVAL_COST.test);
        this.currentGuard = g;
        return flowTo(g, cmd.expr === null ? false : evalDoubleBracket(cmd.expr, this));
    }
  }

  /**
   * Branches: each `[guard, evaluate]` runs on a rolled-back copy of the variables;
   * afterwards they hold what the branches that go on agree on.
   */
  private branches(sides: (() => Flow)[]): Flow {
    const states: Map<string, Entry>[] = [];
    let out: Flow = { next: null, brk: null, cont: null, ret: null, status: null };
    let statuses = 0;
    const budget = this.host.budget;
    for (const side of sides) {
      this.charge(EVAL_COST.branch);
      const frame = this.vars.mark();
      const f = side();
      if (f.next !== null) states.push(this.vars.capture(frame));
      this.vars.rollback(frame);
      // The status on the paths that go on: what every continuing side agrees on.
      let status = out.status;
      if (f.next !== null) status = statuses++ === 0 ? f.status : out.status === f.status ? f.status : null;
      out = {
        next: joinGuards(out.next, f.next, budget),
        brk: joinGuards(out.brk, f.brk, budget),
        cont: joinGuards(out.cont, f.cont, budget),
        ret: joinGuards(out.ret, f.ret, budget),
        status,
      };
    }
    this.vars.merge(states);
    return out;
  }

  private ifCommand(cmd: Extract<Command, { k: "if" }>, g: Guard): Flow {
    if (cmd.clauses.length === 1 && cmd.otherwise === null) return this.ifThen(cmd.clauses[0]!, g);
    const clause = (k: number, g1: Guard): Flow => {
      if (k === cmd.clauses.length) return cmd.otherwise ? this.list(cmd.otherwise, g1) : flowTo(g1, true);
      const c = cmd.clauses[k]!;
      const cond = this.list(c.cond, g1);
      if (cond.next === null) return cond;
      const g2 = cond.next;
      if (cond.status === true) return this.seq(cond, this.list(c.body, g2));
      if (cond.status === false) return this.seq(cond, clause(k + 1, g2));
      const yes = g2.child();
      const no = g2.child();
      return this.seq(cond, this.branches([() => this.list(c.body, yes), () => clause(k + 1, no)]));
    };
    const f = clause(0, g);
    return f;
  }

  /** `if c; then b; fi`, the usual form: the other way takes no branch at all. */
  private ifThen(clause: { cond: List; body: List }, g: Guard): Flow {
    const cond = this.list(clause.cond, g);
    if (cond.next === null) return cond;
    const g2 = cond.next;
    if (cond.status === false) return this.seq(cond, flowTo(g2, true));
    if (cond.status === true) return this.seq(cond, this.list(clause.body, g2));
    this.charge(EVAL_COST.branch);
    const frame = this.vars.mark();
    const body = this.list(clause.body, g2.child());
    const state = body.next !== null ? this.vars.capture(frame) : null;
    this.vars.rollback(frame);
    if (state !== null && state !== NO_STATE) this.vars.merge([state, NO_STATE]);
    const budget = this.host.budget;
    const next = joinGuards(body.next, g2.child(), budget);
    return { next, brk: joinGuards(cond.brk, body.brk, budget), cont: joinGuards(cond.cont, body.cont, budget), ret: joinGuards(cond.ret, body.ret, budget), status: null };
  }

  /** Names a loop (or function) body may assign, with those of the functions it calls; `.` and `eval` make it every name. */
  private widen(assigned: NameSet): void {
    const names = new Set<string>();
    let dynamic = false;
    const seen = new Set<string>();
    const visit = (set: NameSet) => {
      for (const n of set.names) names.add(n);
      if (set.dynamic) dynamic = true;
      for (const call of set.calls) {
        if (seen.has(call)) continue;
        seen.add(call);
        const fn = this.vars.get(FUNCTION + call)?.fn;
        if (fn && fn.k === "func") visit(fn.assigned);
      }
    };
    visit(assigned);
    this.charge(EVAL_COST.write * (names.size + seen.size));
    if (dynamic) {
      this.vars.clobber();
      return;
    }
    for (const name of names) {
      if (name === "@") {
        this.vars.set(POSITIONAL, { v: unknown("${@}"), x: false });
        continue;
      }
      const old = this.vars.get(name);
      if (name === POSITIONAL) this.vars.set(name, { v: unknown("${@}"), x: false });
      else this.vars.set(name, { v: unknown(`\${${name}}`), x: old?.x ?? false });
    }
  }

  private loopBody(body: List, g: Guard): { flow: Flow; end: Map<string, Entry> | null; breaks: Map<string, Entry>[] } {
    this.charge(EVAL_COST.loop);
    const frame = this.vars.mark();
    const ctx: LoopContext = { kind: "loop", frame, breaks: [] };
    this.contexts.push(ctx);
    let flow: Flow;
    try {
      flow = this.list(body, g);
    } finally {
      this.contexts.pop();
    }
    const end = flow.next !== null || flow.cont !== null ? this.vars.capture(frame) : null;
    this.vars.rollback(frame);
    return { flow, end, breaks: ctx.breaks };
  }

  private whileCommand(cmd: Extract<Command, { k: "while" }>, g: Guard): Flow {
    this.widen(cmd.assigned);
    const cond = this.list(cmd.cond, g);
    if (cond.next === null) return cond;
    const runs = cmd.until ? not(cond.status) : cond.status;
    if (runs === false) return flowTo(cond.next, true);
    const inside = runs === true ? cond.next : cond.next.child();
    const { flow, end, breaks } = this.loopBody(cmd.body, inside);
    const budget = this.host.budget;
    // The loop ends when the condition fails (only possible when it is undecided) or at a break.
    let next = joinGuards(flow.brk, null);
    const states = [...breaks];
    if (runs === null) {
      next = joinGuards(next, flow.next !== null || flow.cont !== null ? cond.next : cond.next.child(), budget);
      states.push(NO_STATE);
      if (end) states.push(end);
    }
    if (next !== null) this.vars.merge(states);
    return { next, brk: null, cont: null, ret: flow.ret, status: true };
  }

  private forCommand(cmd: Extract<Command, { k: "for" }>, g: Guard): Flow {
    this.currentGuard = g;
    let items: readonly Scalar[] | Unknown;
    if (cmd.items === null) items = this.positional();
    else if (cmd.name === "") items = unknown("${…}"); // for ((…))
    else {
      const list: Scalar[] = [];
      for (const w of cmd.items) list.push(...expandFields(w, this));
      items = list;
    }
    if (!isUnknown(items) && items.length === 0) return flowTo(g, true);
    this.widen(cmd.assigned);
    // Known words: the body runs (with the loop variable known when every word is the same).
    // An unknown word may expand to any number of words.
    const runs = !isUnknown(items) && items.every((v) => typeof v === "string");
    const inside = runs ? g : g.child();
    if (cmd.name !== "") {
      const single = !isUnknown(items) && items.every((v) => sameValue(v, items[0]!)) ? (items as Scalar[])[0]! : unknown(`\${${cmd.name}}`);
      this.assign(cmd.name, single, false);
    }
    const { flow, end, breaks } = this.loopBody(cmd.body, inside);
    const budget = this.host.budget;
    let next = flow.brk;
    const states = [...breaks];
    if (flow.next !== null || flow.cont !== null) {
      next = joinGuards(next, runs ? g : inside, budget);
      if (end) states.push(end);
    }
    if (!runs) {
      next = joinGuards(next, g.child(), budget);
      states.push(NO_STATE);
    }
    if (next !== null) this.vars.merge(states);
    return { next, brk: null, cont: null, ret: flow.ret, status: true };
  }

  private caseCommand(cmd: Extract<Command, { k: "case" }>, g: Guard): Flow {
    this.currentGuard = g;
    const subject = expandString(cmd.word, this);
    const matches = (k: number): Tri => {
      this.charge(EVAL_COST.item);
      let r: Tri = false;
      for (const pw of cmd.items[k]!.patterns) {
        const pattern = expandPattern(pw, this);
        let m: Tri;
        if (pattern === null) m = null;
        else if (pattern.length === 1 && pattern[0]!.k === "star") m = true;
        else m = typeof subject === "string" ? matchPattern(pattern, subject, this) : null;
        if (m === true) return true;
        if (m === null) r = null;
      }
      return r;
    };
    /** Items from `k` on, tested in order; `fall` runs item k's body without testing (after `;&`). */
    const from = (k: number, g1: Guard, fall: boolean): Flow => {
      if (k >= cmd.items.length) return flowTo(g1, true);
      const item = cmd.items[k]!;
      const body = (g2: Guard): Flow => {
        const f = this.list(item.body, g2);
        if (f.next === null || item.term === ";;") return f;
        return this.seq(f, from(k + 1, f.next, item.term === ";&"));
      };
      if (fall) return body(g1);
      const m = matches(k);
      if (m === true) return body(g1);
      if (m === false) return from(k + 1, g1, false);
      return this.branches([() => body(g1.child()), () => from(k + 1, g1.child(), false)]);
    };
    return from(0, g, false);
  }

  // -- simple commands

  private simple(cmd: Extract<Command, { k: "simple" }>, g: Guard): Flow {
    this.currentGuard = g;
    this.charge(EVAL_COST.simple + EVAL_COST.word * (cmd.words.length + cmd.assigns.length));
    let argv: Scalar[];
    if (cmd.plain) argv = cmd.words as string[]; // plain words expand to themselves
    else {
      argv = [];
      for (let i = 0; i < cmd.words.length; i++) {
        const decl = cmd.declared?.[i];
        if (decl) argv.push(`${decl.name}=`); // placeholder; the value is read from `decl`
        else {
          const fields = expandFields(cmd.words[i]!, this);
          for (let f = 0; f < fields.length; f++) argv.push(fields[f]!);
        }
      }
    }
    if (argv.length === 0) {
      // Assignments alone set shell variables.
      let status: Tri = true;
      for (const a of cmd.assigns) {
        if (hasSubstitution(a)) status = null;
        this.applyAssign(a, false);
      }
      return flowTo(g, status);
    }
    const name = argv[0]!;
    if (typeof name !== "string") return this.external(argv, cmd.assigns, g);
    // Functions come before builtins, except POSIX special builtins.
    const fn = this.functions === 0 || SPECIAL_BUILTINS.has(name) ? undefined : this.vars.get(FUNCTION + name)?.fn;
    if (fn && fn.k === "func") return this.call(fn, argv, cmd.assigns, g);
    if (BUILTINS.has(name)) return this.builtin(name, argv, cmd, g);
    return this.external(argv, cmd.assigns, g);
  }

  private applyAssign(a: Assign, exported: boolean): void {
    this.charge(EVAL_COST.assign);
    this.currentGuard = this.currentGuard ?? this.process.guard;
    if (a.array !== null) {
      const items: Scalar[] = [];
      for (const w of a.array) items.push(...expandFields(w, this));
      const old = this.vars.get(a.name);
      const base = a.append && old !== null ? (Array.isArray(old.v) ? old.v : [old.v as Scalar]) : [];
      this.assign(a.name, [...base, ...items], exported);
      return;
    }
    const value = a.value === null ? "" : expandString(a.value, this);
    if (a.index !== null) {
      // A[i]=v: the array as a whole becomes unknown unless it is a plain index into a known array.
      const old = this.vars.get(a.name);
      const i = literalText(a.index);
      if (old !== null && Array.isArray(old.v) && i !== null && /^[0-9]{1,6}$/.test(i)) {
        const copy = old.v.slice();
        copy[Number(i)] = value;
        for (let k = 0; k < copy.length; k++) if (copy[k] === undefined) copy[k] = "";
        this.assign(a.name, copy, exported);
      } else this.assign(a.name, unknown(`\${${a.name}}`), exported);
      return;
    }
    if (a.append) {
      const old = this.vars.get(a.name);
      if (old === null) this.assign(a.name, value, exported);
      else if (Array.isArray(old.v)) this.assign(a.name, [...old.v, value], exported);
      else this.assign(a.name, joinScalars([old.v as Scalar, value], ""), exported);
      return;
    }
    this.assign(a.name, value, exported);
  }

  /** The environment an external command or function starts with: the exported variables plus `NAME=value` before it. */
  private environment(assigns: readonly Assign[]): ProcessEnv {
    if (assigns.length === 0) return this.vars.snapshot(null);
    const overlay = new Map<string, Scalar | null>();
    for (const a of assigns) {
      if (a.array !== null || a.index !== null) continue;
      const v = a.value === null ? "" : expandString(a.value, this);
      overlay.set(a.name, a.append ? unknown(`\${${a.name}}`) : v);
    }
    return this.vars.snapshot(overlay);
  }

  private external(argv: Scalar[], assigns: readonly Assign[], g: Guard): Flow {
    this.charge(EVAL_COST.external);
    this.host.run(argv, this.environment(assigns), g, this.depth);
    return flowTo(g, null);
  }

  private call(fn: Extract<Command, { k: "func" }>, argv: Scalar[], assigns: readonly Assign[], g: Guard): Flow {
    this.charge(EVAL_COST.call);
    const calling = (this.calling ??= new Set());
    if (calling.has(fn.name)) return flowTo(g, null); // recursion: evaluated once, at the outer call
    this.enter();
    calling.add(fn.name);
    const savedPositional = this.vars.get(POSITIONAL);
    const frame = this.vars.mark();
    const ctx: FunctionContext = { kind: "function", frame, returns: [], locals: new Map(), name: fn.name };
    // `NAME=value f`: the assignments hold during the call.
    for (const a of assigns) {
      ctx.locals.set(a.name, this.vars.get(a.name));
      this.applyAssign(a, true);
    }
    this.vars.set(POSITIONAL, { v: argv.slice(1), x: false });
    this.contexts.push(ctx);
    let flow: Flow;
    try {
      flow = this.command(fn.body, g);
    } finally {
      this.contexts.pop();
      calling.delete(fn.name);
    }
    if (ctx.returns.length > 0) {
      const states = [...ctx.returns];
      if (flow.next !== null) states.push(this.vars.capture(frame));
      this.vars.rollback(frame);
      this.vars.merge(states);
    } else this.vars.commit(frame);
    for (const [name, old] of ctx.locals) this.vars.set(name, old);
    this.vars.set(POSITIONAL, savedPositional);
    this.leave();
    const next = joinGuards(flow.next, flow.ret, this.host.budget);
    return { next, brk: flow.brk, cont: flow.cont, ret: null, status: flow.ret !== null && flow.next !== null ? null : flow.status };
  }

  private innermost<K extends "loop" | "function">(kind: K): (K extends "loop" ? LoopContext : FunctionContext) | null {
    for (let i = this.contexts.length - 1; i >= 0; i--) {
      const c = this.contexts[i]!;
      if (c.kind === "subshell") return null;
      if (c.kind === kind) return c as K extends "loop" ? LoopContext : FunctionContext;
    }
    return null;
  }

  private builtin(name: string, argv: Scalar[], cmd: Extract<Command, { k: "simple" }>, g: Guard): Flow {
    this.charge(EVAL_COST.builtin);
    // Builtins that only print or change what no process sees: one lookup, no argument copy.
    if (QUIET_BUILTINS.has(name)) return flowTo(g, name === "false" ? false : name === "cd" || name === "wait" || name === "kill" ? null : true);
    const args = argv.slice(1);
    const text = (v: Scalar | undefined) => (typeof v === "string" ? v : null);
    switch (name) {
      case ":":
      case "true":
        return flowTo(g, true);
      case "false":
        return flowTo(g, false);
      case "test":
        this.charge(EVAL_COST.test);
        return flowTo(g, evalTest(args));
      case "[":
        this.charge(EVAL_COST.test);
        return flowTo(g, text(args[args.length - 1]) === "]" ? evalTest(args.slice(0, -1)) : false);
      case "echo":
      case "printf":
        if (name === "printf" && text(args[0]) === "-v" && typeof args[1] === "string") this.assign(args[1], unknown(`\${${args[1]}}`), false);
        return flowTo(g, true);
      case "exit":
        return flowTo(null);
      case "return": {
        const ctx = this.innermost("function");
        if (ctx) ctx.returns.push(this.vars.capture(ctx.frame));
        return { next: null, brk: null, cont: null, ret: ctx ? g : null, status: null };
      }
      case "break":
      case "continue": {
        const ctx = this.innermost("loop");
        if (!ctx) return flowTo(g, null);
        if (name === "break") {
          ctx.breaks.push(this.vars.capture(ctx.frame));
          return { next: null, brk: g, cont: null, ret: null, status: null };
        }
        return { next: null, brk: null, cont: g, ret: null, status: null };
      }
      case "exec": {
        let i = 0;
        while (i < args.length) {
          const a = text(args[i]);
          if (a === "--") {
            i++;
            break;
          }
          if (a === null || a.length < 2 || a[0] !== "-") break;
          i += a === "-a" ? 2 : 1;
        }
        if (i >= args.length) return flowTo(g, true); // redirections only
        this.charge(EVAL_COST.item);
        this.external(args.slice(i), cmd.assigns, g);
        return flowTo(null); // the shell is replaced (or exits when it cannot be)
      }
      case "command":
      case "builtin": {
        let i = 0;
        let look = false;
        while (name === "command" && i < args.length) {
          const a = text(args[i]);
          if (a === "--") {
            i++;
            break;
          }
          if (a === null || a.length < 2 || a[0] !== "-") break;
          if (a.indexOf("v") > 0 || a.indexOf("V") > 0) look = true;
          i++;
        }
        if (look || i >= args.length) return flowTo(g, null);
        const inner = args.slice(i);
        const innerName = text(inner[0]);
        if (innerName !== null && BUILTINS.has(innerName)) return this.builtin(innerName, inner, cmd, g);
        if (name === "builtin") return flowTo(g, false);
        return this.external(inner, cmd.assigns, g);
      }
      case "eval":
        return this.evalText(joinScalars(args, " "), g);
      case ".":
      case "source":
        this.vars.clobber();
        return flowTo(g, null);
      case "set":
        this.charge(EVAL_COST.item);
        this.setBuiltin(args);
        return flowTo(g, true);
      case "shift": {
        const n = args.length === 0 ? 1 : Number(text(args[0]) ?? NaN);
        const pos = this.positional();
        if (isUnknown(pos) || !Number.isInteger(n) || n < 0) this.vars.set(POSITIONAL, { v: unknown("${@}"), x: false });
        else if (n > pos.length) return flowTo(g, false);
        else this.vars.set(POSITIONAL, { v: pos.slice(n), x: false });
        return flowTo(g, true);
      }
      case "export":
      case "readonly":
      case "declare":
      case "typeset":
      case "local":
        this.declare(name, args, cmd);
        return flowTo(g, true);
      case "unset": {
        let functions = false;
        for (const a of args) {
          const t = text(a);
          if (t === "-f") functions = true;
          else if (t === "-v" || t === "-n") functions = false;
          else if (t !== null && t.length > 0 && t[0] !== "-") this.vars.set(functions ? FUNCTION + t : t, null);
          else if (t === null) this.vars.clobber();
        }
        return flowTo(g, true);
      }
      case "read":
      case "getopts":
      case "mapfile":
      case "readarray":
      case "let":
        this.unknownAssignments(name, args);
        return flowTo(g, null);
      case "wait":
      case "cd":
      case "pushd":
      case "popd":
      case "kill":
      case "type":
      case "hash":
        return flowTo(g, null);
      default:
        return flowTo(g, true);
    }
  }

  private evalText(text: Scalar, g: Guard): Flow {
    if (typeof text !== "string") {
      // What runs is unknown: so is every variable after it.
      this.vars.clobber();
      return flowTo(g, null);
    }
    this.enter();
    try {
      const script = parseScript(text, this.host.syntax);
      return this.list(script.body, g);
    } finally {
      this.leave();
    }
  }

  private setBuiltin(args: Scalar[]): void {
    let i = 0;
    let positional = false;
    while (i < args.length) {
      const a = args[i];
      if (typeof a !== "string") {
        this.vars.clobber();
        return;
      }
      if (a === "--") {
        i++;
        positional = true;
        break;
      }
      if (a === "-" ) {
        i++;
        positional = i < args.length;
        break;
      }
      if (a.length < 2 || (a[0] !== "-" && a[0] !== "+")) {
        positional = true;
        break;
      }
      const on = a[0] === "-";
      for (let j = 1; j < a.length; j++) {
        if (a[j] === "a") this.vars.set(ALLEXPORT, { v: on ? "1" : "", x: false });
        if (a[j] === "o") {
          const opt = args[i + 1];
          if (opt === "allexport") this.vars.set(ALLEXPORT, { v: on ? "1" : "", x: false });
          i++;
        }
      }
      i++;
    }
    if (positional) this.vars.set(POSITIONAL, { v: args.slice(i), x: false });
  }

  private declare(builtin: string, args: Scalar[], cmd: Extract<Command, { k: "simple" }>): void {
    this.charge(EVAL_COST.define);
    const fnCtx = this.innermost("function");
    let exported = builtin === "export";
    let unexport = false;
    let global = builtin === "export" || builtin === "readonly";
    let computed = false; // -i, -n, -l, -u, -A: values not modelled
    let functions = false;
    // Operands: from the words when the parser read NAME=value ones as assignments, else the fields.
    const operands: (Scalar | Assign)[] = [];
    if (cmd.declared !== null) {
      for (let w = 1; w < cmd.words.length; w++) {
        const decl = cmd.declared[w];
        if (decl) operands.push(decl);
        else operands.push(...expandFields(cmd.words[w]!, this));
      }
    } else operands.push(...args);
    for (const a of operands) {
      if (typeof a === "string" && a.length > 1 && (a[0] === "-" || a[0] === "+")) {
        for (let j = 1; j < a.length; j++) {
          const c = a[j]!;
          if (c === "x") {
            if (a[0] === "-") exported = true;
            else unexport = true;
          } else if (c === "n" && builtin === "export") unexport = true;
          else if (c === "g") global = true;
          else if (c === "i" || c === "n" || c === "l" || c === "u" || c === "A") computed = true;
          else if (c === "f" || c === "F") functions = true;
        }
        continue;
      }
      if (functions) continue;
      const decl = typeof a === "object" && "name" in a ? a : null;
      let name: string;
      if (decl) name = decl.name;
      else if (typeof a === "string" && isName(a)) name = a;
      else {
        if (typeof a !== "string") this.vars.clobber(); // an unknown operand may name any variable
        continue;
      }
      const makesLocal = fnCtx !== null && !global && builtin !== "export" && builtin !== "readonly";
      if (makesLocal && !fnCtx.locals.has(name)) fnCtx.locals.set(name, this.vars.get(name));
      if (decl) {
        if (computed) this.assign(name, unknown(`\${${name}}`), exported);
        else this.applyAssign(decl, exported);
      } else if (makesLocal) this.vars.set(name, null);
      const now = this.vars.get(name);
      if (now !== null && (exported || unexport)) this.vars.set(name, { ...now, x: exported && !unexport });
    }
  }

  private unknownAssignments(builtin: string, args: Scalar[]): void {
    const names: string[] = [];
    let i = 0;
    if (builtin === "let") {
      for (const a of args) if (typeof a === "string") names.push(...arithAssigned(a));
    } else if (builtin === "getopts") {
      if (typeof args[1] === "string") names.push(args[1]);
      names.push("OPTARG", "OPTIND");
    } else {
      const valueOptions = builtin === "read" ? "adinNptu" : "dnOsuCc";
      for (; i < args.length; i++) {
        const a = args[i];
        if (typeof a !== "string") continue;
        if (a === "--") {
          i++;
          break;
        }
        if (a.length > 1 && a[0] === "-") {
          const last = a[a.length - 1]!;
          if (valueOptions.indexOf(last) >= 0) {
            if (last === "a" && typeof args[i + 1] === "string") names.push(args[i + 1] as string);
            i++;
          }
          continue;
        }
        break;
      }
      for (; i < args.length; i++) if (typeof args[i] === "string" && isName(args[i] as string)) names.push(args[i] as string);
      if (names.length === 0) names.push(builtin === "read" ? "REPLY" : "MAPFILE");
    }
    for (const name of names) this.assign(name, unknown(`\${${name}}`), false);
  }
}

function hasSubstitution(a: Assign): boolean {
  const walk = (parts: readonly WordPart[]): boolean => {
    for (const p of parts) if (p.k === "cmdsub" || (p.k === "dq" && walk(p.parts))) return true;
    return false;
  };
  return a.value !== null && walk(wordParts(a.value));
}

export { plainText, spell };
