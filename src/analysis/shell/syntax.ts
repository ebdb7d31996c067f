/**
 * Shell syntax: a script's text → a small syntax tree, in one linear pass.
 *
 * POSIX sh plus the bash forms manifests use: `$'…'` and `$"…"` quoting,
 * `[[ … ]]`, `(( … ))`, arrays (`A=(…)`, `${A[@]}`), `function name { … }`,
 * here-strings and `|&`, `;&` / `;;&` in case, process substitution. The split
 * follows mvdan/sh (the parser behind shfmt): this module only builds the tree;
 * expand.ts turns words into fields against an environment; interp.ts evaluates.
 *
 * Nothing is executed or expanded here. Command substitutions are parsed in place
 * (their commands run in the container too); here-document bodies are read and
 * kept as data, never as commands. Brace expansion (`{a,b}`) and aliases are not
 * modelled: such words are read as written. Unsupported or broken syntax throws
 * ShellSyntaxError; nesting deeper than MAX_SYNTAX_DEPTH does too (the caller
 * then reports the container's binds as unknown).
 */
import { WorkBoundError, type WorkBudget } from "../env-expansion.js";

/** Deepest nesting of compound commands, substitutions and `${…}` read (the evaluation recurses as deep). */
export const MAX_SYNTAX_DEPTH = 40;

export class ShellSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(`${message} at character ${offset}`);
  }
}

// ---- the tree ---------------------------------------------------------------------------

/** Operators of `${NAME<op>ARG}`. */
export type ParamOp =
  | ""
  | "-" | ":-" | "=" | ":=" | "+" | ":+" | "?" | ":?"
  | "#" | "##" | "%" | "%%"
  | "/" | "//" | "/#" | "/%"
  | "^" | "^^" | "," | ",,"
  | "length"
  /** `${NAME:offset[:length]}`, `${!NAME}`, `${NAME@Q}` and the like: read, never computed. */
  | "other";

export type WordPart =
  /** Unquoted text: its glob characters are pattern characters, its expansions are field-split. */
  | { k: "lit"; v: string }
  /** Quoted text (`'…'`, `$'…'` decoded, a backslash-escaped character): taken literally. */
  | { k: "sq"; v: string }
  /** `"…"` (and `$"…"`): no field splitting inside. */
  | { k: "dq"; parts: WordPart[] }
  /** `$NAME`, `${…}`; `index` for `${A[…]}` (`@`/`*` for every element). */
  | { k: "param"; name: string; op: ParamOp; arg: Word | null; repl: Word | null; index: string | null }
  /** `$(…)` or backquotes: the commands run, what they print is unknown. */
  | { k: "cmdsub"; body: List }
  /** `$((…))`, `$[…]`: arithmetic, not computed. `text` is read for assignments. */
  | { k: "arith"; text: string }
  /** `<(…)` / `>(…)`: a path to a pipe, unknown. */
  | { k: "procsub"; body: List }
  /** Text Kubernetes splices in from a variable the manifest does not show (see SyntaxOptions.unknownSplice). */
  | { k: "unknown"; name: string };

/** A word: its text when it is plain unquoted text (most words), else its parts. */
export type Word = string | { parts: WordPart[] };

/** The parts of a word. */
export function wordParts(w: Word): readonly WordPart[] {
  return typeof w === "string" ? [{ k: "lit", v: w }] : w.parts;
}

export interface Assign {
  name: string;
  /** `A[i]=v`: the index, as written. */
  index: string | null;
  append: boolean;
  /** The value; null for `A=(…)` (then `array`). */
  value: Word | null;
  array: Word[] | null;
}

export interface Redirect {
  op: string;
  target: Word | null;
  /** A here-document's body (`<<`, `<<-`): data for the command's stdin, never commands. */
  heredoc?: string;
}

export type TestExpr =
  | { k: "and" | "or"; l: TestExpr; r: TestExpr }
  | { k: "not"; e: TestExpr }
  | { k: "unary"; op: string; w: Word }
  | { k: "binary"; op: string; l: Word; r: Word }
  | { k: "word"; w: Word };

export interface CaseItem {
  patterns: Word[];
  body: List;
  /** `;;` ends the case, `;&` runs the next body too, `;;&` tests the next patterns. */
  term: ";;" | ";&" | ";;&";
}

export type Command =
  /**
   * `assigns` before the command name; `words` the name and operands. For declaration
   * builtins (`export`, `local`, …) an operand written NAME=value is an assignment:
   * `declared[i]` holds it (and `words[i]` its text, for messages).
   */
  | { k: "simple"; assigns: Assign[]; words: Word[]; declared: (Assign | undefined)[] | null; redirs: Redirect[]; plain: boolean }
  | { k: "group"; body: List; redirs: Redirect[] }
  | { k: "subshell"; body: List; redirs: Redirect[] }
  | { k: "if"; clauses: { cond: List; body: List }[]; otherwise: List | null; redirs: Redirect[] }
  | { k: "while"; until: boolean; cond: List; body: List; redirs: Redirect[]; assigned: NameSet }
  | { k: "for"; name: string; items: Word[] | null; body: List; redirs: Redirect[]; assigned: NameSet }
  | { k: "case"; word: Word; items: CaseItem[]; redirs: Redirect[] }
  | { k: "func"; name: string; body: Command; assigned: NameSet }
  | { k: "arith"; text: string }
  | { k: "test"; expr: TestExpr | null; redirs: Redirect[] };

/** `a | b`, or `! a` (a single command without `!` is the command itself). */
export interface Pipeline {
  k: "pipe";
  bang: boolean;
  cmds: Command[];
}

/** `a && b || c` (a single pipeline is the pipeline itself). */
export interface AndOr {
  k: "andor";
  first: Command | Pipeline;
  rest: { op: "&&" | "||"; p: Command | Pipeline }[];
}

/** What a list holds: commands, pipelines and and-or lists, each node only as deep as it must be. */
export type ListItem = Command | Pipeline | AndOr;

export interface List {
  items: ListItem[];
  /** bg[i]: item i ends with `&` (null when none does). */
  bg: boolean[] | null;
}

/**
 * The variables a loop or function body may assign, read off the syntax so a loop's
 * second iteration is never judged with the first one's values: assignments,
 * `read`/`export`/`local`/`declare`/… operands, loop variables, arithmetic
 * assignments, and the names of the commands it calls (functions assign too).
 * `dynamic`: it runs `eval`, `.`/`source` or commands whose names are not literal.
 */
export interface NameSet {
  names: Set<string>;
  calls: Set<string>;
  dynamic: boolean;
}

export interface Script {
  body: List;
  /** Characters read, for the caller's work budget. */
  length: number;
}

/**
 * What parsing costs, in work units of about 1,000 wasm instructions (measured in
 * QuickJS under wasmtime fuel: .scratch-free figures in tests/e2e/fuel-budget.test.ts):
 * paid from SyntaxOptions.budget as the parser goes, so a text too costly for the
 * budget stops early.
 */
export const PARSE_COST = { perCharacter: 0.3, list: 30, command: 85, word: 16, wordPart: 45, compound: 220, item: 60, assignment: 60, declaration: 40, redirect: 45, heredoc: 80, heredocLine: 10, loop: 120 } as const;

export interface SyntaxOptions {
  /** The work budget parsing pays from (see PARSE_COST); none: unbounded (tests). */
  budget?: WorkBudget;
  /**
   * A `$(NAME)` left in the text by Kubernetes because NAME is defined from a source the
   * manifest does not show (valueFrom, envFrom): at run time it is replaced by unknown text,
   * not run as a command substitution.
   */
  unknownSplice?: (name: string) => boolean;
}

// ---- characters -------------------------------------------------------------------------

const SP = 32, TAB = 9, NL = 10, CR = 13;
const SEMI = 59, AMP = 38, PIPE = 124, LP = 40, RP = 41, LT = 60, GT = 62;
const SQ = 39, DQ = 34, BS = 92, DOLLAR = 36, BQ = 96, HASH = 35, LB = 123, RB = 125;

