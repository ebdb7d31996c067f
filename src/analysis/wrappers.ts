/**
 * Programs that run programs: one table saying, for each wrapper, which options
 * take a value, where the options end and what comes before the program, so the
 * real program and its arguments are found as the wrapper itself finds them
 * (`tini -e 143 -- app`, `dumb-init --rewrite 15:2 app`, `env -u NAME app`,
 * `timeout -s KILL 1d app`, `su - app -c SCRIPT`, …).
 *
 * Options are read as getopt/getopt_long read them: `-abc` clusters, a value
 * option takes the rest of its word or the next word (`-e143`, `-e 143`), long
 * options take `--name=value` or `--name value` and may be abbreviated to a
 * unique prefix, `--` ends the options. Each row names the getopt string or usage
 * it was read from. An option the table does not know is read as a flag without a
 * value (a newer version may have added it), never as the program.
 *
 * Permutation: GNU getopt also reads options that follow operands, unless the
 * option string starts with `+`. Rows say `permute` only where the tool's own
 * documentation relies on it (`su USER -c CMD`); tini and catatonit call plain
 * getopt, which permutes under glibc but not under musl (Alpine), so they are
 * read without it: a word after the program is the program's.
 */

/** How a row treats what follows its options. */
export type WrapperKind =
  /** Operands (`operands` of them), then the program and its arguments. */
  | "exec"
  /** `env`: NAME=VALUE operands, -i, -u NAME, -S STRING; then the program. */
  | "env"
  /** `su`/`runuser`: -c COMMAND runs through the user's shell; runuser -u USER runs the program. */
  | "su"
  /** `flock`: FILE then the program, or FILE -c COMMAND (through sh). */
  | "flock"
  /** The program runs in another network namespace (nsenter/unshare with -n): its binds are not the pod's. */
  | "netns"
  /** Wait-for scripts (`wait-for-it host:port -t 60 -- app`): the program is what follows the first `--`; none without it. */
  | "after-dashdash"
  /** Go's flag package (`dockerize -wait tcp://db:5432 app`): `-name`/`--name`, `=value` or the next word for `long` "value" names; the first operand is the program. */
  | "go-flags";

export interface WrapperRow {
  /** Names the wrapper is run as (the last path segment of argv[0]). */
  names: readonly string[];
  /** getopt's short option string: a letter, `:` after it when it takes a value, `::` when the value is optional (attached only). */
  short: string;
  /** Long options: "value" (required), "optional" (only `--name=value`), "flag". */
  long?: Readonly<Record<string, "value" | "optional" | "flag">>;
  /** Operands before the program (gosu's user, timeout's duration, taskset's mask, chroot's root). */
  operands?: number;
  /** Options are also read after operands (GNU getopt without `+`). */
  permute?: boolean;
  kind?: WrapperKind;
  /** Options after which there is no program (`taskset -p`, `ionice -p`: they act on a running process). */
  noProgram?: readonly string[];
  /** Options that move the program into another network namespace (kind "netns"). */
  otherNetwork?: readonly string[];
  /** Where the option syntax was read. */
  source: string;
}

