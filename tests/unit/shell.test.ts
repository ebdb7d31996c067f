/**
 * The shell model's modules, each with its own table of cases: syntax (script →
 * tree or the reason it is not read), expansion (words → fields), conditions
 * (test / [[ ]]), the wrapper table (argv → the program as the wrapper finds it),
 * and the evaluation's paths (which programs are certain). Properties: text that
 * cannot spell loopback for the native pre-check never yields a loopback bind
 * through the shell model, and mayNameLoopback never says more than the pre-check.
 */
import fc from "fast-check";
import type { Container } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { ContainerEnv, newBudget } from "../../src/analysis/env-expansion.js";
import { containerListeners } from "../../src/analysis/listeners.js";
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS } from "../../src/analysis/listen-specs.js";
import { LOOPBACK_TRIGGERS, mayNameLoopback } from "../../src/analysis/loopback-text.js";
import { containerPrograms } from "../../src/analysis/programs.js";
import { evalTest } from "../../src/analysis/shell/conditions.js";
import { commonGuard, Guard } from "../../src/analysis/shell/interp.js";
import { MAX_SYNTAX_DEPTH, parseScript, ShellSyntaxError } from "../../src/analysis/shell/syntax.js";
import { readShellCommandLine, splitString, unwrapOnce, WRAPPERS, wrapperNamed } from "../../src/analysis/wrappers.js";
import { RUNS, SEED } from "../generators.js";

const specs = { flags: DEFAULT_LISTEN_FLAGS, envVars: DEFAULT_LISTEN_ENV_VARS };
const read = (container: Container) => containerPrograms(container, new ContainerEnv(container, newBudget()));
const sh = (script: string, env: Record<string, string | null> = {}, shell = "sh"): Container => ({
  name: "app",
  command: [shell, "-c", script],
  env: Object.entries(env).map(([name, value]) => (value === null ? { name, valueFrom: { fieldRef: { fieldPath: "status.podIP" } } } : { name, value })),
});
/** The programs a script runs: `certain|maybe argv…`. */
const programs = (script: string, env: Record<string, string | null> = {}, shell = "sh") => {
  const r = read(sh(script, env, shell));
  if (r.unread !== undefined) return [`unread: ${r.unread}`];
  return r.programs.map((p) => `${p.certain ? "certain" : "maybe"} ${p.argv.join(" ")}`);
};