/**
 * A run of characters that are plain in an unquoted word. One negated character class
 * under `*`, sticky: the engine takes characters while they are outside the class and
 * stops; there is no alternative to backtrack into, so the scan is linear, and it runs
 * natively (a JavaScript character loop costs QuickJS several times more per character).
 */
const PLAIN_RUN = /[^\t\n\r ;&|()<>'"\\$`]*/y;
/** Ordinary characters inside double quotes, and inside `${…}` words, the same way. */
const DQ_RUN = /[^"\\$`]*/y;
const BRACE_RUN = /[^}'"\\$`\/]*/y;
/** The rest of a name, the same way. */
const NAME_RUN = /[A-Za-z0-9_]*/y;
const NO_ASSIGNS: Assign[] = [];
/** Characters that may start (and continue) a plain word: neither metacharacters, quotes, `\`, `$`, backquotes nor `#`. */
const PLAIN_START = new Uint8Array(128);
for (let c = 33; c < 127; c++) PLAIN_START[c] = 1;
for (const ch of ";&|()<>'\"\\$`#") PLAIN_START[ch.charCodeAt(0)] = 0;

const NO_REDIRECTS: Redirect[] = [];

/** Characters that end an unquoted word. */
const META = new Uint8Array(128);
for (const c of [SP, TAB, NL, CR, SEMI, AMP, PIPE, LP, RP, LT, GT]) META[c] = 1;
function isMeta(c: number): boolean {
  return c < 128 && META[c] === 1;
}
export function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
export function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}
export function isName(s: string): boolean {
  if (s.length === 0 || !isNameStart(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) if (!isNameChar(s.charCodeAt(i))) return false;
  return true;
}

const RESERVED = new Set(["if", "then", "elif", "else", "fi", "do", "done", "case", "esac", "while", "until", "for", "select", "in", "function", "{", "}", "!", "[[", "]]", "time", "coproc"]);
/** The first characters of reserved words: a word starting otherwise is never one. */
const RESERVED_START = new Uint8Array(128);
for (const w of RESERVED) RESERVED_START[w.charCodeAt(0)] = 1;
/** The first two characters of the reserved words longer than one character. */
const RESERVED_START2 = new Uint8Array(128 * 128);
for (const w of RESERVED) if (w.length > 1) RESERVED_START2[(w.charCodeAt(0) << 7) | w.charCodeAt(1)] = 1;
/** Reserved words that end a list (the caller's construct continues with them). */
const LIST_ENDS = new Set(["then", "elif", "else", "fi", "do", "done", "esac", "}"]);
/** Builtins whose NAME=value operands are assignments, not words to split. */
export const DECLARATION_BUILTINS = new Set(["export", "readonly", "declare", "typeset", "local"]);

/** The literal text of a word when it is all unquoted literal, else null (reserved words are only such words). */
export function plainText(w: Word): string | null {
  if (typeof w === "string") return w;
  if (w.parts.length === 1 && w.parts[0]!.k === "lit") return w.parts[0]!.v;
  return null;
}

/** The text of a word made only of literal and quoted parts, else null. */
export function literalText(w: Word): string | null {
  if (typeof w === "string") return w;
  let out = "";
  for (const p of w.parts) {
    if (p.k === "lit" || p.k === "sq") out += p.v;
    else if (p.k === "dq") {
      for (const q of p.parts) {
        if (q.k === "lit" || q.k === "sq") out += q.v;
        else return null;
      }
    } else return null;
  }
  return out;
}

// ---- the parser ---------------------------------------------------------------------------

export function parseScript(text: string, options: SyntaxOptions = {}): Script {
  const p = new Parser(text, options);
  p.pay(Math.ceil(text.length * PARSE_COST.perCharacter));
  const body = p.parseProgram();
  return { body, length: text.length };
}

interface PendingHeredoc {
  delimiter: string;
  stripTabs: boolean;
  redirect: Redirect;
}

class Parser {
  private i = 0;
  private depth = 0;
  private pending: PendingHeredoc[] = [];
  /** The innermost loop/function name set being collected, if any. */
  private names: NameSet[] = [];

  constructor(
    private readonly s: string,
    private readonly options: SyntaxOptions,
  ) {}

  private fail(message: string, at = this.i): never {
    throw new ShellSyntaxError(at, message);
  }

  private enter(): void {
    if (++this.depth > MAX_SYNTAX_DEPTH) this.fail(`nested more than ${MAX_SYNTAX_DEPTH} deep`);
    this.pay(PARSE_COST.list);
  }

  /** Pay `units` of parsing work; throws WorkBoundError once the budget is spent. */
  pay(units: number): void {
    const b = this.options.budget;
    if (b === undefined) return;
    b.remaining -= units;
    if (b.remaining < 0) {
      b.exhausted = true;
      throw new WorkBoundError();
    }
  }
  private leave(): void {
    this.depth--;
  }

  parseProgram(): List {
    const list = this.parseList();
    this.skipSeparators();
    if (this.i < this.s.length) this.fail(`unexpected ${JSON.stringify(this.peekReserved() ?? this.s[this.i])}`);
    return list;
  }

  // -- blanks, comments, newlines

  /** Skip blanks, line continuations and a comment (which runs to the newline, not past it). */
  private skipBlanks(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === SP || c === TAB || c === CR) i++;
      else if (c === BS && s.charCodeAt(i + 1) === NL) i += 2;
      else if (c === HASH) {
        const nl = s.indexOf("\n", i);
        i = nl < 0 ? s.length : nl;
      } else break;
    }
    this.i = i;
  }

  /** After a newline: read the bodies of here-documents whose redirection was on that line. */
  private newline(): void {
    this.i++;
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const h of pending) h.redirect.heredoc = this.readHeredoc(h);
  }

  private readHeredoc(h: PendingHeredoc): string {
    const s = this.s;
    const start = this.i;
    this.pay(PARSE_COST.heredoc);
    while (this.i < s.length) {
      const nl = s.indexOf("\n", this.i);
      const end = nl < 0 ? s.length : nl;
      this.pay(PARSE_COST.heredocLine);
      let line = s.slice(this.i, end);
      if (h.stripTabs) {
        let t = 0;
        while (line.charCodeAt(t) === TAB) t++;
        line = line.slice(t);
      }
      if (line === h.delimiter || (line.endsWith("\r") && line.slice(0, -1) === h.delimiter)) {
        const body = s.slice(start, this.i);
        this.i = nl < 0 ? s.length : nl + 1;
        return body;
      }
      this.i = nl < 0 ? s.length : nl + 1;
    }
    // An unterminated here-document runs to the end of the script (sh warns and accepts it).
    return s.slice(start);
  }

  /** Skip blanks and newlines (and the comments between them). */
  private skipSeparators(): void {
    for (;;) {
      this.skipBlanks();
      if (this.s.charCodeAt(this.i) === NL) this.newline();
      else return;
    }
  }

  private startsWith(t: string): boolean {
    return this.s.startsWith(t, this.i);
  }

  private peekAt = -1;
  private peeked: string | null = null;

  /** The next unquoted reserved word at the current position, if the next word is one (asked often at one place: remembered). */
  private peekReserved(): string | null {
    if (this.peekAt === this.i) return this.peeked;
    this.peekAt = this.i;
    this.peeked = null;
    const s = this.s;
    const c0 = s.charCodeAt(this.i);
    if (c0 >= 128 || RESERVED_START[c0] === 0) return null;
    PLAIN_RUN.lastIndex = this.i;
    PLAIN_RUN.test(s);
    const j = PLAIN_RUN.lastIndex;
    if (j === this.i || j - this.i > 8) return null;
    if (j < s.length && !isMeta(s.charCodeAt(j))) return null; // quoted or expanded: not a reserved word
    const w = s.slice(this.i, j);
    this.peeked = RESERVED.has(w) ? w : null;
    return this.peeked;
  }

  private expectReserved(w: string): void {
    this.skipSeparators();
    if (this.peekReserved() !== w) this.fail(`expected "${w}"`);
    this.i += w.length;
  }

  // -- lists

  /**
   * A list of and-or lists separated by `;`, `&` or newlines, up to a reserved word
   * that ends it, `)` (for subshells and substitutions), `;;` (case items) or the end.
   */
  private parseList(): List {
    this.enter();
    const items: ListItem[] = [];
    let bgs: boolean[] | null = null;
    const s = this.s;
    for (;;) {
      let c = s.charCodeAt(this.i);
      if (c === NL || c === SP || c === TAB || c === CR || c === BS || c === HASH) {
        this.skipSeparators();
        c = s.charCodeAt(this.i);
      }
      // The end of the list: `)`, `;;`, `;&`, a reserved word that ends it, or the text.
      if (this.i >= s.length) break;
      if (c === RP || (c === SEMI && (s.charCodeAt(this.i + 1) === SEMI || s.charCodeAt(this.i + 1) === AMP))) break;
      const r = c < 128 && RESERVED_START[c] === 1 && this.mayBeReserved(c) ? this.peekReserved() : null;
      if (r !== null && LIST_ENDS.has(r)) break;
      // Most items are a simple command, read directly; a `|`, `&&` or `||` after it makes it part of more.
      let ao: ListItem;
      if (r === null && c !== LP) {
        ao = this.parseSimple();
        const e = s.charCodeAt(this.i);
        if (e === PIPE || (e === AMP && s.charCodeAt(this.i + 1) === AMP) || e === SP || e === TAB || e === CR || e === BS) ao = this.parseAndOr(ao as Command);
      } else ao = this.parseAndOr(null);
      let d = s.charCodeAt(this.i);
      if (d === SP || d === TAB || d === CR || d === BS || d === HASH) {
        this.skipBlanks();
        d = s.charCodeAt(this.i);
      }
      let bg = false;
      if (d === AMP) {
        bg = true;
        this.i++;
      } else if (d === SEMI && !this.startsWith(";;") && !this.startsWith(";&")) this.i++;
      else if (d !== NL && !this.atListEnd()) this.fail(`unexpected ${JSON.stringify(this.s[this.i])}`);
      if (bg) (bgs ??= new Array<boolean>(items.length).fill(false)).push(true);
      else if (bgs !== null) bgs.push(false);
      items.push(ao);
    }
    this.leave();
    return { items, bg: bgs };
  }

  /** Could the word starting with `c` be reserved? Its first two characters tell for most words. */
  private mayBeReserved(c: number): boolean {
    const d = this.s.charCodeAt(this.i + 1);
    return d >= 128 || RESERVED_START2[(c << 7) | d] === 1 || !(d < 128 && PLAIN_START[d] === 1);
  }

  /** At `)`, `;;`, `;&`, a reserved word that ends a list, or the end of the text. */
  private atListEnd(): boolean {
    if (this.i >= this.s.length) return true;
    const c = this.s.charCodeAt(this.i);
    if (c === RP || this.startsWith(";;") || this.startsWith(";&")) return true;
    const r = this.peekReserved();
    return r !== null && LIST_ENDS.has(r);
  }

  /** An and-or list; `simple`: its first command, already read. */
  private parseAndOr(simple: Command | null = null): ListItem {
    const first = this.parsePipeline(simple);
    let rest: AndOr["rest"] | null = null;
    for (;;) {
      let c = this.s.charCodeAt(this.i);
      if (c === SP || c === TAB || c === CR || c === BS || c === HASH) {
        this.skipBlanks();
        c = this.s.charCodeAt(this.i);
      }
      if ((c !== AMP && c !== PIPE) || this.s.charCodeAt(this.i + 1) !== c) break;
      this.i += 2;
      this.skipSeparators();
      (rest ??= []).push({ op: c === AMP ? "&&" : "||", p: this.parsePipeline() });
    }
    return rest === null ? first : { k: "andor", first, rest };
  }

  /** A pipeline; `simple`: its first command, already read. */
  private parsePipeline(simple: Command | null = null): Command | Pipeline {
    let bang = false;
    if (simple === null) this.skipBlanks();
    for (; simple === null; ) {
      const c0 = this.s.charCodeAt(this.i);
      const r = c0 === 33 /* ! */ || c0 === 116 /* t */ ? this.peekReserved() : null;
      if (r === "!") {
        bang = !bang;
        this.i++;
        this.skipBlanks();
      } else if (r === "time") {
        this.i += 4;
        this.skipBlanks();
        if (this.startsWith("-p") && isMeta(this.s.charCodeAt(this.i + 2))) {
          this.i += 2;
          this.skipBlanks();
        }
      } else break;
    }
    const first = simple ?? this.parseCommand();
    let cmds: Command[] | null = null;
    for (;;) {
      let c = this.s.charCodeAt(this.i);
      if (c === SP || c === TAB || c === CR || c === BS || c === HASH) {
        this.skipBlanks();
        c = this.s.charCodeAt(this.i);
      }
      if (c !== PIPE || this.s.charCodeAt(this.i + 1) === PIPE) break;
      this.i += this.s.charCodeAt(this.i + 1) === AMP ? 2 : 1;
      this.skipSeparators();
      (cmds ??= [first]).push(this.parseCommand());
    }
    return cmds === null && !bang ? first : { k: "pipe", bang, cmds: cmds ?? [first] };
  }

  // -- commands

  private parseCommand(): Command {
    this.skipBlanks();
    const c = this.s.charCodeAt(this.i);
    if (c === LP) {
      this.pay(PARSE_COST.compound);
      if (this.s.charCodeAt(this.i + 1) === LP) {
        const arith = this.tryArithCommand();
        if (arith) return arith;
      }
      this.i++;
      const body = this.parseList();
      this.skipSeparators();
      if (this.s.charCodeAt(this.i) !== RP) this.fail('expected ")"');
      this.i++;
      return { k: "subshell", body, redirs: this.parseRedirects() };
    }
    const r = c < 128 && RESERVED_START[c] === 1 ? this.peekReserved() : null;
    if (r !== null) {
      this.pay(PARSE_COST.compound);
      switch (r) {
        case "{": {
          this.i++;
          const body = this.parseList();
          this.expectReserved("}");
          return { k: "group", body, redirs: this.parseRedirects() };
        }
        case "if":
          return this.parseIf();
        case "while":
        case "until":
          return this.parseWhile(r === "until");
        case "for":
        case "select":
          return this.parseFor(r.length);
        case "case":
          return this.parseCase();
        case "function":
          return this.parseFunctionKeyword();
        case "[[":
          return this.parseTestCommand();
        case "coproc":
          this.i += 6;
          return this.parseCommand();
        default:
          this.fail(`unexpected "${r}"`);
      }
    }
    return this.parseSimple();
  }

  private tryArithCommand(): Command | null {
    // `((…))`: arithmetic, unless the parentheses do not balance as `(( … ))` (then nested subshells).
    const end = this.findArithEnd(this.i + 2);
    if (end < 0) return null;
    const text = this.s.slice(this.i + 2, end);
    this.i = end + 2;
    this.noteArith(text);
    return { k: "arith", text };
  }

  /** The index of the `))` that closes an arithmetic text starting at `from`, or -1. */
  private findArithEnd(from: number): number {
    const s = this.s;
    let depth = 0;
    for (let j = from; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === LP) depth++;
      else if (c === RP) {
        if (depth === 0) return s.charCodeAt(j + 1) === RP ? j : -1;
        depth--;
      } else if (c === SQ || c === DQ || c === BQ || c === NL || c === SEMI) return -1;
    }
    return -1;
  }

  private parseIf(): Command {
    this.i += 2;
    const clauses: { cond: List; body: List }[] = [];
    let otherwise: List | null = null;
    for (;;) {
      this.pay(PARSE_COST.item);
      const cond = this.parseList();
      this.expectReserved("then");
      const body = this.parseList();
      clauses.push({ cond, body });
      this.skipSeparators();
      const r = this.peekReserved();
      if (r === "elif") {
        this.i += 4;
        continue;
      }
      if (r === "else") {
        this.i += 4;
        otherwise = this.parseList();
        this.skipSeparators();
      }
      this.expectReserved("fi");
      break;
    }
    return { k: "if", clauses, otherwise, redirs: this.parseRedirects() };
  }

  private beginNames(): NameSet {
    const set: NameSet = { names: new Set(), calls: new Set(), dynamic: false };
    this.names.push(set);
    return set;
  }
  private endNames(set: NameSet): void {
    this.names.pop();
    const outer = this.names[this.names.length - 1];
    if (outer) {
      // Nested loops: the outer body assigns what the inner one does (the total stays linear
      // in the script times the nesting depth, which MAX_SYNTAX_DEPTH bounds).
      for (const n of set.names) outer.names.add(n);
      for (const n of set.calls) outer.calls.add(n);
      if (set.dynamic) outer.dynamic = true;
    }
  }
  private noteName(name: string): void {
    const top = this.names[this.names.length - 1];
    if (top) top.names.add(name);
  }
  private noteCall(name: string | null): void {
    const top = this.names[this.names.length - 1];
    if (!top) return;
    if (name === null || name === "eval" || name === "." || name === "source") top.dynamic = true;
    else if (name === "set" || name === "shift") top.names.add("@"); // the positional parameters
    else top.calls.add(name);
  }
  private noteArith(text: string): void {
    if (this.names.length > 0) for (const name of arithAssigned(text)) this.noteName(name);
  }

  private parseWhile(until: boolean): Command {
    this.i += 5;
    const names = this.beginNames();
    const cond = this.parseList();
    this.expectReserved("do");
    const body = this.parseList();
    this.expectReserved("done");
    this.endNames(names);
    return { k: "while", until, cond, body, redirs: this.parseRedirects(), assigned: names };
  }

  private parseFor(keywordLength: number): Command {
    this.pay(PARSE_COST.loop);
    this.i += keywordLength;
    this.skipBlanks();
    if (this.startsWith("((")) {
      // `for ((init; cond; step))`: arithmetic; the body runs an unknown number of times.
      const end = this.s.indexOf("))", this.i + 2);
      if (end < 0) this.fail("unterminated for ((");
      const text = this.s.slice(this.i + 2, end);
      this.i = end + 2;
      const names = this.beginNames();
      this.noteArith(text);
      this.skipBlanks();
      if (this.s.charCodeAt(this.i) === SEMI) this.i++;
      this.skipSeparators();
      const body = this.parseLoopBody();
      this.endNames(names);
      return { k: "for", name: "", items: [], body, redirs: this.parseRedirects(), assigned: names };
    }
    const nameWord = this.readWord();
    const name = nameWord ? plainText(nameWord) : null;
    if (name === null || !isName(name)) this.fail("expected a variable name after for");
    const names = this.beginNames();
    this.noteName(name);
    this.skipBlanks();
    let items: Word[] | null = null;
    const save = this.i;
    this.skipSeparators();
    if (this.peekReserved() === "in") {
      this.i += 2;
      items = [];
      for (;;) {
        this.skipBlanks();
        const c = this.s.charCodeAt(this.i);
        if (this.i >= this.s.length || c === NL || c === SEMI) break;
        const w = this.readWord();
        if (!w) this.fail("unexpected character in for list");
        items.push(w);
      }
    } else this.i = save;
    this.skipBlanks();
    if (this.s.charCodeAt(this.i) === SEMI) this.i++;
    this.skipSeparators();
    const body = this.parseLoopBody();
    this.endNames(names);
    return { k: "for", name, items, body, redirs: this.parseRedirects(), assigned: names };
  }

  private parseLoopBody(): List {
    const r = this.peekReserved();
    if (r === "{") {
      // bash accepts `for x in …; { …; }`
      this.i++;
      const body = this.parseList();
      this.expectReserved("}");
      return body;
    }
    this.expectReserved("do");
    const body = this.parseList();
    this.expectReserved("done");
    return body;
  }

  private parseCase(): Command {
    this.i += 4;
    this.skipBlanks();
    const word = this.readWord();
    if (!word) this.fail("expected a word after case");
    this.expectReserved("in");
    const items: CaseItem[] = [];
    for (;;) {
      this.skipSeparators();
      if (this.peekReserved() === "esac") {
        this.i += 4;
        break;
      }
      if (this.s.charCodeAt(this.i) === LP) this.i++;
      const patterns: Word[] = [];
      for (;;) {
        this.skipBlanks();
        const w = this.readWord();
        if (!w) this.fail("expected a case pattern");
        patterns.push(w);
        this.skipBlanks();
        const c = this.s.charCodeAt(this.i);
        if (c === PIPE) {
          this.i++;
          continue;
        }
        if (c === RP) {
          this.i++;
          break;
        }
        this.fail('expected ")" after a case pattern');
      }
      this.pay(PARSE_COST.item);
      const body = this.parseList();
      this.skipSeparators();
      let term: CaseItem["term"] = ";;";
      if (this.startsWith(";;&")) {
        term = ";;&";
        this.i += 3;
      } else if (this.startsWith(";;")) this.i += 2;
      else if (this.startsWith(";&")) {
        term = ";&";
        this.i += 2;
      } else if (this.peekReserved() !== "esac") this.fail('expected ";;" or "esac"');
      items.push({ patterns, body, term });
    }
    return { k: "case", word, items, redirs: this.parseRedirects() };
  }

  private parseFunctionKeyword(): Command {
    this.i += 8;
    this.skipBlanks();
    const nameWord = this.readWord();
    const name = nameWord ? literalText(nameWord) : null;
    if (name === null || name.length === 0) this.fail("expected a function name");
    this.skipBlanks();
    if (this.startsWith("()")) this.i += 2;
    else if (this.s.charCodeAt(this.i) === LP) {
      this.i++;
      this.skipBlanks();
      if (this.s.charCodeAt(this.i) !== RP) this.fail('expected ")"');
      this.i++;
    }
    return this.parseFunctionBody(name);
  }

  private parseFunctionBody(name: string): Command {
    this.skipSeparators();
    const names = this.beginNames();
    const body = this.parseCommand();
    this.endNames(names);
    if (body.k === "simple") this.fail("a function body must be a compound command");
    return { k: "func", name, body, assigned: names };
  }

  private parseTestCommand(): Command {
    this.i += 2;
    const expr = this.parseTestOr();
    this.skipBlanks();
    if (!this.startsWith("]]")) this.fail('expected "]]"');
    this.i += 2;
    return { k: "test", expr, redirs: this.parseRedirects() };
  }

  private parseTestOr(): TestExpr {
    let l = this.parseTestAnd();
    for (;;) {
      this.skipSeparators();
      if (!this.startsWith("||")) return l;
      this.i += 2;
      l = { k: "or", l, r: this.parseTestAnd() };
    }
  }

  private parseTestAnd(): TestExpr {
    let l = this.parseTestNot();
    for (;;) {
      this.skipSeparators();
      if (!this.startsWith("&&")) return l;
      this.i += 2;
      l = { k: "and", l, r: this.parseTestNot() };
    }
  }

  private parseTestNot(): TestExpr {
    this.skipSeparators();
    if (this.s.charCodeAt(this.i) === 33 /* ! */ && isMeta(this.s.charCodeAt(this.i + 1))) {
      this.i++;
      return { k: "not", e: this.parseTestNot() };
    }
    if (this.s.charCodeAt(this.i) === LP) {
      this.i++;
      this.enter();
      const e = this.parseTestOr();
      this.leave();
      this.skipSeparators();
      if (this.s.charCodeAt(this.i) !== RP) this.fail('expected ")" in [[ ]]');
      this.i++;
      return e;
    }
    const first = this.readTestWord();
    this.skipBlanks();
    const firstText = plainText(first);
    if (firstText !== null && firstText.length === 2 && firstText.charCodeAt(0) === 45 /* - */ && !this.atTestEnd()) {
      return { k: "unary", op: firstText, w: this.readTestWord() };
    }
    if (this.atTestEnd()) return { k: "word", w: first };
    // A binary operator: `<` and `>` compare strings here; `=~` takes a regex word.
    let op: string;
    const c = this.s.charCodeAt(this.i);
    if (c === LT || c === GT) {
      op = this.s[this.i]!;
      this.i++;
    } else {
      const w = this.readTestWord();
      const t = plainText(w);
      if (t === null) this.fail("expected an operator in [[ ]]");
      op = t;
    }
    this.skipBlanks();
    const r = op === "=~" ? this.readRegexWord() : this.readTestWord();
    return { k: "binary", op, l: first, r };
  }

  private atTestEnd(): boolean {
    const c = this.s.charCodeAt(this.i);
    return this.startsWith("]]") || this.startsWith("&&") || this.startsWith("||") || c === RP || c === NL || this.i >= this.s.length;
  }

  private readTestWord(): Word {
    this.skipSeparators();
    const w = this.readWord();
    if (!w) this.fail("expected a word in [[ ]]");
    return w;
  }

  /** The right side of `=~`: parentheses and `|` belong to the regex. */
  private readRegexWord(): Word {
    const start = this.i;
    const s = this.s;
    let depth = 0;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === LP) depth++;
      else if (c === RP) {
        if (depth === 0) break;
        depth--;
      } else if ((c === SP || c === TAB || c === NL) && depth === 0) break;
      else if (c === SQ || c === DQ) {
        const close = s.indexOf(s[this.i]!, this.i + 1);
        if (close < 0) this.fail("unterminated quote");
        this.i = close;
      } else if (c === BS) this.i++;
      this.i++;
    }
    return { parts: [{ k: "sq", v: s.slice(start, this.i) }] };
  }

  private parseSimple(): Command {
    let assigns: Assign[] | null = null;
    const words: Word[] = [];
    let declared: (Assign | undefined)[] | null = null;
    let redirs: Redirect[] | null = null;
    let plain = true;
    const s = this.s;
    const n = s.length;
    let i = this.i;
    for (;;) {
      // Blanks and line continuations between words; a comment ends the command.
      let c = s.charCodeAt(i);
      while (c === SP || c === TAB || c === CR || (c === BS && s.charCodeAt(i + 1) === NL)) c = s.charCodeAt((i += c === BS ? 2 : 1));
      if (i >= n) break;
      if (c === HASH) {
        const nl = s.indexOf("\n", i);
        i = nl < 0 ? n : nl;
        break;
      }
      // The common case, a plain word (not one that may start a redirection: digits, `{`).
      if (c < 128 && PLAIN_START[c] === 1 && !(c >= 48 && c <= 57) && c !== LB) {
        PLAIN_RUN.lastIndex = i;
        PLAIN_RUN.test(s);
        const end = PLAIN_RUN.lastIndex;
        const d = s.charCodeAt(end);
        if (end >= n || (d < 128 && META[d] === 1 && d !== LP)) {
          const w = s.slice(i, end);
          if (words.length === 0) {
            if (w.indexOf("=") > 0 && isNameStart(c)) {
              const a = this.assignment(w, i, end);
              if (a) {
                (assigns ??= []).push(a);
                this.noteName(a.name);
                i = this.i;
                continue;
              }
            }
            if (this.names.length > 0) this.noteCall(w);
            if (DECLARATION_BUILTINS.has(w)) {
              this.pay(PARSE_COST.declaration);
              declared = [undefined];
              plain = false;
            }
          } else if (declared !== null) {
            this.i = i;
            if (this.declarationOperand(words, declared, w, end)) {
              i = this.i;
              continue;
            }
          } else if (this.names.length > 0) this.noteOperand(words[0]!, w);
          words.push(w);
          if (declared !== null && words.length > 1) declared.push(undefined);
          i = end;
          continue;
        }
      }
      this.i = i;
      if ((c === LT || c === GT) && s.charCodeAt(i + 1) === LP) {
        words.push(this.readWord()!);
        plain = false;
        if (declared !== null) declared.push(undefined);
        i = this.i;
        continue;
      }
      // A redirection starts with <, >, &>, an fd number or {name}.
      if (c === LT || c === GT || c === AMP || c === LB || (c >= 48 && c <= 57)) {
        const redir = this.tryRedirect();
        if (redir) {
          (redirs ??= []).push(redir);
          i = this.i;
          continue;
        }
      }
      if (c < 128 && META[c] === 1) {
        if (c === LP && words.length === 1 && assigns === null) {
          // `name() compound`: a function definition.
          const name = literalText(words[0]!);
          this.i++;
          this.skipBlanks();
          if (s.charCodeAt(this.i) !== RP || name === null) this.fail('expected ")" in a function definition');
          this.i++;
          return this.parseFunctionBody(name);
        }
        break;
      }
      const w = this.readWord();
      if (w === null) break;
      if (typeof w !== "string") plain = false;
      if (words.length === 0 && isNameStart(c) && mayAssign(w)) {
        const after = this.i;
        const a = this.assignment(w, i, after);
        if (a) {
          (assigns ??= []).push(a);
          this.noteName(a.name);
          i = this.i;
          continue;
        }
        this.i = after;
      }
      if (words.length === 0) {
        if (this.names.length > 0) this.noteCall(literalText(w));
      } else if (declared !== null) {
        const after = this.i;
        this.i = i;
        if (this.declarationOperand(words, declared, w, after)) {
          i = this.i;
          continue;
        }
      } else if (this.names.length > 0) this.noteOperand(words[0]!, w);
      words.push(w);
      if (declared !== null && words.length > 1) declared.push(undefined);
      i = this.i;
    }
    this.i = i;
    if (words.length === 0 && assigns === null && redirs === null) this.fail(i < n ? `unexpected ${JSON.stringify(s[i])}` : "expected a command");
    this.pay(PARSE_COST.command + PARSE_COST.word * (words.length + (assigns?.length ?? 0) + (redirs?.length ?? 0)));
    return { k: "simple", assigns: assigns ?? NO_ASSIGNS, words, declared, redirs: redirs ?? NO_REDIRECTS, plain };
  }

  /**
   * The assignment the word `w` (read from `start` to `end`) is, leaving the position
   * after it, or null (position unspecified): from the word itself when it can be, else
   * read again (arrays, `NAME[i]=`).
   */
  private assignment(w: Word, start: number, end: number): Assign | null {
    const direct = assignmentFrom(w, this.s.charCodeAt(end));
    if (direct !== null) {
      this.pay(PARSE_COST.assignment);
      this.i = end;
      return direct;
    }
    this.i = start;
    return this.tryAssignment();
  }

  /**
   * `export A=$x`: an operand of a declaration builtin that reads as an assignment is one
   * (no field splitting). At this.i = the operand's start; true (and past it) when it was.
   */
  private declarationOperand(words: Word[], declared: (Assign | undefined)[], w: Word, end: number): boolean {
    const at = this.i;
    const a = this.assignment(w, at, end);
    if (a) {
      this.noteName(a.name);
      words.push({ parts: [{ k: "sq", v: this.s.slice(at, this.i) }] });
      declared.push(a);
      return true;
    }
    this.i = end;
    const t = literalText(w);
    if (t !== null && isName(t)) this.noteName(t);
    return false;
  }

  /** Names that `read`, `getopts`, `printf -v`, `mapfile`, `unset`, `let` and `export NAME` operands may assign. */
  private noteOperand(command: Word, operand: Word): void {
    const name = plainText(command);
    if (name === null) return;
    if (name === "read" || name === "getopts" || name === "printf" || name === "mapfile" || name === "readarray" || name === "unset" || name === "let" || name === "wait") {
      const t = literalText(operand);
      if (t === null) return;
      if (name === "let") this.noteArith(t);
      else if (isName(t)) this.noteName(t);
      if (name === "getopts") {
        this.noteName("OPTARG");
        this.noteName("OPTIND");
      }
      if (name === "read") this.noteName("REPLY");
      if (name === "mapfile" || name === "readarray") this.noteName("MAPFILE");
    }
  }

  /** `NAME=value`, `NAME+=value`, `NAME[i]=value`, `NAME=(a b c)`, or null (nothing consumed). */
  private tryAssignment(): Assign | null {
    const s = this.s;
    if (!isNameStart(s.charCodeAt(this.i))) return null;
    this.pay(PARSE_COST.assignment);
    NAME_RUN.lastIndex = this.i + 1;
    NAME_RUN.test(s);
    let j = NAME_RUN.lastIndex;
    const after = s.charCodeAt(j);
    if (after !== 61 /* = */ && after !== 43 /* + */ && after !== 91 /* [ */) return null;
    const name = s.slice(this.i, j);
    let index: string | null = null;
    if (s.charCodeAt(j) === 91 /* [ */) {
      const close = s.indexOf("]", j);
      if (close < 0) return null;
      index = s.slice(j + 1, close);
      j = close + 1;
    }
    let append = false;
    if (s.charCodeAt(j) === 43 /* + */ && s.charCodeAt(j + 1) === 61) {
      append = true;
      j++;
    }
    if (s.charCodeAt(j) !== 61 /* = */) return null;
    j++;
    this.i = j;
    if (s.charCodeAt(j) === LP) {
      this.i++;
      const array: Word[] = [];
      this.enter();
      for (;;) {
        this.skipSeparators();
        if (s.charCodeAt(this.i) === RP) {
          this.i++;
          break;
        }
        if (this.i >= s.length) this.fail("unterminated array");
        const w = this.readWord();
        if (!w) this.fail("unexpected character in an array");
        array.push(w);
      }
      this.leave();
      return { name, index, append, value: null, array };
    }
    const value = this.readWord() ?? "";
    return { name, index, append, value, array: null };
  }

  private tryRedirect(): Redirect | null {
    const s = this.s;
    let j = this.i;
    // An fd number or {varname} directly before the operator.
    while (s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === this.i && s.charCodeAt(j) === LB) {
      const close = s.indexOf("}", j);
      if (close > j && isName(s.slice(j + 1, close))) j = close + 1;
    }
    const c = s.charCodeAt(j);
    let op: string;
    if (c === LT) {
      if (s.startsWith("<<<", j)) op = "<<<";
      else if (s.startsWith("<<-", j)) op = "<<-";
      else if (s.startsWith("<<", j)) op = "<<";
      else if (s.startsWith("<&", j)) op = "<&";
      else if (s.startsWith("<>", j)) op = "<>";
      else op = "<";
    } else if (c === GT) {
      if (s.startsWith(">>", j)) op = ">>";
      else if (s.startsWith(">&", j)) op = ">&";
      else if (s.startsWith(">|", j)) op = ">|";
      else op = ">";
    } else if (c === AMP && j === this.i && s.charCodeAt(j + 1) === GT) {
      op = s.charCodeAt(j + 2) === GT ? "&>>" : "&>";
    } else return null;
    this.i = j + op.length;
    this.pay(PARSE_COST.redirect);
    this.skipBlanks();
    const at = this.i;
    const target = this.readWord();
    if (target === null) this.fail(`expected a word after ${op}`);
    const redirect: Redirect = { op, target };
    if (op === "<<" || op === "<<-") {
      const delimiter = literalText(target) ?? this.s.slice(at, this.i).replace(/["'\\]/g, "");
      this.pending.push({ delimiter, stripTabs: op === "<<-", redirect });
    }
    return redirect;
  }

  private parseRedirects(): Redirect[] {
    const out: Redirect[] = [];
    for (;;) {
      this.skipBlanks();
      const r = this.tryRedirect();
      if (!r) return out;
      out.push(r);
    }
  }

  // -- words

  /** One word at the current position, or null when a metacharacter (or the end) is there. */
  private readWord(): Word | null {
    const s = this.s;
    const start = this.i;
    // Most words are plain text: one native scan finds their end.
    PLAIN_RUN.lastIndex = start;
    PLAIN_RUN.test(s);
    const end = PLAIN_RUN.lastIndex;
    const c = s.charCodeAt(end);
    if (end >= s.length || (isMeta(c) && !(c === LP && end > start && isExtglobLead(s.charCodeAt(end - 1))) && !((c === LT || c === GT) && end === start && s.charCodeAt(end + 1) === LP))) {
      this.i = end;
      return end === start ? null : s.slice(start, end);
    }
    const parts: WordPart[] = [];
    let lit = start;
    this.pay(PARSE_COST.wordPart);
    // The plain text before the first special character is scanned already.
    this.i = end;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === LP && this.i > start && isExtglobLead(s.charCodeAt(this.i - 1))) {
        // bash extglob `@(a|b)`: read to the balancing parenthesis, as pattern text.
        const end = this.balancedParen(this.i + 1);
        this.i = end;
        continue;
      }
      if ((c === LT || c === GT) && this.i === start && s.charCodeAt(this.i + 1) === LP) {
        this.i += 2;
        this.enter();
        const body = this.parseList();
        this.leave();
        this.skipSeparators();
        if (s.charCodeAt(this.i) !== RP) this.fail('expected ")" closing a process substitution');
        this.i++;
        parts.push({ k: "procsub", body });
        lit = this.i;
        continue;
      }
      if (isMeta(c)) break;
      if (c === SQ) {
        pushText(parts, "lit", s, lit, this.i);
        const close = s.indexOf("'", this.i + 1);
        if (close < 0) this.fail("unterminated single quote");
        parts.push({ k: "sq", v: s.slice(this.i + 1, close) });
        this.i = close + 1;
        lit = this.i;
      } else if (c === DQ) {
        pushText(parts, "lit", s, lit, this.i);
        this.i++;
        parts.push({ k: "dq", parts: this.readDoubleQuoted() });
        lit = this.i;
      } else if (c === BS) {
        pushText(parts, "lit", s, lit, this.i);
        if (s.charCodeAt(this.i + 1) === NL) this.i += 2;
        else {
          if (this.i + 1 < s.length) parts.push({ k: "sq", v: s[this.i + 1]! });
          this.i += 2;
        }
        lit = this.i;
      } else if (c === DOLLAR) {
        pushText(parts, "lit", s, lit, this.i);
        this.readDollar(parts, false);
        lit = this.i;
      } else if (c === BQ) {
        pushText(parts, "lit", s, lit, this.i);
        parts.push(this.readBackquote());
        lit = this.i;
      } else {
        // A run of ordinary characters at once (native, see PLAIN_RUN).
        PLAIN_RUN.lastIndex = this.i + 1;
        PLAIN_RUN.test(s);
        this.i = PLAIN_RUN.lastIndex;
      }
    }
    pushText(parts, "lit", s, lit, this.i);
    if (this.i === start) return null;
    return { parts };
  }

  private balancedParen(from: number): number {
    const s = this.s;
    let depth = 1;
    let j = from;
    while (j < s.length && depth > 0) {
      const c = s.charCodeAt(j);
      if (c === BS) j++;
      else if (c === LP) depth++;
      else if (c === RP) depth--;
      else if (c === SQ) {
        const close = s.indexOf("'", j + 1);
        if (close < 0) this.fail("unterminated single quote");
        j = close;
      }
      j++;
    }
    if (depth > 0) this.fail("unbalanced parenthesis");
    return j;
  }

  /** The parts of `"…"` after its opening quote; leaves the position after the closing quote. */
  /** Inside double quotes every literal is quoted text (no globbing, no splitting). */
  private readDoubleQuoted(): WordPart[] {
    const s = this.s;
    const parts: WordPart[] = [];
    let lit = this.i;
    this.enter();
    for (;;) {
      if (this.i >= s.length) this.fail("unterminated double quote");
      const c = s.charCodeAt(this.i);
      if (c === DQ) {
        pushText(parts, "sq", s, lit, this.i);
        this.i++;
        break;
      }
      if (c === BS) {
        const d = s.charCodeAt(this.i + 1);
        if (d === DOLLAR || d === BQ || d === DQ || d === BS || d === NL) {
          pushText(parts, "sq", s, lit, this.i);
          if (d !== NL) parts.push({ k: "sq", v: s[this.i + 1]! });
          this.i += 2;
          lit = this.i;
        } else this.i += 2;
      } else if (c === DOLLAR) {
        pushText(parts, "sq", s, lit, this.i);
        this.readDollar(parts, true);
        lit = this.i;
      } else if (c === BQ) {
        pushText(parts, "sq", s, lit, this.i);
        parts.push(this.readBackquote());
        lit = this.i;
      } else {
        // A run of ordinary characters at once (native, see PLAIN_RUN).
        DQ_RUN.lastIndex = this.i + 1;
        DQ_RUN.test(s);
        this.i = DQ_RUN.lastIndex;
      }
    }
    this.leave();
    return parts;
  }

  /** `$…` at the current position: appends its part(s). */
  private readDollar(parts: WordPart[], quoted: boolean): void {
    const s = this.s;
    this.pay(PARSE_COST.wordPart);
    const c = s.charCodeAt(this.i + 1);
    if (c === SQ && !quoted) {
      parts.push({ k: "sq", v: this.readAnsiC() });
      return;
    }
    if (c === DQ && !quoted) {
      this.i += 2;
      parts.push({ k: "dq", parts: this.readDoubleQuoted() });
      return;
    }
    if (c === LP) {
      if (s.charCodeAt(this.i + 2) === LP) {
        const end = this.findArithEnd(this.i + 3);
        if (end >= 0) {
          const text = s.slice(this.i + 3, end);
          this.noteArith(text);
          parts.push({ k: "arith", text });
          this.i = end + 2;
          return;
        }
      }
      const close = s.indexOf(")", this.i + 2);
      if (close > 0 && this.options.unknownSplice?.(s.slice(this.i + 2, close)) === true) {
        parts.push({ k: "unknown", name: s.slice(this.i + 2, close) });
        this.i = close + 1;
        return;
      }
      this.i += 2;
      this.enter();
      const body = this.parseList();
      this.leave();
      this.skipSeparators();
      if (s.charCodeAt(this.i) !== RP) this.fail('expected ")" closing $(');
      this.i++;
      parts.push({ k: "cmdsub", body });
      return;
    }
    if (c === 91 /* [ */) {
      const close = s.indexOf("]", this.i + 2);
      if (close < 0) this.fail("unterminated $[");
      parts.push({ k: "arith", text: s.slice(this.i + 2, close) });
      this.i = close + 1;
      return;
    }
    if (c === LB) {
      this.i += 2;
      this.enter();
      parts.push(this.readBraceParam());
      this.leave();
      return;
    }
    if (isNameStart(c)) {
      let j = this.i + 2;
      while (isNameChar(s.charCodeAt(j))) j++;
      parts.push({ k: "param", name: s.slice(this.i + 1, j), op: "", arg: null, repl: null, index: null });
      this.i = j;
      return;
    }
    if ((c >= 48 && c <= 57) || c === 64 /* @ */ || c === 42 /* * */ || c === HASH || c === 63 /* ? */ || c === 45 /* - */ || c === DOLLAR || c === 33 /* ! */) {
      parts.push({ k: "param", name: s[this.i + 1]!, op: "", arg: null, repl: null, index: null });
      this.i += 2;
      return;
    }
    // A lone `$` is literal.
    parts.push({ k: quoted ? "sq" : "lit", v: "$" });
    this.i++;
  }

  /** `${…}` after `${`; leaves the position after the closing brace. */
  private readBraceParam(): WordPart {
    const s = this.s;
    let op: ParamOp = "";
    // ${#NAME}: length (but ${#} is the number of arguments, ${#-…} an operator on $#).
    if (s.charCodeAt(this.i) === HASH && s.charCodeAt(this.i + 1) !== RB && !isOperatorStart(s.charCodeAt(this.i + 1))) {
      this.i++;
      op = "length";
    } else if (s.charCodeAt(this.i) === 33 /* ! */ && s.charCodeAt(this.i + 1) !== RB) {
      // ${!NAME}, ${!prefix*}, ${!A[@]}: indirection, never computed.
      const end = this.skipBraceBody();
      return { k: "param", name: s.slice(this.i, end), op: "other", arg: null, repl: null, index: null };
    }
    let name: string;
    const c = s.charCodeAt(this.i);
    if (isNameStart(c)) {
      let j = this.i + 1;
      while (isNameChar(s.charCodeAt(j))) j++;
      name = s.slice(this.i, j);
      this.i = j;
    } else if (c >= 48 && c <= 57) {
      let j = this.i + 1;
      while (s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
      name = s.slice(this.i, j);
      this.i = j;
    } else if (c === 64 || c === 42 || c === HASH || c === 63 || c === 45 || c === DOLLAR || c === 33) {
      name = s[this.i]!;
      this.i++;
    } else this.fail("bad parameter name in ${…}");
    let index: string | null = null;
    if (s.charCodeAt(this.i) === 91 /* [ */) {
      const close = s.indexOf("]", this.i);
      if (close < 0) this.fail("unterminated [ in ${…}");
      index = s.slice(this.i + 1, close);
      this.i = close + 1;
    }
    if (op === "length") {
      if (s.charCodeAt(this.i) !== RB) this.fail('expected "}"');
      this.i++;
      return { k: "param", name, op, arg: null, repl: null, index };
    }
    const d = s.charCodeAt(this.i);
    if (d === RB) {
      this.i++;
      return { k: "param", name, op: "", arg: null, repl: null, index };
    }
    const two = s.slice(this.i, this.i + 2);
    let arg: Word | null = null;
    let repl: Word | null = null;
    if (two === ":-" || two === ":=" || two === ":+" || two === ":?") {
      op = two;
      this.i += 2;
      arg = this.readBraceWord(false);
    } else if (d === 45 || d === 61 || d === 43 || d === 63) {
      op = s[this.i] as ParamOp;
      this.i++;
      arg = this.readBraceWord(false);
    } else if (d === HASH || d === 37 /* % */) {
      const ch = s[this.i]!;
      op = (s.charCodeAt(this.i + 1) === d ? ch + ch : ch) as ParamOp;
      this.i += op.length;
      arg = this.readBraceWord(false);
    } else if (d === 47 /* / */) {
      const next = s.charCodeAt(this.i + 1);
      op = next === 47 ? "//" : next === HASH ? "/#" : next === 37 ? "/%" : "/";
      this.i += op.length;
      arg = this.readBraceWord(true);
      if (s.charCodeAt(this.i) === 47) {
        this.i++;
        repl = this.readBraceWord(false);
      }
    } else if (d === 94 /* ^ */ || d === 44 /* , */) {
      const ch = s[this.i]!;
      op = (s.charCodeAt(this.i + 1) === d ? ch + ch : ch) as ParamOp;
      this.i += op.length;
      arg = this.readBraceWord(false);
    } else {
      // ${NAME:offset:length}, ${NAME@Q}, …: read, not computed.
      op = "other";
      this.skipBraceBody();
      return { k: "param", name, op, arg: null, repl: null, index };
    }
    if (s.charCodeAt(this.i) !== RB) this.fail('expected "}"');
    this.i++;
    return { k: "param", name, op, arg, repl, index };
  }

  /** Skip to the `}` closing the current `${`, respecting nesting and quotes; returns the index of the `}` and leaves the position after it. */
  private skipBraceBody(): number {
    const s = this.s;
    let depth = 0;
    for (let j = this.i; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === BS) j++;
      else if (c === SQ) {
        const close = s.indexOf("'", j + 1);
        if (close < 0) break;
        j = close;
      } else if (c === LB) depth++;
      else if (c === RB) {
        if (depth === 0) {
          this.i = j + 1;
          return j;
        }
        depth--;
      }
    }
    this.fail("unterminated ${");
  }

  /** The word inside `${NAME<op>…}`, up to the closing `}` (or `/` when `slash`); blanks are part of it. */
  private readBraceWord(slash: boolean): Word {
    const s = this.s;
    const start = this.i;
    const parts: WordPart[] = [];
    let lit = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail("unterminated ${");
      const c = s.charCodeAt(this.i);
      if (c === RB || (slash && c === 47)) break;
      if (c === SQ) {
        pushText(parts, "lit", s, lit, this.i);
        const close = s.indexOf("'", this.i + 1);
        if (close < 0) this.fail("unterminated single quote");
        parts.push({ k: "sq", v: s.slice(this.i + 1, close) });
        this.i = close + 1;
        lit = this.i;
      } else if (c === DQ) {
        pushText(parts, "lit", s, lit, this.i);
        this.i++;
        parts.push({ k: "dq", parts: this.readDoubleQuoted() });
        lit = this.i;
      } else if (c === BS) {
        pushText(parts, "lit", s, lit, this.i);
        if (s.charCodeAt(this.i + 1) !== NL) parts.push({ k: "sq", v: s[this.i + 1] ?? "" });
        this.i += 2;
        lit = this.i;
      } else if (c === DOLLAR) {
        pushText(parts, "lit", s, lit, this.i);
        this.readDollar(parts, false);
        lit = this.i;
      } else if (c === BQ) {
        pushText(parts, "lit", s, lit, this.i);
        parts.push(this.readBackquote());
        lit = this.i;
      } else {
        // A run of ordinary characters at once (native, see PLAIN_RUN).
        BRACE_RUN.lastIndex = this.i + 1;
        BRACE_RUN.test(s);
        this.i = BRACE_RUN.lastIndex;
      }
    }
    pushText(parts, "lit", s, lit, this.i);
    return { parts };
  }

  /** `$'…'`: the ANSI-C escapes decoded. */
  private readAnsiC(): string {
    const s = this.s;
    let j = this.i + 2;
    let out = "";
    for (;;) {
      if (j >= s.length) this.fail("unterminated $'");
      const c = s.charCodeAt(j);
      if (c === SQ) break;
      if (c !== BS) {
        const next = s.indexOf("'", j);
        const bs = s.indexOf("\\", j);
        const end = next < 0 ? s.length : bs >= 0 && bs < next ? bs : next;
        out += s.slice(j, end);
        j = end;
        continue;
      }
      const e = s[j + 1] ?? "";
      j += 2;
      switch (e) {
        case "n": out += "\n"; break;
        case "t": out += "\t"; break;
        case "r": out += "\r"; break;
        case "a": out += "\x07"; break;
        case "b": out += "\b"; break;
        case "e": case "E": out += "\x1b"; break;
        case "f": out += "\f"; break;
        case "v": out += "\v"; break;
        case "\\": case "'": case '"': case "?": out += e; break;
        case "c": {
          const ctl = s.charCodeAt(j);
          j++;
          out += String.fromCharCode(ctl & 0x1f);
          break;
        }
        case "x": case "u": case "U": {
          const max = e === "x" ? 2 : e === "u" ? 4 : 8;
          let k = 0;
          let v = 0;
          while (k < max && isHex(s.charCodeAt(j + k))) {
            v = v * 16 + parseInt(s[j + k]!, 16);
            k++;
          }
          if (k === 0) out += `\\${e}`;
          else out += v <= 0x10ffff ? String.fromCodePoint(v) : "\ufffd";
          j += k;
          break;
        }
        default:
          if (e >= "0" && e <= "7") {
            // Up to three octal digits, the first being `e`.
            let k = 0;
            let v = 0;
            while (k < 3 && s.charCodeAt(j - 1 + k) >= 48 && s.charCodeAt(j - 1 + k) <= 55) {
              v = v * 8 + (s.charCodeAt(j - 1 + k) - 48);
              k++;
            }
            out += String.fromCharCode(v & 0xff);
            j += k - 1;
          } else out += `\\${e}`;
      }
    }
    this.i = j + 1;
    return out;
  }

  /** A backquoted command substitution: its text unescaped (`\$`, `` \` ``, `\\`), then parsed. */
  private readBackquote(): WordPart {
    const s = this.s;
    let j = this.i + 1;
    let text = "";
    for (;;) {
      // Up to the next backquote or backslash at once.
      const bq = s.indexOf("`", j);
      if (bq < 0) this.fail("unterminated backquote");
      const bs = s.indexOf("\\", j);
      if (bs < 0 || bs > bq) {
        text += s.slice(j, bq);
        j = bq;
        break;
      }
      text += s.slice(j, bs);
      const e = s.charCodeAt(bs + 1);
      text += e === BQ || e === BS || e === DOLLAR ? s[bs + 1] : s.slice(bs, bs + 2);
      j = bs + 2;
    }
    this.i = j + 1;
    this.enter();
    const inner = new Parser(text, this.options);
    inner.depth = this.depth;
    const body = inner.parseProgram();
    this.leave();
    return { k: "cmdsub", body };
  }
}