export const WRAPPERS: readonly WrapperRow[] = [
  { names: ["tini", "tini-static", "tini-static-amd64", "tini-static-arm64", "tini-amd64", "tini-arm64"], short: "p:hvwgle:s", source: "krallin/tini v0.19.0 src/tini.c: OPT_STRING \"p:hvwgle:s\"" },
  { names: ["dumb-init"], short: "+hvVcr:", long: { help: "flag", "single-child": "flag", rewrite: "value", verbose: "flag", version: "flag" }, source: 'Yelp/dumb-init v1.2.5 dumb-init.c: getopt_long "+hvVcr:"' },
  { names: ["catatonit"], short: "ghLPV", source: 'openSUSE/catatonit v0.2 catatonit.c: getopt_long "ghLPV"' },
  { names: ["nohup"], short: "+", long: { help: "flag", version: "flag" }, source: "GNU coreutils 9.x src/nohup.c: parse_gnu_standard_options_only" },
  { names: ["setsid"], short: "+Vhcfw", long: { ctty: "flag", fork: "flag", wait: "flag", help: "flag", version: "flag" }, source: 'util-linux 2.40 sys-utils/setsid.c: getopt_long "+Vhcfw"' },
  { names: ["gosu"], short: "+", operands: 1, source: "tianon/gosu 1.17 main.go: gosu user-spec command [args]" },
  { names: ["su-exec"], short: "+", operands: 1, source: "ncopa/su-exec 0.2 su-exec.c: su-exec user-spec command [args]" },
  {
    names: ["env"],
    kind: "env",
    short: "+a:C:iS:u:v0",
    long: {
      argv0: "value", "ignore-environment": "flag", "env0-from": "value", null: "flag", unset: "value", chdir: "value",
      "default-signal": "optional", "ignore-signal": "optional", "block-signal": "optional", "list-signal-handling": "flag",
      debug: "flag", "split-string": "value", help: "flag", version: "flag",
    },
    source: 'GNU coreutils 9.5 src/env.c: shortopts "+a:C:iS:u:v0", longopts; busybox env "+i0u:*"',
  },
  {
    names: ["timeout"],
    short: "+fk:ps:vt:",
    long: { foreground: "flag", "kill-after": "value", "preserve-status": "flag", signal: "value", verbose: "flag", help: "flag", version: "flag" },
    operands: 1,
    source: 'GNU coreutils 9.5 src/timeout.c: getopt_long "+fk:ps:v", operand DURATION; busybox < 1.30 timeout "[-t SECS] [-s SIG] PROG" (-t replaces the operand)',
  },
  { names: ["nice"], short: "+n:", long: { adjustment: "value", help: "flag", version: "flag" }, source: 'GNU coreutils 9.5 src/nice.c: getopt_long "+n:" and the obsolete -N / --N / -+N' },
  {
    names: ["ionice"],
    short: "+n:c:p:P:u:tVh",
    long: { classdata: "value", class: "value", pid: "value", pgid: "value", uid: "value", ignore: "flag", version: "flag", help: "flag" },
    noProgram: ["p", "P", "u", "pid", "pgid", "uid"],
    source: 'util-linux 2.40 schedutils/ionice.c: getopt_long "+n:c:p:P:u:tVh"',
  },
  { names: ["stdbuf"], short: "+i:o:e:", long: { input: "value", output: "value", error: "value", help: "flag", version: "flag" }, source: 'GNU coreutils 9.5 src/stdbuf.c: getopt_long "+i:o:e:"' },
  {
    names: ["taskset"],
    short: "+apchV",
    long: { "all-tasks": "flag", pid: "flag", "cpu-list": "flag", help: "flag", version: "flag" },
    operands: 1,
    noProgram: ["p", "pid"],
    source: 'util-linux 2.40 schedutils/taskset.c: getopt_long "+apchV", operand MASK',
  },
  {
    names: ["chrt"],
    short: "+abdD:efiphmoOP:T:rRU:X:GvV",
    long: {
      all: "flag", batch: "flag", deadline: "flag", ext: "flag", fifo: "flag", idle: "flag", help: "flag", max: "flag", other: "flag",
      pid: "flag", rr: "flag", "reset-on-fork": "flag", "sched-runtime": "value", "sched-period": "value", "sched-deadline": "value", verbose: "flag", version: "flag",
    },
    operands: 1,
    noProgram: ["p", "pid"],
    source: 'util-linux 2.40 schedutils/chrt.c: getopt_long "+abdD:efiphmoOP:T:rRU:X:GvV", operand PRIORITY',
  },
  { names: ["chroot"], short: "+", long: { groups: "value", userspec: "value", "skip-chdir": "flag", help: "flag", version: "flag" }, operands: 1, source: 'GNU coreutils 9.5 src/chroot.c: getopt_long "+", operand NEWROOT' },
  {
    names: ["setpriv"],
    short: "+dhV",
    long: {
      dump: "flag", nnp: "flag", "no-new-privs": "flag", "inh-caps": "value", "ambient-caps": "value", "list-caps": "flag",
      ruid: "value", euid: "value", rgid: "value", egid: "value", reuid: "value", regid: "value", "clear-groups": "flag",
      "keep-groups": "flag", "init-groups": "flag", groups: "value", "bounding-set": "value", securebits: "value", pdeathsig: "value",
      ptracer: "value", "selinux-label": "value", "apparmor-profile": "value", "landlock-access": "value", "landlock-rule": "value",
      "landlock-support": "flag", "seccomp-filter": "value", "reset-env": "flag", help: "flag", version: "flag",
    },
    source: 'util-linux 2.40 sys-utils/setpriv.c: getopt_long "+dhV", longopts',
  },
  {
    names: ["su", "runuser"],
    kind: "su",
    short: "c:fg:G:lmpPTs:u:hVw:",
    permute: true,
    long: {
      command: "value", "session-command": "value", fast: "flag", login: "flag", "preserve-environment": "flag", pty: "flag", "no-pty": "flag",
      shell: "value", group: "value", "supp-group": "value", user: "value", "whitelist-environment": "value", help: "flag", version: "flag",
    },
    source: 'util-linux 2.40 login-utils/su-common.c: getopt_long "c:fg:G:lmpPTs:u:hVw:" (permuting)',
  },
  {
    names: ["sudo"],
    short: "+AbC:D:Eeg:Hh:iKklnPp:R:r:SsT:t:U:u:Vv",
    long: {
      "askpass": "flag", background: "flag", "close-from": "value", chdir: "value", "preserve-env": "optional", edit: "flag", group: "value",
      "set-home": "flag", help: "flag", host: "value", login: "flag", "remove-timestamp": "flag", "reset-timestamp": "flag", list: "flag",
      "non-interactive": "flag", "preserve-groups": "flag", prompt: "value", chroot: "value", role: "value", stdin: "flag", shell: "flag",
      type: "value", "command-timeout": "value", "other-user": "value", user: "value", version: "flag", validate: "flag",
    },
    source: "sudo 1.9.15 sudo(8) SYNOPSIS",
  },
  { names: ["doas"], short: "+a:C:Lnsu:", source: "OpenBSD doas(1): doas [-Lns] [-a style] [-C config] [-u user] command" },
  {
    names: ["flock"],
    kind: "flock",
    short: "+sexnoFuw:E:hV",
    long: { shared: "flag", exclusive: "flag", unlock: "flag", nonblocking: "flag", nb: "flag", timeout: "value", wait: "value", "conflict-exit-code": "value", close: "flag", "no-fork": "flag", fcntl: "flag", verbose: "flag", help: "flag", version: "flag" },
    source: 'util-linux 2.40 sys-utils/flock.c: getopt_long "+:sexnoFuw:E:hV?", FILE then -c CMD or CMD',
  },
  { names: ["time"], short: "+af:o:pqvV", long: { append: "flag", format: "value", output: "value", portability: "flag", quiet: "flag", verbose: "flag", help: "flag", version: "flag" }, source: "GNU time 1.9 time.c: getopt_long \"+af:o:pqvV\"" },
  { names: ["chpst"], short: "+a:b:c:d:e:f:l:L:m:n:o:p:r:s:t:u:U:/:vP012V", source: 'runit 2.1.2 chpst.c "+u:U:b:e:m:d:o:p:f:c:r:t:/:n:l:L:vP012V"; busybox chpst "+a:c:d:f:l:m:o:p:r:s:t:u:U:e:/:n:vP012"' },
  { names: ["softlimit", "s6-softlimit"], short: "+hHa:c:d:f:l:m:o:P:p:r:s:t:", source: 'skarnet s6 2.13 s6-softlimit.c "hHa:c:d:f:l:m:o:P:p:r:s:t:"; daemontools softlimit' },
  { names: ["setuidgid", "s6-setuidgid"], short: "+", operands: 1, source: "s6 s6-setuidgid: username prog...; daemontools/busybox setuidgid" },
  { names: ["envuidgid", "s6-envuidgid"], short: "+ugBniD:", operands: 1, source: 's6 s6-envuidgid.c "ugBniD:" account prog...; daemontools envuidgid' },
  { names: ["s6-applyuidgid"], short: "+zUu:g:G:", source: 's6 s6-applyuidgid.c "zUu:g:G:"' },
  { names: ["envdir", "s6-envdir"], short: "+IinfLc:", operands: 1, source: 's6 s6-envdir.c "IinfLc:" dir prog...; daemontools/busybox envdir' },
  { names: ["s6-setsid"], short: "+sbfgiIqd:", long: { session: "flag", "process-group": "flag", "background-process-group": "flag", foreground: "flag", "foreground-process-group": "flag", grab: "flag", "foreground-process-group-grab": "flag", "no-strict": "flag", strict: "flag", quiet: "flag", ctty: "value" }, source: "s6 s6-setsid.c (GOL options)" },
  {
    names: ["s6-notifyoncheck"],
    short: "+d3:s:T:t:w:n:c:",
    long: { doublefork: "flag", "notification-fd": "value", "initial-sleep": "value", "global-timeout": "value", "local-timeout": "value", "waiting-time": "value", tries: "value", "check-program": "value" },
    source: "s6 s6-notifyoncheck.c (GOL options)",
  },
  { names: ["s6-fghack", "with-contenv"], short: "+", source: "s6 s6-fghack: prog...; s6-overlay with-contenv: prog..." },
  {
    names: ["wait-for-it", "wait-for-it.sh", "wait-for", "wait-for.sh", "wait4x"],
    kind: "after-dashdash",
    short: "+",
    source: "vishnubob/wait-for-it README: wait-for-it.sh host:port [-s] [-t timeout] [-- command args]; eficode/wait-for: wait-for host:port [-t timeout] [-- command args]; wait4x: wait4x CHECKER ADDRESS [flags] -- command",
  },
  {
    names: ["dockerize"],
    kind: "go-flags",
    short: "",
    long: {
      wait: "value", timeout: "value", template: "value", stdout: "value", stderr: "value", poll: "flag", delims: "value", "wait-retry-interval": "value",
      "wait-http-header": "value", env: "value", "env-header": "value", "env-section": "value", "no-overwrite": "flag", version: "flag",
    },
    source: "jwilder/dockerize README (dockerize [options] [command]), Go flag package",
  },
  {
    names: ["nsenter"],
    kind: "netns",
    short: "+ahVt:m::u::i::n::N:p::C::U::T::S:G:r::w::W::ecFZ",
    long: {
      all: "flag", help: "flag", version: "flag", target: "value", mount: "optional", uts: "optional", ipc: "optional", net: "optional",
      "net-socket": "value", pid: "optional", cgroup: "optional", user: "optional", time: "optional", setuid: "value", setgid: "value",
      "preserve-credentials": "flag", "keep-caps": "flag", root: "optional", wd: "optional", "wdns": "optional", env: "flag", "join-cgroup": "flag",
      "no-fork": "flag", "follow-context": "flag", "user-parent": "flag",
    },
    otherNetwork: ["n", "N", "a", "net", "net-socket", "all"],
    source: 'util-linux 2.40 sys-utils/nsenter.c: getopt_long "+ahVt:m::u::i::n::N:p::C::U::T::S:G:r::w::W::ecFZ"',
  },
  {
    names: ["unshare"],
    kind: "netns",
    short: "+fhVmuinpCTUrR:w:S:G:cl:",
    long: {
      help: "flag", version: "flag", mount: "optional", uts: "optional", ipc: "optional", net: "optional", pid: "optional", user: "optional",
      cgroup: "optional", time: "optional", fork: "flag", kill: "optional", "kill-child": "optional", "mount-proc": "optional",
      "map-user": "value", "map-group": "value", "map-users": "value", "map-groups": "value", "map-root-user": "flag", "map-current-user": "flag",
      "map-auto": "flag", propagation: "value", setgroups: "value", "keep-caps": "flag", setuid: "value", setgid: "value", root: "value", wd: "value",
      monotonic: "value", boottime: "value", "load-interp": "value",
    },
    otherNetwork: ["n", "net"],
    source: 'util-linux 2.40 sys-utils/unshare.c: getopt_long "+fhVmuinpCTUrR:w:S:G:cl:"',
  },
];