describe("syntax: scripts read, and the reasons some are not", () => {
  it.each([
    ["a; b & c && d || e | f |& g", 3],
    ["if a; then b; elif c; then d; else e; fi", 1],
    ["for i in 1 2; do x $i; done; for j; do :; done; for ((i=0; i<3; i++)); do y; done", 3],
    ["case $x in a|b) y;; (c) z;& *) w;;& esac", 1],
    ["f() { x; }; function g { y; }; function h() ( z )", 3],
    ["cat <<EOF\nnot a command $x\nEOF\ncat <<-'E'\n\tquoted\n\tE\nnext", 3],
    ['x=$(a $(b) "$(c)" `d \\`e\\``)', 1],
    ["[[ -n $a && ( $b == c* || ! -f x ) ]] && [[ $x =~ ^(a|b)$ ]]", 1],
    ["A=(1 2 3); A+=(4); echo ${A[@]} ${#A[@]} ${A[1]} ${x:-y z} ${x#*:} ${x/a/b} ${!p} ${x:1:2}", 3],
    ["echo $'a\\x41\\101\\n' $\"x\"; ((i++)); echo $((1 + (2*3))) $[4]", 3],
    ["exec 2>&1 3<>/dev/null {fd}>x >|y &>z &>>w <<<word; cmd <(a) >(b)", 2],
    ["a \\\n  b # comment ( ) ;\n# only a comment", 1],
    ["time -p a | b; ! c; coproc d", 3],
    ["x=1 y=2 cmd; export a=1 b c=\"$d\"; local -r z=1; declare -a arr=(1 2)", 4],
  ])("%j has %i top-level items", (script, items) => {
    expect(parseScript(script).body.items).toHaveLength(items);
  });

  it.each([
    ["'unterminated", "unterminated single quote"],
    ['echo "unterminated', "unterminated double quote"],
    ["echo $(unterminated", 'expected ")"'],
    ["if a; then b", 'expected "fi"'],
    ["while a; do b; don", 'expected "done"'],
    ["case x in a) b", 'expected ";;" or "esac"'],
    ["a && ;", 'unexpected ";"'],
    ["fi", 'unexpected "fi"'],
    ["echo ${", "bad parameter name"],
    ["(".repeat(MAX_SYNTAX_DEPTH + 5), `nested more than ${MAX_SYNTAX_DEPTH} deep`],
    ["echo " + "$(".repeat(MAX_SYNTAX_DEPTH + 5), `nested more than ${MAX_SYNTAX_DEPTH} deep`],
  ])("%j is not read: %s", (script, reason) => {
    expect(() => parseScript(script)).toThrow(ShellSyntaxError);
    expect(() => parseScript(script)).toThrow(reason);
  });

  it("here-document bodies are data, never commands", () => {
    expect(programs("cat > /x <<EOF\nexec app --listen-address=127.0.0.1:8080\nEOF\nexec app --listen-address=0.0.0.0:8080")).toEqual([
      "certain cat",
      "certain app --listen-address=0.0.0.0:8080",
    ]);
  });

  it("parses in one pass: a script twice as long costs twice the work", () => {
    const cost = (n: number) => {
      const budget = newBudget(1e12);
      parseScript(Array.from({ length: n }, (_, i) => `if [ "$X" = ${i} ]; then a "$B" ${i} | b; fi`).join("\n"), { budget });
      return 1e12 - budget.remaining;
    };
    expect(cost(2000) / cost(1000)).toBeCloseTo(2, 1);
  });
});

describe("expansion: words → fields", () => {
  it.each<[string, Record<string, string | null>, string[]]>([
    ['app "$A" $A', { A: "x  y" }, ["app", "x  y", "x", "y"]],
    ["app ${A:-d} ${B:-d} ${B-e} ${C:+alt}", { A: "a", B: "", C: "c" }, ["app", "a", "d", "alt"]],
    ['app "${U}" ${U}x', { U: null }, ["app", "${U}", "${U}x"]],
    ["app ${A%:*} ${A##*:} ${A#*.} ${A%%.*} ${#A}", { A: "127.0.0.1:80" }, ["app", "127.0.0.1", "80", "0.0.1:80", "127", "12"]],
    ["app ${A^^} ${A,,} ${A/b/x} ${A//b/x}", { A: "abcb" }, ["app", "ABCB", "abcb", "axcb", "axcx"]],
    ['set -- a "b c"; app "$@" $# "$*"', {}, ["app", "a", "b c", "2", "a b c"]],
    ['set --; app "$@" x"$@"y', {}, ["app", "xy"]],
    ["IFS=,; A=a,b,,c; app $A", {}, ["app", "a", "b", "", "c"]],
    ["app $'\\x31\\062\\u0037' $\"q\" 'l'\"m\"\\n", {}, ["app", "127", "q", "lmn"]],
    ["A=(x 'y z'); app \"${A[@]}\" ${A[1]} $A", {}, ["app", "x", "y z", "y", "z", "x"]],
    ["app $(cmd) `cmd` $((1+2))", {}, ["app", "$(…)", "$(…)", "$((…))"]],
    ["app *:8080 ~/x {a,b}", {}, ["app", "*:8080", "~/x", "{a,b}"]],
  ])("%j", (script, env, argv) => {
    expect(programs(`${script}`, env, "bash").pop()).toBe(`certain ${argv.join(" ")}`);
  });
});

