/**
 * Which programs a container runs, with which arguments and environment, and
 * whether each runs on every path.
 *
 * 1. The container's command line is `command` + `args` after Kubernetes `$(VAR)`
 *    expansion (an unknown variable stays `$(VAR)`: unknown, never a finding).
 *    Without `command`, args go to the image's entrypoint (ENTRYPOINT stands for it)
 *    unless they start with a shell or a wrapper.
 * 2. Programs that run programs are unwrapped as they read their own command line
 *    (wrappers.ts: one table of option arities, `--`, operands, env changes).
 * 3. A shell runs its script (`sh -c SCRIPT $0 $1 …`, also through `su -c`,
 *    `flock -c`, `busybox sh`): the script is parsed (shell/syntax.ts) and evaluated
 *    abstractly (shell/interp.ts); every external command it can run comes back
 *    here, to be unwrapped in turn. `sh FILE ARGS` runs FILE with ARGS.
 * 4. Every process found is a candidate: which of them bind nothing (clients,
 *    utilities) is the program knowledge's call (listeners.ts), not this module's.
 *
 * A program is certain when every path on which the container runs any program runs
 * it (shell/interp.ts, commonGuard): paths the spec's env literals rule out are not
 * taken at all, and a path that only runs utilities that never listen (sleep, cat,
 * mkdir, …: NEVER_LISTEN) or ends runs no server and does not count.
 *
 * The reading of one container is bounded by its work budget (env-expansion.ts):
 * past it, or on a script this model cannot read, the container's binds are unknown
 * (`unread`), which reachability turns into a warning.
 */
import type { Container } from "kubernetes-types/core/v1";
import { WORK_PER_CHARACTER, WORK_POOL_SHARE, WorkBoundError, chargeWork, type ContainerEnv, type WorkBudget } from "./env-expansion.js";
import { spell, unknown, type Scalar } from "./shell/expand.js";
import { commonGuard, evaluateScript, Guard, ShellBoundError, type ProcessEnv, type ShellHost } from "./shell/interp.js";
import { parseScript, ShellSyntaxError, type SyntaxOptions } from "./shell/syntax.js";
import { baseName, readShellCommandLine, SHELLS, unwrapOnce, wrapperNamed, type EnvChange } from "./wrappers.js";

export { baseName };

/**
 * One process the container can run: the contract between the shell and wrapper
 * model (this module, shell/, wrappers.ts) and the program knowledge that reads
 * binds from it (listeners.ts). Nothing downstream re-reads scripts or wrappers.
 */
export interface Program {
  /** argv: the program name (possibly unknown, e.g. `$(…)`, or ENTRYPOINT) and its arguments, wrappers stripped. */
  argv: string[];
  /** How the program was found, for messages: "command" or "sh -c". */
  via: "command" | "sh -c" | "script";
  /**
   * The environment the program starts with: the container's, as changed on the way
   * (a script's `export`, `NAME=value cmd`, `env NAME=value`, `env -u NAME`, `env -i`).
   * undefined = unknown (valueFrom, over a limit, or unset).
   */
  env: (name: string) => string | undefined;
  /**
   * True when the program runs on every path the container can take, given what the
   * pod spec fixes; false when only a path the analysis cannot decide runs it. A bind
   * is a finding only when made on every path (reachability.ts).
   */
  certain: boolean;
}

/** The programs of one container, or why they could not all be read. */
export interface ContainerPrograms {
  programs: Program[];
  /**
   * Set when reading stopped at a work bound (too many words, listeners, nested
   * wrappers): the container's binds are then unknown (a warning, never a finding),
   * and the rest of the pod is judged as usual.
   */
  unread?: string;
}

/** Stands for the image's entrypoint, which the manifest does not show. */
export const ENTRYPOINT = "<entrypoint>";

/**
 * What reading costs beyond parsing and evaluating, in work units of about 1,000 wasm
 * instructions (see shell/syntax.ts PARSE_COST): starting a script (its parser and
 * interpreter), a program found and each of its words, a wrapper unwrapped.
 */
export const READ_COST = { script: 300, program: 45, programWord: 3, wrapper: 60, wrapperWord: 3 } as const;

/** Wrappers followed one inside another at most this many times (`tini -- gosu u env A=1 nice app`). */
export const MAX_WRAPPERS = 32;

/**
 * Utilities that run and exit without ever listening. Used only to decide certainty:
 * a path that runs nothing but these (`[ -f x ] || { echo missing; sleep 5; exit 1; }`)
 * starts no server, so it does not make another path's server uncertain.
 */
