/**
 * Reading `sh -c SCRIPT` the way a POSIX shell would, far enough to know which
 * programs the script runs as the container's program and with which words.
 *
 * One linear pass: quotes (`'…'`, `"…"`, `\`), parameter expansion (`$VAR`,
 * `${VAR}`, `${VAR:-default}`, `$1`, `"$@"`) from the script's own assignments,
 * then the container's environment, then the positional arguments; operators
 * (`;` `&` `&&` `||` `|` newlines), redirections, comments, and nesting
 * (`if … fi`, loops, `case`, `{ … }`, `( … )`, functions). Command substitutions
 * (`$(…)`, backticks) are opaque: what they print is unknown, and the commands
 * in them are helpers, never the container's program. Anything unknown is
 * spelled `${NAME}` / `$(…)` in the result, which host classification reads as
 * unknown: never a finding.
 */
import type { ExpansionBudget } from "./env-expansion.js";

export interface ShellCommand {
  /** The command's words after expansion and quote removal, without leading assignments and `exec`. */
  words: string[];
  /** Run with `exec`: the shell is replaced by it. */
  exec: boolean;
  /** 0 at the top level of the script; inside `if`/loops/`{}`/`()`/functions more. */
  depth: number;
  /** Ended by `&`: started in the background. */
  background: boolean;
  /** Commands joined by `|` share a pipeline number. */
  pipeline: number;
}

/** Variables the script can see: its own assignments first, then these. */
export interface ShellContext {
  env: (name: string) => string | undefined;
  /** `$0`, `$1`, …: the words after the script in `sh -c SCRIPT $0 $1 …`. */
  positional: readonly string[];
  budget: ExpansionBudget;
}

const OPENERS = new Set(["if", "while", "until", "for", "select", "case", "{"]);
const CLOSERS = new Map<string, string>([
  ["fi", "if"],
  ["done", "loop"],
  ["esac", "case"],
  ["}", "{"],
]);
const CONTINUATIONS = new Set(["then", "else", "elif", "do", "!", "in"]);

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

export interface ParsedScript {
  commands: ShellCommand[];
  /** The pipeline number of the last top-level command, or -1 when the script ends with a compound command (a loop, `if`, …). */
  lastPipeline: number;
}