const BY_NAME = new Map<string, WrapperRow>();
for (const row of WRAPPERS) for (const name of row.names) BY_NAME.set(name, row);

export function wrapperNamed(name: string): WrapperRow | undefined {
  return BY_NAME.get(name);
}

/** The shells and how they read their command line (POSIX sh plus bash, zsh and ksh options). */
export const SHELLS = new Set(["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "rbash", "hush", "yash", "posh"]);
export const SHELL_OPTIONS = {
  /** Single-letter options that take the next word (`-o pipefail`, bash `-O extglob`), also after `+`. */
  shortValue: "oO",
  /** Long options that take the next word (bash). */
  longValue: new Set(["--rcfile", "--init-file"]),
  source: "POSIX sh(1) SYNOPSIS (sh -c [-abCefhimnuvx] [-o option]... command_string [command_name [argument...]]); bash 5.2 bash(1) OPTIONS",
} as const;

/** The last path segment: `/usr/bin/env` → `env`. */
export function baseName(word: string): string {
  const slash = word.lastIndexOf("/");
  return slash < 0 ? word : word.slice(slash + 1);
}

// ---- reading a wrapper's command line ------------------------------------------------------

/** One option as read: its name (a letter, or the long name) and value. */
export interface ReadOption {
  name: string;
  value: string | null;
}

export interface ReadCommandLine {
  options: ReadOption[];
  /** Operands and everything after the options. */
  rest: string[];
}

interface ShortSpec {
  takes: Map<string, "value" | "optional" | "flag">;
}
const shortCache = new Map<string, ShortSpec>();
function shortSpec(spec: string): ShortSpec {
  let s = shortCache.get(spec);
  if (s) return s;
  s = { takes: new Map() };
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === "+" || c === ":" || c === "-") continue;
    if (spec[i + 1] === ":") s.takes.set(c, spec[i + 2] === ":" ? "optional" : "value");
    else s.takes.set(c, "flag");
  }
  shortCache.set(spec, s);
  return s;
}