export const NEVER_LISTEN: ReadonlySet<string> = new Set([
  "sleep", "usleep", "cat", "tac", "tail", "head", "tee", "mkdir", "rmdir", "cp", "mv", "rm", "ln", "chmod", "chown", "chgrp", "touch",
  "date", "ls", "sed", "awk", "gawk", "mawk", "grep", "egrep", "fgrep", "find", "sort", "uniq", "cut", "tr", "wc", "basename",
  "dirname", "readlink", "realpath", "id", "whoami", "hostname", "uname", "printenv", "seq", "stat", "du", "df", "sync", "yes",
  "base64", "md5sum", "sha1sum", "sha256sum", "gzip", "gunzip", "zcat", "tar", "unzip", "envsubst", "jq", "yq", "install",
  "mktemp", "nproc", "getent", "echo", "printf", "test", "[", "true", "false", "expr", "ps", "pkill", "pgrep", "kill", "killall",
  "logger", "umask", "ulimit", "sysctl", "setcap", "update-ca-certificates", "chroot", "mount", "umount", "ip", "iptables",
]);

/** The programs a container runs (usually one). */
export function containerPrograms(container: Container, env: ContainerEnv): ContainerPrograms {
  const budget = env.budget;
  try {
    const argv: string[] = [];
    const hasCommand = pushTokens(argv, container.command, env, budget);
    pushTokens(argv, container.args, env, budget);
    const first = argv.length === 0 ? "" : baseName(argv[0]!);
    const runsOthers = SHELLS.has(first) || first === "busybox" || wrapperNamed(first) !== undefined;
    // Without `command`, args go to the image's entrypoint: argv[0] is not in the
    // manifest. Unless args start with a shell or a process wrapper (images whose
    // entrypoint is `tini --` and the like), the entrypoint is the program, with
    // no args too: what an image binds by default is read from the image (listeners.ts).
    if (!hasCommand && !runsOthers) argv.unshift(ENTRYPOINT);
    if (budget.exhausted) return unreadOverBudget();
    if (argv.length === 0) return { programs: [] };
    // Most containers run their program directly: one certain program, nothing to evaluate.
    if (!runsOthers) return { programs: [{ argv, via: "command", env: programEnv(env), certain: true }] };
    const reader = new ProgramReader(env, budget);
    reader.runCommand(argv);
    if (budget.exhausted) return unreadOverBudget();
    return { programs: reader.programs() };
  } catch (e) {
    if (e instanceof WorkBoundError || budget.exhausted) return unreadOverBudget();
    if (e instanceof ShellSyntaxError) return { programs: [], unread: `a shell script this model does not read: ${e.message}` };
    if (e instanceof ShellBoundError) return { programs: [], unread: e.message };
    // The depth bounds keep the recursion well inside QuickJS's stack; should a script
    // still exhaust it, that container is unread, not the whole request an error.
    if (e instanceof RangeError && /call stack/i.test(e.message)) return { programs: [], unread: "a shell script nested deeper than this analysis follows" };
    throw e;
  }
}

export function unreadOverBudget(): ContainerPrograms {
  return {
    programs: [],
    unread: `reading its command line takes more work than its bound (${WORK_PER_CHARACTER} units per character of its command, args and env, plus up to ${WORK_POOL_SHARE} shared by the pod; expansions and function calls multiply the work)`,
  };
}

/** What the container's own program sees of its environment. */
function programEnv(env: ContainerEnv): (name: string) => string | undefined {
  return (name) => env.get(name);
}

/** The string tokens of a command/args list, `$(VAR)`-expanded; true when the list had any. */
function pushTokens(argv: string[], list: unknown, env: ContainerEnv, budget: WorkBudget): boolean {
  if (!Array.isArray(list)) return false;
  let any = false;
  for (let i = 0; i < list.length; i++) {
    const token: unknown = list[i];
    if (typeof token !== "string") continue;
    any = true;
    // Over a limit the token is unknown: kept as written, `$(VAR)` and all.
    // Tested here first: most tokens hold no `$`, and the call costs more than the test.
    argv.push(env.size > 0 && token.indexOf("$") >= 0 ? (env.expand(token) ?? token) : token);
  }
  return any;
}


/** The words as they read downstream (unknowns spelled `${…}`); the same array when all are known. */
function spelled(argv: readonly Scalar[]): string[] {
  for (let i = 0; i < argv.length; i++) if (typeof argv[i] !== "string") return argv.map(spell);
  return argv as string[];
}

/** An environment with a wrapper's changes on top (`env -i`, `env -u NAME`, `NAME=value`). */
function changedEnv(base: ProcessEnv, changes: readonly EnvChange[]): ProcessEnv {
  if (changes.length === 0) return base;
  let cleared = false;
  const set = new Map<string, Scalar | null>();
  for (const c of changes) {
    if (c.op === "clear") {
      cleared = true;
      set.clear();
    } else if (c.op === "unset") set.set(c.name, null);
    else set.set(c.name, c.value.indexOf("${") >= 0 || c.value.indexOf("$(") >= 0 ? unknown(c.value) : c.value);
  }
  return { get: (name) => (set.has(name) ? set.get(name)! : cleared ? null : base.get(name)) };
}

export class ProgramReader implements ShellHost, ProcessEnv, SyntaxOptions {
  readonly root = new Guard(null, 0);
  /** The programs found, each with the paths it runs on and whether it counts for certainty. */
  private readonly found: Program[] = [];
  private readonly guards: Guard[] = [];
  private readonly counts: boolean[] = [];
  /** Each process environment's view for Program.env, made once. */
  private readonly views = new Map<ProcessEnv, (name: string) => string | undefined>();