describe("conditions the pod spec decides", () => {
  it.each<[string[], boolean | null]>([
    [[], false],
    [["x"], true],
    [[""], false],
    [["!", "x"], false],
    [["-n", ""], false],
    [["-z", ""], true],
    [["a", "=", "a"], true],
    [["a", "!=", "a"], false],
    [["1", "-eq", " 1"], true],
    [["2", "-lt", "10"], true],
    [["x", "-eq", "1"], null],
    [["-f", "/etc/x"], null],
    [["!", "a", "=", "b"], true],
    [["(", "a", ")"], true],
    [["a", "-a", ""], false],
    [["a", "-o", ""], true],
    [["a", "=", "a", "-a", "-n", "x", "-o", "-f", "y"], true],
    [["-f", "y", "-a", "b", "=", "c"], false],
  ])("test %j → %s", (args, expected) => {
    expect(evalTest(args)).toBe(expected);
  });

  it.each<[string, Record<string, string | null>, string[]]>([
    ['[ "$D" = 1 ] && exec app --a; exec app --b', { D: "0" }, ["certain app --b"]],
    ['[ "$D" = 1 ] && exec app --a; exec app --b', { D: "1" }, ["certain app --a"]],
    ['[ "$D" = 1 ] && exec app --a; exec app --b', { D: null }, ["maybe app --a", "maybe app --b"]],
    // Not in the spec (and not set by the runtime): unset.
    ['[ -z "$D" ] && exec app --a; exec app --b', {}, ["certain app --a"]],
    ['[ -z "$HOSTNAME" ] && exec app --a; exec app --b', {}, ["maybe app --a", "maybe app --b"]],
    ["case $M in a*) exec app --a;; b|c) exec app --b;; *) exec app --c;; esac", { M: "c" }, ["certain app --b"]],
    ["[[ $M == a* && -n $M ]] && exec app --a; exec app --b", { M: "ab" }, ["certain app --a"]],
    ["if true; then exec app --a; else exec app --b; fi", {}, ["certain app --a"]],
    ["while false; do app --a; done; exec app --b", {}, ["certain app --b"]],
    ["until false; do app --a; done; exec app --b", {}, ["certain app --a"]],
  ])("%j with %j", (script, env, expected) => {
    expect(programs(script, env, "bash")).toEqual(expected);
  });
});

describe("paths: a process is certain when every path that runs a process runs it", () => {
  it.each<[string, string[]]>([
    ["app --a; echo done", ["certain app --a"]],
    ["mkdir -p /d && exec app --a", ["maybe mkdir -p /d", "certain app --a"]],
    ["[ -f /x ] || exit 1; exec app --a", ["certain app --a"]],
    ["[ -f /x ] && exec app --a; exec other", ["maybe app --a", "maybe other"]],
    // The other path runs only a utility that never listens: app is on every path that runs a server.
    ["[ -f /x ] && exec app --a; sleep 5", ["certain app --a", "maybe sleep 5"]],
    ["if [ -f /x ]; then exec app --a; else exec app --b; fi", ["maybe app --a", "maybe app --b"]],
    ["app --a & app --b & wait", ["certain app --a", "certain app --b"]],
    ["while true; do app --a; sleep 1; done; never", ["certain app --a", "certain sleep 1"]],
    ["while read l; do app --a; done < /x; exec app --b", ["maybe app --a", "certain app --b"]],
    ["f() { app --a; return; app --b; }; f; g", ["certain app --a", "certain g"]],
    ["f() { f; app --a; }; f", ["certain app --a"]],
    ["exit 0; app --a", []],
    ["for x in; do app --a; done; app --b", ["certain app --b"]],
  ])("%j", (script, expected) => {
    expect(programs(script, {}, "bash")).toEqual(expected);
  });

  it("the common node of paths is their lowest common ancestor, found in one walk", () => {
    const root = new Guard(null, 0);
    const [a, b] = [root.child(), root.child()];
    const [a1, a2] = [a.child(), a.child()];
    expect(commonGuard([a1, a2])).toBe(a);
    expect(commonGuard([a1, a2, b])).toBe(root);
    expect(commonGuard([a1, a1])).toBe(a1);
    expect(commonGuard([a1, a])).toBe(a);
    expect(commonGuard([])).toBeNull();
  });

  it("loops and functions are evaluated once per entry: the cost of a loop does not depend on its count", () => {
    const cost = (n: string) => {
      const budget = newBudget(1e12);
      const c = sh('for i in $(seq 1 "$N"); do app $i; done; f() { g "$@"; }; while [ "$N" -gt 0 ]; do f $N; done', { N: n });
      containerPrograms(c, new ContainerEnv(c, budget));
      return 1e12 - budget.remaining;
    };
    expect(cost("100000")).toBe(cost("2"));
  });
});