/**
 * `NAME=value` / `NAME+=value` read from a word already parsed (no second parse of its
 * value), or null for the forms tryAssignment reads itself: `NAME[i]=`, `NAME=(…)`
 * (`next`, the character after the word, is `(`), or a word that is no assignment.
 */
function assignmentFrom(w: Word, next: number): Assign | null {
  if (next === LP) return null;
  const first = typeof w === "string" ? w : w.parts[0]?.k === "lit" ? w.parts[0].v : null;
  if (first === null) return null;
  const eq = first.indexOf("=");
  if (eq <= 0) return null;
  const append = first.charCodeAt(eq - 1) === 43 /* + */;
  const name = first.slice(0, append ? eq - 1 : eq);
  if (!isName(name)) return null;
  const rest = first.slice(eq + 1);
  let value: Word;
  if (typeof w === "string") value = rest;
  else {
    const parts = w.parts.slice(1);
    if (rest.length > 0) parts.unshift({ k: "lit", v: rest });
    value = parts.length === 0 ? "" : parts.length === 1 && parts[0]!.k === "lit" ? parts[0]!.v : { parts };
  }
  return { name, index: null, append, value, array: null };
}

/** A word that may start `NAME=`, `NAME+=` or `NAME[i]=` (its first literal text holds `=`). */
function mayAssign(w: Word): boolean {
  if (typeof w === "string") return w.indexOf("=") > 0;
  const first = w.parts[0];
  return first !== undefined && first.k === "lit" && first.v.indexOf("=") > 0;
}

/** Names an arithmetic text may assign (`i++`, `x = 1`, `n += 2`): every name in it, when it assigns at all. */
export function arithAssigned(text: string): string[] {
  const out: string[] = [];
  if (text.indexOf("=") < 0 && text.indexOf("++") < 0 && text.indexOf("--") < 0) return out;
  let j = 0;
  while (j < text.length) {
    if (isNameStart(text.charCodeAt(j))) {
      let e = j + 1;
      while (e < text.length && isNameChar(text.charCodeAt(e))) e++;
      out.push(text.slice(j, e));
      j = e;
    } else j++;
  }
  return out;
}

/** Append the text between `from` and `to` as a part of the given kind, if any. */
function pushText(parts: WordPart[], k: "lit" | "sq", s: string, from: number, to: number): void {
  if (to > from) parts.push({ k, v: s.slice(from, to) });
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}
function isExtglobLead(c: number): boolean {
  return c === 64 /* @ */ || c === 33 /* ! */ || c === 43 /* + */ || c === 42 /* * */ || c === 63 /* ? */;
}
function isOperatorStart(c: number): boolean {
  return c === 58 /* : */ || c === 45 || c === 61 || c === 43 || c === 63 || c === 37 || c === 47;
}