  constructor(
    private readonly env: ContainerEnv,
    readonly budget: WorkBudget,
  ) {}

  /** ShellHost: the reader parses scripts with itself as the syntax options. */
  get syntax(): SyntaxOptions {
    return this;
  }

  /** ProcessEnv of the container's own program: a shell ignores an inherited IFS. */
  get(name: string): Scalar | null {
    if (name === "IFS") return null;
    const v = this.env.lookup(name);
    return v === undefined ? unknown(`\${${name}}`) : v;
  }

  /**
   * SyntaxOptions: a `$(NAME)` Kubernetes left in a script stands for text it splices in
   * at run time when NAME is defined from a source we cannot see; otherwise the shell runs it.
   */
  unknownSplice(name: string): boolean {
    return this.env.defines(name) || this.env.hasEnvFrom;
  }

  /** ShellHost: an external command a script runs. */
  run(argv: Scalar[], env: ProcessEnv, guard: Guard, depth: number): void {
    this.read(argv, env, guard, "sh -c", depth);
  }

  /** The container's own command line. */
  runCommand(argv: Scalar[]): void {
    this.read(argv, this, this.root, "command", 0);
  }

  private read(argvIn: Scalar[], envIn: ProcessEnv, guard: Guard, via: Program["via"], depth: number): void {
    let argv = argvIn;
    let env = envIn;
    for (let hop = 0; hop <= MAX_WRAPPERS; hop++) {
      if (argv.length === 0) return;
      const head = argv[0]!;
      if (typeof head !== "string") return this.emit(argv, env, guard, via);
      const name = baseName(head);
      if (name === "busybox") {
        // `busybox APPLET ARGS` runs the applet; `busybox --list` and the like run nothing.
        const applet = argv[1];
        if (typeof applet !== "string" || applet.charCodeAt(0) === 45) return;
        argv = argv.slice(1);
        continue;
      }
      if (SHELLS.has(name)) return this.shell(argv, env, guard, depth);
      const row = wrapperNamed(name);
      if (row === undefined) return this.emit(argv, env, guard, via, name);
      const lookup = (n: string) => {
        const v = env.get(n);
        return v === null ? null : typeof v === "string" ? v : undefined;
      };
      // Unwrapping reads the options and copies what follows: paid by the words.
      chargeWork(this.budget, READ_COST.wrapper + READ_COST.wrapperWord * argv.length);
      const u = unwrapOnce(row, spelled(argv), lookup);
      env = changedEnv(env, u.env);
      if (u.script !== undefined) return this.script(u.script, "sh", [], env, guard, depth);
      if (u.argv === null) return;
      argv = u.argv;
    }
    throw new ShellBoundError(`more than ${MAX_WRAPPERS} programs wrapped one inside another`);
  }

  private shell(argv: Scalar[], env: ProcessEnv, guard: Guard, depth: number): void {
    const inv = readShellCommandLine(spelled(argv).slice(1));
    if (inv.mode === "stdin") return; // the script comes from stdin: not in the manifest
    if (inv.mode === "file") return this.emit(inv.argv, env, guard, "script");
    // The script word itself (not its spelling) decides whether it is known.
    const index = argv.length - 1 - inv.positional.length;
    const script = argv[index]!;
    if (typeof script !== "string") return;
    const arg0 = index + 1 < argv.length ? argv[index + 1]! : spell(argv[0]!);
    this.script(script, arg0, argv.slice(index + 2), env, guard, depth);
  }

  private script(text: string, arg0: Scalar, positional: Scalar[], env: ProcessEnv, guard: Guard, depth: number): void {
    // Reading any script costs its parser and interpreter first: paid before they are made.
    chargeWork(this.budget, READ_COST.script);
    const parsed = parseScript(text, this.syntax);
    evaluateScript(parsed.body, { env, arg0, positional, guard, depth: depth + 1 }, this);
  }

  private emit(argv: Scalar[], env: ProcessEnv, guard: Guard, via: Program["via"], name = ""): void {
    chargeWork(this.budget, READ_COST.program + READ_COST.programWord * argv.length);
    const words = spelled(argv).slice();
    let view = this.views.get(env);
    if (view === undefined) {
      view = (n: string) => {
        const v = env.get(n);
        return typeof v === "string" ? v : undefined;
      };
      this.views.set(env, view);
    }
    this.found.push({ argv: words, via, env: view, certain: false });
    this.guards.push(guard);
    this.counts.push(!NEVER_LISTEN.has(name || baseName(words[0]!)));
  }

  programs(): Program[] {
    const counting: Guard[] = [];
    for (let i = 0; i < this.guards.length; i++) if (this.counts[i]) counting.push(this.guards[i]!);
    chargeWork(this.budget, 2 * counting.length);
    const common = commonGuard(counting) ?? this.root;
    for (let i = 0; i < this.found.length; i++) this.found[i]!.certain = this.guards[i] === common;
    return this.found;
  }
}
