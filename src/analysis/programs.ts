/**
 * Which programs a container runs, and with which arguments.
 *
 * A bind belongs to the program a container runs, not to every command its
 * command line mentions. The rule:
 *
 * 1. The container's program is `command` + `args` after Kubernetes `$(VAR)`
 *    expansion (unknown variables stay `$(VAR)`: unknown, never a finding).
 * 2. A shell wrapper (`sh|bash|ash|dash|zsh|ksh … -c SCRIPT [$0 $1 …]`, also via
 *    `busybox sh`) runs the script's programs (see `scriptPrograms`): what it
 *    `exec`s, what it starts in the background at the top level, and its last
 *    top-level pipeline. Helper commands — loop bodies and conditions (a backup
 *    loop's `pg_dumpall`, an `until tctl …` wait loop), commands before the last
 *    one, command substitutions — are not programs. `sh FILE ARGS…` runs FILE
 *    with ARGS (entrypoint scripts pass them on with `exec app "$@"`).
 * 3. Process wrappers pass control on: `env [-i] [NAME=value]…`, `tini`,
 *    `dumb-init`, `catatonit` (with `--`), `nohup`, `setsid`, `gosu USER`,
 *    `su-exec USER`: the program is what follows.
 * 4. Known clients never bind, whatever their flags say: that is program
 *    knowledge, checked once per program in listeners.ts (containerBinds) against
 *    programs-knowledge/clients.ts.
 *
 * What each program binds is then read by listeners.ts from the program
 * knowledge base (programs-knowledge/), or with the generic Go-style flags.
 */
import type { Container } from "kubernetes-types/core/v1";
import type { ContainerEnv } from "./env-expansion.js";
import { parseShellScript, scriptPrograms } from "./shell.js";

/**
 * One process the container can run: the contract between the shell and wrapper
 * model (this module, shell.ts) and the program knowledge that reads binds from
 * it (listeners.ts). Nothing downstream re-reads scripts or wrappers.
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

const SHELLS = new Set(["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"]);

/** Nested shell wrappers followed at most this deep (`sh -c "bash -c '…'"`). */
const MAX_NESTING = 4;

export function baseName(word: string): string {
  const slash = word.lastIndexOf("/");
  return slash < 0 ? word : word.slice(slash + 1);
}

/** Strip process wrappers (`env`, `tini --`, `gosu user`, …) off the front of argv. */
export function unwrap(argv: string[]): string[] {
  let rest = argv;
  for (let guard = 0; guard < 8 && rest.length > 0; guard++) {
    const name = baseName(rest[0]!);
    let i = 1;
    if (name === "env") {
      while (i < rest.length && (rest[i]!.charCodeAt(0) === 45 || rest[i]!.indexOf("=") > 0)) i++;
    } else if (name === "tini" || name === "tini-static" || name === "dumb-init" || name === "catatonit") {
      while (i < rest.length && rest[i]!.charCodeAt(0) === 45 && rest[i] !== "--") i++;
      if (rest[i] === "--") i++;
    } else if (name === "nohup" || name === "setsid") {
      // the program follows directly
    } else if (name === "gosu" || name === "su-exec") i = 2;
    else return rest;
    rest = rest.slice(i);
  }
  return rest;
}

/** The `-c` script of a shell command line, or null when the shell runs a file (or nothing). */
function shellScript(argv: string[]): { script: string; positional: string[] } | { file: string[] } | null {
  let i = 1;
  let command = false;
  while (i < argv.length) {
    const w = argv[i]!;
    if (w === "--") {
      i++;
      break;
    }
    if (w === "-o" || w === "+o") {
      i += 2;
      continue;
    }
    const c0 = w.charCodeAt(0);
    if ((c0 === 45 || c0 === 43) && w.length > 1) {
      if (c0 === 45 && w.charCodeAt(1) !== 45 && w.indexOf("c") > 0) command = true;
      i++;
      continue;
    }
    break;
  }
  if (i >= argv.length) return null;
  if (command) return { script: argv[i]!, positional: argv.slice(i + 1) };
  return { file: argv.slice(i) };
}

/** The programs a container runs (usually one). */
export function containerPrograms(container: Container, env: ContainerEnv): ContainerPrograms {
  const argv: string[] = [];
  const expand = env.size > 0;
  pushTokens(argv, container.command, env, expand);
  const hasCommand = argv.length > 0;
  pushTokens(argv, container.args, env, expand);
  // Without `command`, args go to the image's entrypoint: argv[0] is not in the
  // manifest. Unless args start with a shell or a process wrapper (images whose
  // entrypoint is `tini --` and the like), the entrypoint is the program, with
  // no args too: what an image binds by default is read from the image (listeners.ts).
  if (!hasCommand) {
    const first = argv.length === 0 ? "" : baseName(argv[0]!);
    if (!SHELLS.has(first) && !WRAPPERS.has(first) && first !== "busybox") argv.unshift(ENTRYPOINT);
  }
  if (argv.length === 0) return { programs: [] };
  const out: Program[] = [];
  collect(argv, "command", env, 0, out);
  return { programs: out };
}

/** The string tokens of a command/args list, `$(VAR)`-expanded when the container has env. */
function pushTokens(argv: string[], list: unknown, env: ContainerEnv, expand: boolean): void {
  if (!Array.isArray(list)) return;
  for (let i = 0; i < list.length; i++) {
    const token: unknown = list[i];
    if (typeof token !== "string") continue;
    // Over a limit the token is unknown: keep it as written, `$(VAR)` and all.
    // Tested here first: most tokens hold no `$`, and the call costs more than the test.
    argv.push(expand && token.indexOf("$") >= 0 ? (env.expand(token) ?? token) : token);
  }
}

/** Stands for the image's entrypoint, which the manifest does not show. */
export const ENTRYPOINT = "<entrypoint>";
const WRAPPERS = new Set(["env", "tini", "tini-static", "dumb-init", "catatonit", "nohup", "setsid", "gosu", "su-exec"]);

function collect(argvIn: string[], via: Program["via"], env: ContainerEnv, nesting: number, out: Program[]): void {
  let argv = unwrap(argvIn);
  if (argv.length === 0) return;
  let name = baseName(argv[0]!);
  if (name === "busybox" && argv.length > 1 && SHELLS.has(baseName(argv[1]!))) {
    argv = argv.slice(1);
    name = baseName(argv[0]!);
  }
  const lookup = (n: string) => env.get(n);
  if (!SHELLS.has(name)) {
    out.push({ argv, via, env: lookup, certain: true });
    return;
  }
  const shell = shellScript(argv);
  if (shell === null) return;
  if ("file" in shell) {
    out.push({ argv: shell.file, via: "script", env: lookup, certain: true });
    return;
  }
  if (nesting >= MAX_NESTING) return;
  const parsed = parseShellScript(shell.script, { env: (n) => env.get(n), positional: shell.positional, budget: env.budget });
  const programs = scriptPrograms(parsed);
  for (let p = 0; p < programs.length; p++) collect(programs[p]!.words, "sh -c", env, nesting + 1, out);
}