function longKind(row: WrapperRow, name: string): { name: string; kind: "value" | "optional" | "flag" } | null {
  const long = row.long;
  if (!long) return null;
  if (Object.hasOwn(long, name)) return { name, kind: long[name]! };
  // getopt_long accepts an unambiguous prefix.
  let found: string | null = null;
  for (const key in long) {
    if (!key.startsWith(name)) continue;
    if (found !== null) return null;
    found = key;
  }
  return found === null ? null : { name: found, kind: long[found]! };
}

/**
 * Read a wrapper's options from `words` (argv without argv[0]) as getopt_long does.
 * Without `permute` the options end at the first operand; with it they are read
 * anywhere up to `--`, operands kept in order.
 */
export function readOptions(row: WrapperRow, words: readonly string[]): ReadCommandLine {
  const spec = shortSpec(row.short);
  const options: ReadOption[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      i++;
      break;
    }
    if (w.length < 2 || w.charCodeAt(0) !== 45 /* - */) {
      if (!row.permute) break;
      rest.push(w);
      continue;
    }
    if (w.charCodeAt(1) === 45) {
      const eq = w.indexOf("=");
      const raw = eq < 0 ? w.slice(2) : w.slice(2, eq);
      const found = longKind(row, raw);
      const name = found?.name ?? raw;
      if (eq >= 0) options.push({ name, value: w.slice(eq + 1) });
      else if (found?.kind === "value" && i + 1 < words.length) options.push({ name, value: words[++i]! });
      else options.push({ name, value: null });
      continue;
    }
    for (let j = 1; j < w.length; j++) {
      const letter = w[j]!;
      const kind = spec.takes.get(letter);
      if (kind === "value") {
        const attached = w.slice(j + 1);
        if (attached.length > 0) options.push({ name: letter, value: attached });
        else options.push({ name: letter, value: i + 1 < words.length ? words[++i]! : null });
        break;
      }
      if (kind === "optional") {
        const attached = w.slice(j + 1);
        options.push({ name: letter, value: attached.length > 0 ? attached : null });
        break;
      }
      options.push({ name: letter, value: null });
    }
  }
  if (rest.length === 0) return { options, rest: words.slice(i) };
  for (; i < words.length; i++) rest.push(words[i]!);
  return { options, rest };
}