describe("the wrapper table", () => {
  it("names a source for every row, and every name once", () => {
    const names = new Set<string>();
    for (const row of WRAPPERS) {
      expect(row.source.length).toBeGreaterThan(10);
      for (const n of row.names) {
        expect(names.has(n), n).toBe(false);
        names.add(n);
      }
    }
  });

  it.each<[string[], string[] | null]>([
    [["tini", "-e", "143", "-p", "SIGTERM", "-s", "-g", "--", "app", "-x"], ["app", "-x"]],
    [["tini", "-e143", "app", "-x"], ["app", "-x"]],
    [["dumb-init", "--rewrite", "15:2", "--rewrite=1:2", "-c", "app"], ["app"]],
    [["dumb-init", "--rew", "15:2", "app"], ["app"]],
    [["catatonit", "-g", "-P", "--", "app"], ["app"]],
    [["gosu", "user:group", "app", "--u"], ["app", "--u"]],
    [["su-exec", "1000", "app"], ["app"]],
    [["setsid", "-f", "-w", "app"], ["app"]],
    [["nohup", "--", "app"], ["app"]],
    [["timeout", "--kill-after=5", "-s", "TERM", "10m", "app"], ["app"]],
    [["timeout", "-t", "10", "-s", "TERM", "app"], ["app"]],
    [["nice", "-n", "5", "app"], ["app"]],
    [["nice", "--10", "app"], ["app"]],
    [["ionice", "-c2", "-n", "7", "app"], ["app"]],
    [["ionice", "-p", "1"], null],
    [["stdbuf", "-i0", "-o", "L", "--error=0", "app"], ["app"]],
    [["taskset", "-a", "-c", "0-3", "app"], ["app"]],
    [["taskset", "-p", "0x1", "1"], null],
    [["chrt", "-f", "10", "app"], ["app"]],
    [["chroot", "--userspec", "1:1", "/r", "app"], ["app"]],
    [["setpriv", "--reuid=1", "--regid", "1", "--clear-groups", "--", "app"], ["app"]],
    [["runuser", "-u", "u", "--", "app"], ["app"]],
    [["runuser", "-l", "u", "-c", "app --x"], null],
    [["sudo", "-u", "u", "-E", "--", "app"], ["app"]],
    [["doas", "-u", "u", "app"], ["app"]],
    [["flock", "-w", "3", "/l", "app"], ["app"]],
    [["time", "-f", "%e", "-o", "/t", "app"], ["app"]],
    [["chpst", "-u", "u", "-e", "/env", "-/", "/root", "app"], ["app"]],
    [["s6-softlimit", "-m", "1", "-o", "2", "app"], ["app"]],
    [["s6-envdir", "-I", "/env", "app"], ["app"]],
    [["s6-setuidgid", "u", "app"], ["app"]],
    [["s6-applyuidgid", "-u", "1", "-g", "1", "-U", "app"], ["app"]],
    [["s6-notifyoncheck", "-d", "-3", "3", "-w", "100", "app"], ["app"]],
    [["nsenter", "-t", "1", "-m", "-u", "app"], ["app"]],
    [["nsenter", "-t", "1", "-n", "app"], null],
    [["unshare", "--net", "app"], null],
    [["unshare", "-m", "-p", "--fork", "app"], ["app"]],
  ])("%j → %j", (argv, expected) => {
    const row = wrapperNamed(argv[0]!)!;
    expect(row, argv[0]).toBeDefined();
    expect(unwrapOnce(row, argv, () => undefined).argv).toEqual(expected);
  });

  it("su -c, runuser -c and flock -c run their command through a shell", () => {
    expect(unwrapOnce(wrapperNamed("su")!, ["su", "-", "pg", "-c", "exec x"], () => undefined).script).toBe("exec x");
    expect(unwrapOnce(wrapperNamed("su")!, ["su", "-c", "exec x", "pg"], () => undefined).script).toBe("exec x");
    expect(unwrapOnce(wrapperNamed("flock")!, ["flock", "/l", "-c", "exec x"], () => undefined).script).toBe("exec x");
  });

  it("env sets, unsets, clears and splits", () => {
    const env = (argv: string[]) => unwrapOnce(wrapperNamed("env")!, argv, (n) => (n === "H" ? "h" : n === "UNSET" ? null : undefined));
    expect(env(["env", "-i", "-u", "X", "A=1", "app"])).toEqual({ argv: ["app"], env: [{ op: "clear" }, { op: "unset", name: "X" }, { op: "set", name: "A", value: "1" }] });
    expect(env(["env", "-", "app"]).env).toEqual([{ op: "clear" }]);
    expect(env(["env", "-S", "-u X app 'a b' ${H}${UNSET}${U}", "c"])).toEqual({ argv: ["app", "a b", "h${U}", "c"], env: [{ op: "unset", name: "X" }] });
    expect(env(["env", "--split-string=app \\_x\\c ignored"]).argv).toEqual(["app", "x"]);
    expect(splitString('a"b\\_c"#d #e', () => undefined)).toEqual(["ab c#d"]);
  });

  it.each<[string[], unknown]>([
    [["-euo", "pipefail", "-c", "s", "$0", "$1"], { mode: "command", script: "s", positional: ["$0", "$1"] }],
    [["-o", "errexit", "+o", "x", "-O", "extglob", "--rcfile", "/r", "-c", "s"], { mode: "command", script: "s", positional: [] }],
    [["-c", "-e", "s"], { mode: "command", script: "s", positional: [] }],
    [["-c", "--", "s"], { mode: "command", script: "s", positional: [] }],
    [["-e", "/entry.sh", "a"], { mode: "file", argv: ["/entry.sh", "a"] }],
    [["-s", "a"], { mode: "stdin" }],
    [[], { mode: "stdin" }],
    [["-c"], { mode: "stdin" }],
  ])("sh %j", (words, expected) => {
    expect(readShellCommandLine(words)).toEqual(expected);
  });
});