/** Tokenize and split a script into simple commands. Linear in the script plus what expansions insert. */
export function parseShellScript(script: string, context: ShellContext): ParsedScript {
  const commands: ShellCommand[] = [];
  let lastPipeline = -1;
  const vars = new Map<string, string>();
  const stack: string[] = [];
  let pipeline = 0;

  let words: string[] = [];
  let quotedFirst = false; // the first word had quotes: not a keyword
  let word: string[] = [];
  let inWord = false;
  let wordQuoted = false;
  let dropNextWord = false; // a redirection target
  let commandDepth = -1;

  const lookup = (name: string): string | undefined => {
    const own = vars.get(name);
    if (own !== undefined) return own;
    if (name.length > 0 && name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57) return context.positional[Number(name)];
    return context.env(name);
  };
  const insert = (value: string, quoted: boolean) => {
    context.budget.remaining -= value.length;
    if (context.budget.remaining < 0) {
      word.push("${…}");
      inWord = true;
      return;
    }
    if (quoted || !/\s/.test(value)) {
      word.push(value);
      inWord = true;
      return;
    }
    // Unquoted expansion: field splitting on whitespace.
    const fields = value.split(/\s+/);
    for (let f = 0; f < fields.length; f++) {
      if (f > 0) endWord();
      if (fields[f]!.length > 0) {
        word.push(fields[f]!);
        inWord = true;
      }
    }
  };

  function endWord(): void {
    if (!inWord) return;
    const text = word.length === 1 ? word[0]! : word.join("");
    word = [];
    inWord = false;
    const quoted = wordQuoted;
    wordQuoted = false;
    if (dropNextWord) {
      dropNextWord = false;
      return;
    }
    if (words.length === 0 && !quoted) {
      // Reserved words count only in command position and unquoted.
      if (OPENERS.has(text)) {
        if (stack.length === 0) lastPipeline = -1; // a compound command is now the last thing at the top level
        stack.push(text === "while" || text === "until" || text === "for" || text === "select" ? "loop" : text);
        commandDepth = -1;
        return;
      }
      const opener = CLOSERS.get(text);
      if (opener !== undefined) {
        if (stack.length > 0 && stack[stack.length - 1] === opener) stack.pop();
        return;
      }
      if (CONTINUATIONS.has(text)) return;
    }
    if (words.length === 0) {
      quotedFirst = quoted;
      commandDepth = stack.length;
    }
    words.push(text);
  }

  function endCommand(background: boolean, pipe: boolean): void {
    endWord();
    dropNextWord = false;
    let start = 0;
    // Leading NAME=value words: alone they set shell variables; before a command, its environment.
    while (start < words.length && isAssignment(words[start]!)) start++;
    if (start === words.length) {
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        const eq = w.indexOf("=");
        vars.set(w.slice(0, eq), w.slice(eq + 1));
      }
    } else {
      let rest = start === 0 ? words : words.slice(start);
      let exec = false;
      if (rest[0] === "exec" && !quotedFirst) {
        let i = 1;
        while (i < rest.length && rest[i]!.charCodeAt(0) === 45 /* - */) i += rest[i] === "-a" ? 2 : 1;
        rest = rest.slice(i);
        exec = rest.length > 0;
      }
      const depth = commandDepth < 0 ? stack.length : commandDepth;
      if (rest.length > 0) commands.push({ words: rest, exec, depth, background, pipeline });
      if (rest.length > 0 && depth === 0 && !background) lastPipeline = pipeline;
    }
    if (!pipe) pipeline++;
    words = [];
    quotedFirst = false;
    commandDepth = -1;
  }

  const n = script.length;
  let i = 0;
  /** Index just past the `)` closing a `$(` or `(` opened before `from`, respecting quotes. */
  const skipParens = (from: number): number => {
    let depth = 1;
    let j = from;
    while (j < n && depth > 0) {
      const c = script.charCodeAt(j);
      if (c === 39 /* ' */) {
        const close = script.indexOf("'", j + 1);
        j = close < 0 ? n : close + 1;
        continue;
      }
      if (c === 92 /* \ */) j++;
      else if (c === 40) depth++;
      else if (c === 41) depth--;
      j++;
    }
    return j;
  };

  /** Parameter expansion at script[i] === "$"; returns the index after it. */
  const dollar = (at: number, quoted: boolean): number => {
    const c = script.charCodeAt(at + 1);
    if (c === 40 /* ( */) {
      insert("$(…)", true);
      return skipParens(at + 2);
    }
    if (c === 123 /* { */) {
      const close = script.indexOf("}", at + 2);
      const end = close < 0 ? n : close;
      const body = script.slice(at + 2, end);
      let nameEnd = 0;
      while (nameEnd < body.length && isNameChar(body.charCodeAt(nameEnd))) nameEnd++;
      const name = body.slice(0, nameEnd);
      const op = body.slice(nameEnd);
      let value = nameEnd > 0 ? lookup(name) : undefined;
      if (op.startsWith(":-") || op.startsWith("-")) {
        const fallback = op.slice(op.startsWith(":-") ? 2 : 1);
        if ((value === undefined || (value === "" && op.startsWith(":"))) && fallback.indexOf("$") < 0) value = fallback;
      } else if (op !== "") value = undefined; // other operators: not worth modelling
      insert(value ?? `\${${name || "…"}}`, quoted);
      return end + 1;
    }
    if (isNameStart(c)) {
      let j = at + 1;
      while (j < n && isNameChar(script.charCodeAt(j))) j++;
      const name = script.slice(at + 1, j);
      insert(lookup(name) ?? `\${${name}}`, quoted);
      return j;
    }
    if (c >= 48 && c <= 57) {
      insert(context.positional[c - 48] ?? `\${${c - 48}}`, quoted);
      return at + 2;
    }
    if (c === 64 /* @ */ || c === 42 /* * */) {
      const args = context.positional.slice(1);
      for (let a = 0; a < args.length; a++) {
        if (a > 0) endWord();
        insert(args[a]!, true);
      }
      if (args.length === 0 && quoted) inWord = true;
      return at + 2;
    }
    if (c === 35 /* # */ || c === 63 /* ? */ || c === 36 /* $ */ || c === 33 /* ! */ || c === 45 /* - */) {
      insert("${…}", true);
      return at + 2;
    }
    word.push("$");
    inWord = true;
    return at + 1;
  };

  while (i < n) {
    const c = script.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      endWord();
      i++;
    } else if (c === 10 /* \n */) {
      endCommand(false, false);
      i++;
    } else if (c === 35 /* # */ && !inWord) {
      const nl = script.indexOf("\n", i);
      i = nl < 0 ? n : nl;
    } else if (c === 59 /* ; */) {
      endCommand(false, false);
      i += script.charCodeAt(i + 1) === 59 ? 2 : 1;
    } else if (c === 38 /* & */) {
      if (script.charCodeAt(i + 1) === 38) {
        endCommand(false, false);
        i += 2;
      } else if (script.charCodeAt(i + 1) === 62 /* &> */) {
        endWord();
        dropNextWord = true;
        i += script.charCodeAt(i + 2) === 62 ? 3 : 2;
      } else {
        endCommand(true, false);
        i++;
      }
    } else if (c === 124 /* | */) {
      if (script.charCodeAt(i + 1) === 124) {
        endCommand(false, false);
        i += 2;
      } else {
        endCommand(false, true);
        i += script.charCodeAt(i + 1) === 38 ? 2 : 1;
      }
    } else if (c === 40 /* ( */) {
      let j = i + 1;
      while (script.charCodeAt(j) === 32) j++;
      if (script.charCodeAt(j) === 41 && (words.length > 0 || inWord)) {
        // `name() { … }`: a function definition; its body opens with `{`.
        endWord();
        words = [];
        i = j + 1;
      } else {
        endCommand(false, false);
        if (stack.length === 0) lastPipeline = -1;
        stack.push("(");
        i++;
      }
    } else if (c === 41 /* ) */) {
      if (stack.length > 0 && stack[stack.length - 1] === "case") {
        // a case pattern ends: the words so far were the pattern
        endWord();
        words = [];
      } else {
        endCommand(false, false);
        if (stack.length > 0 && stack[stack.length - 1] === "(") stack.pop();
      }
      i++;
    } else if (c === 60 /* < */ || c === 62 /* > */) {
      // Redirection: drop an fd number before it and the target after it.
      if (inWord && word.length > 0 && /^\d+$/.test(word.join(""))) {
        word = [];
        inWord = false;
        wordQuoted = false;
      } else endWord();
      let j = i + 1;
      while (j < n && (script.charCodeAt(j) === 60 || script.charCodeAt(j) === 62 || script.charCodeAt(j) === 124)) j++;
      if (script.charCodeAt(j) === 38 /* >&1 */) {
        j++;
        while (j < n && script.charCodeAt(j) >= 48 && script.charCodeAt(j) <= 57) j++;
        if (script.charCodeAt(j) === 45) j++;
      } else dropNextWord = true;
      i = j;
    } else if (c === 39 /* ' */) {
      const close = script.indexOf("'", i + 1);
      const end = close < 0 ? n : close;
      word.push(script.slice(i + 1, end));
      inWord = true;
      wordQuoted = true;
      i = end + 1;
    } else if (c === 34 /* " */) {
      inWord = true;
      wordQuoted = true;
      i++;
      while (i < n && script.charCodeAt(i) !== 34) {
        const d = script.charCodeAt(i);
        if (d === 92 /* \ */ && i + 1 < n) {
          const e = script.charCodeAt(i + 1);
          if (e === 36 || e === 96 || e === 34 || e === 92) word.push(script[i + 1]!);
          else if (e !== 10) word.push(script.slice(i, i + 2));
          i += 2;
        } else if (d === 36 /* $ */) i = dollar(i, true);
        else if (d === 96 /* ` */) {
          const close = script.indexOf("`", i + 1);
          insert("$(…)", true);
          i = close < 0 ? n : close + 1;
        } else {
          let j = i + 1;
          while (j < n) {
            const e = script.charCodeAt(j);
            if (e === 34 || e === 92 || e === 36 || e === 96) break;
            j++;
          }
          word.push(script.slice(i, j));
          i = j;
        }
      }
      i++;
    } else if (c === 92 /* \ */) {
      if (script.charCodeAt(i + 1) !== 10) {
        word.push(script.slice(i + 1, i + 2));
        inWord = true;
        wordQuoted = true;
      }
      i += 2;
    } else if (c === 36 /* $ */) {
      i = dollar(i, false);
    } else if (c === 96 /* ` */) {
      const close = script.indexOf("`", i + 1);
      insert("$(…)", true);
      i = close < 0 ? n : close + 1;
    } else {
      let j = i + 1;
      while (j < n) {
        const e = script.charCodeAt(j);
        if (e === 32 || e === 9 || e === 10 || e === 13 || e === 59 || e === 38 || e === 124 || e === 40 || e === 41 || e === 60 || e === 62 || e === 39 || e === 34 || e === 92 || e === 36 || e === 96) break;
        j++;
      }
      word.push(script.slice(i, j));
      inWord = true;
      i = j;
    }
  }
  endCommand(false, false);
  return { commands, lastPipeline };
}

function isAssignment(w: string): boolean {
  const eq = w.indexOf("=");
  if (eq <= 0 || !isNameStart(w.charCodeAt(0))) return false;
  for (let i = 1; i < eq; i++) if (!isNameChar(w.charCodeAt(i))) return false;
  return true;
}

/**
 * The commands a script runs as the container's program: every command it
 * `exec`s (at any depth: `if …; then exec a; else exec b; fi`), every command it
 * starts in the background at the top level (servers before a `wait`), and the
 * last top-level pipeline (a shell runs it until it exits, so the container lives
 * as long as it does). Commands inside loops, conditions, functions, subshells
 * and command substitutions are helpers (the `pg_dumpall` in a backup loop, the
 * `until tctl …; do sleep 1; done` wait loop), as are the top-level commands
 * before the last one (`mkdir -p /data && app …`).
 */
export function scriptPrograms({ commands, lastPipeline }: ParsedScript): ShellCommand[] {
  const out: ShellCommand[] = [];
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i]!;
    if (c.exec || (c.depth === 0 && (c.background || c.pipeline === lastPipeline))) out.push(c);
  }
  return out;
}