/** An environment change a wrapper makes before it runs its program. */
export type EnvChange = { op: "clear" } | { op: "unset"; name: string } | { op: "set"; name: string; value: string };

/** What a wrapper runs. */
export interface Unwrapped {
  /** The program and its arguments; null when the wrapper runs none (a pid mode, another network namespace). */
  argv: string[] | null;
  env: EnvChange[];
  /** A command string the wrapper runs through a shell (`su -c`, `flock -c`), instead of argv. */
  script?: string;
}

/** The environment a wrapper sees: a value, null when unset, undefined when unknown. */
export type EnvLookup = (name: string) => string | null | undefined;

/**
 * Unwrap one wrapper: `argv[0]` names a row. `lookup` reads the environment the
 * wrapper sees (for `env -S`'s `${NAME}`).
 */
export function unwrapOnce(row: WrapperRow, argv: readonly string[], lookup: EnvLookup): Unwrapped {
  const words = argv.slice(1);
  if (row.kind === "env") return unwrapEnv(row, words, lookup);
  if (row.kind === "after-dashdash") {
    const dashdash = words.indexOf("--");
    return { argv: dashdash < 0 ? null : words.slice(dashdash + 1), env: [] };
  }
  if (row.kind === "go-flags") return { argv: readGoFlags(row, words), env: [] };
  if (row.names[0] === "nice") return unwrapNice(row, words);
  const read = readOptions(row, words);
  const has = (names: readonly string[] | undefined) => {
    if (names) for (const o of read.options) if (names.includes(o.name)) return true;
    return false;
  };
  if (has(row.noProgram)) return { argv: null, env: [] };
  if (row.kind === "netns" && has(row.otherNetwork)) return { argv: null, env: [] };
  if (row.kind === "su") return unwrapSu(read);
  if (row.kind === "flock") {
    const [, next, script] = read.rest;
    if (next === "-c" || next === "--command") return script === undefined ? { argv: null, env: [] } : { argv: null, env: [], script };
    return { argv: read.rest.slice(1), env: [] };
  }
  let operands = row.operands ?? 0;
  // busybox < 1.30 `timeout -t SECS PROG`: the duration is an option, not an operand.
  if (row.names[0] === "timeout" && read.options.some((o) => o.name === "t")) operands = 0;
  // `taskset -c LIST PROG`: the list is still the mask operand.
  return { argv: read.rest.slice(operands), env: [] };
}