describe("the native pre-check stays sound for what the shell model reads", () => {
  // An alphabet with no trigger characters (no $, %, digits 1/7, x, :, letters of localhost…)
  // but every quoting and escaping device the model removes.
  const piece = fc.constantFrom("a", "b", "0", "2", "8", ".", "-", "=", "/", "'", '"', "\\", "\\\n", " ", ";", "&&", "|", "\n", "(", ")", "{", "}", "#", "if", "then", "fi", "exec", "--listen-address=", "tini", "-e", "--", "env", "-S", "bash", "-c");
  const text = fc.array(piece, { maxLength: 40 }).map((p) => p.join(""));

  it("text the pre-check finds no trigger in never yields a loopback bind", () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), (words) => {
        fc.pre(words.every((w) => !mayNameLoopback(w)));
        const listeners = containerListeners({ name: "a", command: ["bash", "-c", words[0]!], args: words.slice(1) }, specs);
        for (const l of listeners) expect(l.hostClass).not.toBe("loopback");
      }),
      { numRuns: Math.max(200, RUNS), seed: SEED },
    );
  });

  it("mayNameLoopback is true only where the pre-check's trigger scan also fires (the same triggers, skipping what JSON always escapes)", () => {
    expect(LOOPBACK_TRIGGERS).toContain("$");
    for (const [t, want] of [
      ["127.0.0.1", true], ["1'2'7", true], ['1"2"7', true], ["1\\27", true], ["12\n7", true], ["12é7", true], ["12/7", false],
      ["LocalHost", true], ["2130706433", true], ["213070643", false], ["a:b:c:d:e:f:g:h", true], ["a:b:c:d:e:f:g", false], ["x$y", true], ["%41", true],
    ] as const)
      expect(mayNameLoopback(t), t).toBe(want);
  });
});