/** The words after Go flag-package options (`-name=v`, `-name v` for value names, `--` ends them). */
function readGoFlags(row: WrapperRow, words: readonly string[]): string[] {
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") return words.slice(i + 1);
    if (w.length < 2 || w.charCodeAt(0) !== 45 /* - */) break;
    const start = w.charCodeAt(1) === 45 ? 2 : 1;
    const eq = w.indexOf("=");
    if (eq >= 0) continue;
    const long = row.long;
    const name = w.slice(start);
    if (long !== undefined && Object.hasOwn(long, name) && long[name] === "value") i++;
  }
  return words.slice(i);
}

function unwrapNice(row: WrapperRow, words: string[]): Unwrapped {
  // The obsolete `nice -10 app`, `nice --10 app`, `nice -+10 app`.
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    const d = w.charCodeAt(w.charCodeAt(1) === 45 || w.charCodeAt(1) === 43 ? 2 : 1);
    if (w.charCodeAt(0) === 45 && d >= 48 && d <= 57) i++;
    else break;
  }
  return { argv: readOptions(row, words.slice(i)).rest, env: [] };
}

function unwrapSu(read: ReadCommandLine): Unwrapped {
  let command: string | null = null;
  let user = false;
  for (const o of read.options) {
    if (o.name === "c" || o.name === "command" || o.name === "session-command") command = o.value;
    if (o.name === "u" || o.name === "user") user = true;
  }
  if (user) return { argv: read.rest, env: [] };
  if (command !== null) return { argv: null, env: [], script: command };
  // `su [-] [USER [ARGS]]` without -c: the user's login shell, reading its terminal.
  return { argv: null, env: [] };
}

function unwrapEnv(row: WrapperRow, words: readonly string[], lookup: EnvLookup): Unwrapped {
  const env: EnvChange[] = [];
  let rest = words.slice();
  // Options are read again after each -S, whose words are inserted where it stood (coreutils parse_split_string).
  for (let round = 0; round < 8; round++) {
    const read = readOptions(row, rest);
    let split: string[] | null = null;
    for (let k = 0; k < read.options.length; k++) {
      const o = read.options[k]!;
      if (o.name === "i" || o.name === "ignore-environment") env.push({ op: "clear" });
      else if ((o.name === "u" || o.name === "unset") && o.value !== null) env.push({ op: "unset", name: o.value });
      else if ((o.name === "S" || o.name === "split-string") && o.value !== null) {
        split = splitString(o.value, lookup);
        // What follows -S (options not yet applied, then operands) comes after its words.
        const later = read.options.slice(k + 1).map((x) => (x.value === null ? (x.name.length === 1 ? `-${x.name}` : `--${x.name}`) : x.name.length === 1 ? `-${x.name}${x.value}` : `--${x.name}=${x.value}`));
        rest = [...split, ...later, ...read.rest];
        break;
      }
    }
    if (split !== null) continue;
    rest = read.rest;
    break;
  }
  let i = 0;
  if (rest[0] === "-") {
    env.push({ op: "clear" });
    i++;
  }
  for (; i < rest.length; i++) {
    const w = rest[i]!;
    const eq = w.indexOf("=");
    if (eq <= 0) break;
    env.push({ op: "set", name: w.slice(0, eq), value: w.slice(eq + 1) });
  }
  return { argv: rest.slice(i), env };
}

/**
 * `env -S STRING` split as coreutils build_argv splits it: blanks separate words;
 * `'…'` and `"…"` quote; `\_` separates (a space inside double quotes); `\c` ends
 * the string; `#` at the start of a word ends it; `${NAME}` is the variable's value.
 */
export function splitString(text: string, lookup: EnvLookup): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let sq = false;
  let dq = false;
  const end = () => {
    if (inWord) out.push(word);
    word = "";
    inWord = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" && !dq) {
      sq = !sq;
      inWord = true;
      continue;
    }
    if (c === '"' && !sq) {
      dq = !dq;
      inWord = true;
      continue;
    }
    if (!sq && !dq && (c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r")) {
      end();
      continue;
    }
    if (c === "#" && !inWord && !sq && !dq) break;
    if (c === "\\" && !(sq && text[i + 1] !== "\\" && text[i + 1] !== "'")) {
      const e = text[++i];
      if (e === undefined) break;
      if (e === "_") {
        if (dq) word += " ";
        else end();
        if (dq) inWord = true;
        continue;
      }
      if (e === "c") break;
      word += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e === "f" ? "\f" : e === "v" ? "\v" : e;
      inWord = true;
      continue;
    }
    if (c === "$" && !sq && text[i + 1] === "{") {
      const close = text.indexOf("}", i + 2);
      if (close < 0) break;
      const name = text.slice(i + 2, close);
      const value = lookup(name);
      // Unset: the null string; unknown: spelled as written, which reads as unknown downstream.
      word += value === null ? "" : (value ?? `\${${name}}`);
      inWord = true;
      i = close;
      continue;
    }
    word += c;
    inWord = true;
  }
  end();
  return out;
}

// ---- shells ---------------------------------------------------------------------------------

/** How a shell was asked to run: a command string, a script file, or its standard input. */
export type ShellInvocation =
  | { mode: "command"; script: string; positional: string[] }
  | { mode: "file"; argv: string[] }
  | { mode: "stdin" };

/**
 * A shell's command line (argv without argv[0]) as sh and bash read it: options
 * up to the first operand, `--` or `-`; `-o NAME`/`+o NAME` (bash `-O`/`+O`) take
 * the next word also inside a cluster (`-euo pipefail`); `-c` anywhere among them
 * makes the first operand the script and the rest `$0 $1 …`; `-s` reads stdin.
 */
export function readShellCommandLine(words: readonly string[]): ShellInvocation {
  let command = false;
  let stdin = false;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--" || w === "-") {
      i++;
      break;
    }
    const c0 = w.charCodeAt(0);
    if (w.length < 2 || (c0 !== 45 && c0 !== 43)) break;
    if (c0 === 45 && w.charCodeAt(1) === 45) {
      if (SHELL_OPTIONS.longValue.has(w)) i++;
      continue;
    }
    let takesNext = 0;
    for (let j = 1; j < w.length; j++) {
      const letter = w[j]!;
      if (SHELL_OPTIONS.shortValue.indexOf(letter) >= 0) takesNext++;
      else if (c0 === 45 && letter === "c") command = true;
      else if (c0 === 45 && letter === "s") stdin = true;
    }
    i += takesNext;
  }
  if (command) return i < words.length ? { mode: "command", script: words[i]!, positional: words.slice(i + 1) } : { mode: "stdin" };
  if (stdin || i >= words.length) return { mode: "stdin" };
  return { mode: "file", argv: words.slice(i) };
}
