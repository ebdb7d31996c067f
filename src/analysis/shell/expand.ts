/**
 * Word expansion: a word of the syntax tree → fields, against an environment, as
 * POSIX sh (and bash) expand it: parameter expansion with its operators (`${V:-…}`,
 * `${V:=…}`, `${V#…}`, `${V%%…}`, `${V/…/…}`, `${#V}`, case conversion), `$@` and
 * `$*`, arrays, field splitting on IFS of the unquoted parts, quote removal.
 * Pathname expansion is not done: a glob that matches no file stays as written,
 * which is what a listen address such as `*:8080` is.
 *
 * What the manifest cannot tell — a variable from valueFrom, a command's output,
 * arithmetic — is an Unknown, spelled `${NAME}` or `$(…)` so that whatever reads
 * the words downstream (host classification) reads it as unknown, never as loopback.
 * Every character and field produced is paid from the caller's work budget.
 */
import { wordParts, type Word, type WordPart } from "./syntax.js";

/** A value the manifest does not show; `u` is how it is spelled in the words (always with `${` or `$(`). */
export interface Unknown {
  readonly u: string;
}
export type Scalar = string | Unknown;
/** A shell value: a string, an unknown, or a list (bash arrays, the positional parameters). */
export type Value = Scalar | readonly Scalar[];

export function isUnknown(v: unknown): v is Unknown {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as Unknown).u === "string";
}
export function unknown(spelled: string): Unknown {
  return { u: spelled };
}
/** How a scalar reads in words. */
export function spell(v: Scalar): string {
  return typeof v === "string" ? v : v.u;
}
export function sameScalar(a: Scalar, b: Scalar): boolean {
  return typeof a === "string" && typeof b === "string" && a === b;
}
export function sameValue(a: Value | null, b: Value | null): boolean {
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameScalar(a[i]!, b[i]!)) return false;
    return true;
  }
  return sameScalar(a as Scalar, b as Scalar);
}

/** The environment of an expansion. */
export interface ExpandScope {
  /** A variable: its value, null when unset, an Unknown when the manifest cannot tell. */
  get(name: string): Value | null;
  /** `${V:=word}` assigns. */
  set(name: string, value: Scalar): void;
  /** `$0`. */
  arg0(): Scalar;
  /** `$1 …`; an Unknown when their number is unknown. */
  positional(): readonly Scalar[] | Unknown;
  /** Runs a command substitution's commands (they are processes too); its output is unknown. */
  substitute(part: Extract<WordPart, { k: "cmdsub" | "procsub" }>): void;
  /** Pay for work; throws when the budget is spent. */
  charge(units: number): void;
}


const DEFAULT_IFS = " \t\n";
const BLANKS = /[ \t\n]+/;

/** What expansion costs, in work units of about 1,000 wasm instructions (see syntax.ts PARSE_COST). */
export const EXPAND_COST = { word: 30, field: 5, value: 3, charactersPerUnit: 32, splitCharacter: 2, patternStep: 2, transform: 90 } as const;

function ifsOf(scope: ExpandScope): string | Unknown {
  const v = scope.get("IFS");
  if (v === null) return DEFAULT_IFS;
  if (Array.isArray(v)) return typeof v[0] === "string" ? v[0] : unknown("${IFS}");
  return v as Scalar;
}

/** Expansion into fields: field splitting of unquoted expansions, `"$@"` as separate fields. */
export function expandFields(word: Word, scope: ExpandScope): Scalar[] {
  // Plain text (most words): one field, as written (no pathname expansion).
  if (typeof word === "string") return [word];
  scope.charge(EXPAND_COST.word);
  const b = new Builder(scope, true);
  b.parts(word.parts, false);
  return b.finish();
}

/** Expansion into one string: no field splitting, `$@` joined by spaces (assignments, case subjects, `[[ ]]`). */
export function expandString(word: Word, scope: ExpandScope): Scalar {
  if (typeof word === "string") return word;
  scope.charge(EXPAND_COST.word);
  const b = new Builder(scope, false);
  b.parts(word.parts, false);
  const fields = b.finish();
  if (fields.length === 0) return "";
  return fields.length === 1 ? fields[0]! : joinScalars(fields, " ");
}

export function joinScalars(list: readonly Scalar[], sep: string): Scalar {
  let text = "";
  let known = true;
  for (let i = 0; i < list.length; i++) {
    if (i > 0) text += sep;
    const v = list[i]!;
    if (typeof v === "string") text += v;
    else {
      text += v.u;
      known = false;
    }
  }
  return known ? text : unknown(text);
}

class Builder {
  private fields: Scalar[] = [];
  // The field being built (flat, not an object: one per word is allocated otherwise).
  private curText = "";
  private curKnown = true;
  /** Quoted or non-empty content: the field survives even if empty. */
  private curReal = false;
  private ifsValue: string | Unknown | null = null;

  constructor(
    private readonly scope: ExpandScope,
    private readonly split: boolean,
  ) {}

  /** IFS, read when a split needs it. */
  private get ifs(): string | Unknown {
    return (this.ifsValue ??= this.split ? ifsOf(this.scope) : DEFAULT_IFS);
  }

  finish(): Scalar[] {
    if (this.curReal || this.curText.length > 0) this.push();
    return this.fields;
  }

  private push(): void {
    const text = this.curText;
    this.scope.charge(EXPAND_COST.field + ((text.length / EXPAND_COST.charactersPerUnit) | 0));
    this.fields.push(this.curKnown ? text : unknown(text));
    this.curText = "";
    this.curKnown = true;
    this.curReal = false;
  }

  /** Literal text (quoted or not: quotes only matter for splitting, which literals never undergo). */
  private text(t: string, quoted: boolean): void {
    this.curText += t;
    if (quoted || t.length > 0) this.curReal = true;
  }

  /** The result of an expansion: split on IFS when unquoted and splitting. */
  private value(v: Scalar, quoted: boolean): void {
    this.scope.charge(EXPAND_COST.value + (((typeof v === "string" ? v.length : v.u.length) / EXPAND_COST.charactersPerUnit) | 0));
    if (typeof v !== "string") {
      this.curText += v.u;
      this.curKnown = false;
      this.curReal = true;
      return;
    }
    if (quoted || !this.split) {
      this.text(v, quoted);
      return;
    }
    const ifs = this.ifs;
    if (typeof ifs !== "string") {
      // IFS unknown: where it splits is unknown.
      this.curText += v;
      this.curKnown = false;
      this.curReal = true;
      return;
    }
    if (ifs.length === 0) {
      this.text(v, false);
      return;
    }
    if (ifs === DEFAULT_IFS) {
      // Blanks and newlines: one native split (a single character class, no backtracking).
      const fields = v.split(BLANKS);
      for (let f = 0; f < fields.length; f++) {
        if (f > 0 && this.curReal) this.push();
        if (fields[f]!.length > 0) {
          this.curText += fields[f]!;
          this.curReal = true;
        }
      }
      return;
    }
    // Another IFS: character by character (and paid so).
    this.scope.charge(v.length * EXPAND_COST.splitCharacter);
    for (let i = 0; i < v.length; i++) {
      const c = v[i]!;
      if (ifs.indexOf(c) < 0) {
        // A run of characters that are not separators, appended at once.
        let j = i + 1;
        while (j < v.length && ifs.indexOf(v[j]!) < 0) j++;
        this.curText += v.slice(i, j);
        this.curReal = true;
        i = j - 1;
        continue;
      }
      const white = c === " " || c === "\t" || c === "\n";
      if (white) {
        if (this.curReal) this.push();
      } else {
        this.curReal = true;
        this.push();
      }
    }
  }

  /** A list of values from `$@`, `${A[@]}`: each its own field when quoted (or split further when not). */
  private list(items: readonly Scalar[], quoted: boolean): void {
    for (let i = 0; i < items.length; i++) {
      if (i > 0) {
        if (quoted || !this.split) {
          if (this.split) {
            this.curReal = true;
            this.push();
          } else this.text(" ", true);
        } else if (this.curReal) this.push();
      }
      this.value(items[i]!, quoted);
      if (quoted) this.curReal = true;
    }
  }

  parts(parts: readonly WordPart[], quoted: boolean): void {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      switch (p.k) {
        case "lit":
          this.text(p.v, quoted);
          break;
        case "sq":
          this.text(p.v, true);
          break;
        case "dq":
          // `"$@"` with no arguments is no field at all; any other quotes make one, even empty.
          if (!(p.parts.length === 1 && isWholeList(p.parts[0]!))) this.curReal = true;
          this.parts(p.parts, true);
          break;
        case "param":
          this.param(p, quoted);
          break;
        case "cmdsub":
          this.scope.substitute(p);
          this.value(unknown("$(…)"), quoted);
          break;
        case "procsub":
          this.scope.substitute(p);
          this.value(unknown("$(…)"), quoted);
          break;
        case "arith":
          this.value(unknown("$((…))"), quoted);
          break;
        case "unknown":
          this.value(unknown(`$(${p.name})`), quoted);
          break;
      }
    }
  }

  private param(p: Extract<WordPart, { k: "param" }>, quoted: boolean): void {
    const name = p.name;
    const scope = this.scope;
    // Lists: $@, $*, ${A[@]}, ${A[*]}.
    const index = p.index;
    const whole = name === "@" || name === "*" || index === "@" || index === "*";
    if (whole && (p.op === "" || p.op === "length")) {
      const items = name === "@" || name === "*" ? scope.positional() : listOf(scope.get(name));
      if (p.op === "length") {
        this.value(isUnknown(items) ? unknown(`\${#${name}}`) : String(items.length), quoted);
        return;
      }
      if (isUnknown(items)) {
        this.value(items, quoted);
        return;
      }
      const star = name === "*" || index === "*";
      if (quoted && star) this.value(joinScalars(items, firstChar(this.ifs)), true);
      else this.list(items, quoted);
      return;
    }
    if (whole) {
      this.value(unknown(`\${${name}}`), quoted);
      return;
    }
    let current: Value | null;
    if (name === "0") current = scope.arg0();
    else if (name === "#") {
      const pos = scope.positional();
      current = isUnknown(pos) ? unknown("${#}") : String(pos.length);
    } else if (isDigits(name)) {
      const pos = scope.positional();
      const n = Number(name);
      current = isUnknown(pos) ? unknown(`\${${name}}`) : n >= 1 && n <= pos.length ? pos[n - 1]! : null;
    } else if (name === "?" || name === "$" || name === "!" || name === "-") current = unknown(`\${${name}}`);
    else current = scope.get(name);
    // An element of an array, or the first one for `$A`.
    let v: Scalar | null;
    if (current !== null && Array.isArray(current)) {
      const k = index === null ? 0 : isDigits(index) ? Number(index) : -1;
      v = k < 0 ? unknown(`\${${name}[${index}]}`) : (current[k] ?? null);
    } else v = current as Scalar | null;
    if (index !== null && !Array.isArray(current) && !isDigits(index)) v = unknown(`\${${name}[${index}]}`);
    else if (index !== null && current !== null && !Array.isArray(current) && index !== "0") v = null;

    const op = p.op;
    const spelled = `\${${name}}`;
    switch (op) {
      case "":
        if (v !== null) this.value(v, quoted);
        return;
      case "length":
        this.value(v === null ? "0" : typeof v === "string" ? String(v.length) : unknown(`\${#${name}}`), quoted);
        return;
      case "-":
      case ":-":
      case "=":
      case ":=": {
        if (v !== null && typeof v !== "string") {
          this.value(v, quoted);
          return;
        }
        const useWord = v === null || (op.length === 2 && v === "");
        if (!useWord) {
          this.value(v!, quoted);
          return;
        }
        if (op === "=" || op === ":=") {
          const assigned = expandString(p.arg!, scope);
          if (/^[A-Za-z_]/.test(name)) scope.set(name, assigned);
          this.value(assigned, quoted);
          return;
        }
        this.parts(wordParts(p.arg!), quoted);
        return;
      }
      case "+":
      case ":+": {
        if (v !== null && typeof v !== "string") {
          this.value(unknown(spelled), quoted);
          return;
        }
        const alt = v !== null && (op === "+" || v !== "");
        if (alt) this.parts(wordParts(p.arg!), quoted);
        return;
      }
      case "?":
      case ":?":
        // Unset (or empty): the shell stops with an error; that path runs nothing more.
        if (v !== null) this.value(v, quoted);
        return;
      default: {
        if (v === null) v = "";
        if (typeof v !== "string") {
          this.value(unknown(spelled), quoted);
          return;
        }
        this.value(transform(v, op, p.arg, p.repl, scope) ?? unknown(spelled), quoted);
      }
    }
  }
}

function isWholeList(p: WordPart): boolean {
  return p.k === "param" && p.op === "" && (p.name === "@" || p.index === "@");
}

function firstChar(ifs: string | Unknown): string {
  return typeof ifs === "string" ? ifs.slice(0, 1) : " ";
}
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
function listOf(v: Value | null): readonly Scalar[] | Unknown {
  if (v === null) return [];
  if (Array.isArray(v)) return v;
  return [v as Scalar];
}

// ---- patterns ------------------------------------------------------------------------------

/** A glob pattern: `*`, `?`, `[…]` where unquoted; quoted characters match themselves. */
export type PatternItem = { k: "char"; c: string } | { k: "any" } | { k: "star" } | { k: "class"; negate: boolean; ranges: string };

/** Longest pattern and subject the matcher works on; beyond, the match is undecided. */
const MAX_PATTERN_ITEMS = 256;
const MAX_SUBJECT = 4096;
/** Steps one match may take (a `*` backtracks at most subject × pattern); beyond, undecided. */
const MAX_MATCH_STEPS = 4096;

/** A word as a pattern, or null when part of it is unknown. */
export function expandPattern(word: Word | null, scope: ExpandScope): PatternItem[] | null {
  const out: PatternItem[] = [];
  if (word === null) return out;
  if (typeof word === "string") return globItems(word, out) && out.length <= MAX_PATTERN_ITEMS ? out : null;
  const add = (text: string, quoted: boolean): boolean => {
    scope.charge(text.length * EXPAND_COST.patternStep);
    if (quoted) {
      for (let i = 0; i < text.length; i++) out.push({ k: "char", c: text[i]! });
      return true;
    }
    return globItems(text, out);
  };
  const walk = (parts: readonly WordPart[], quoted: boolean): boolean => {
    for (const p of parts) {
      if (p.k === "lit") {
        if (!add(p.v, quoted)) return false;
      } else if (p.k === "sq") {
        if (!add(p.v, true)) return false;
      } else if (p.k === "dq") {
        if (!walk(p.parts, true)) return false;
      } else {
        const v = expandString({ parts: [p] }, scope);
        if (typeof v !== "string") return false;
        if (!add(v, quoted)) return false;
      }
    }
    return true;
  };
  if (!walk(wordParts(word), false)) return null;
  return out.length > MAX_PATTERN_ITEMS ? null : out;
}

function globItems(text: string, out: PatternItem[]): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "*") out.push({ k: "star" });
    else if (c === "?") out.push({ k: "any" });
    else if (c === "[") {
      const close = text.indexOf("]", i + 2);
      if (close < 0) {
        out.push({ k: "char", c });
        continue;
      }
      let body = text.slice(i + 1, close);
      const negate = body[0] === "!" || body[0] === "^";
      if (negate) body = body.slice(1);
      if (body.indexOf("[:") >= 0) return false; // character classes: not worth modelling
      out.push({ k: "class", negate, ranges: body });
      i = close;
    } else if (c === "\\" && i + 1 < text.length) {
      out.push({ k: "char", c: text[++i]! });
    } else if ((c === "@" || c === "!" || c === "+") && text[i + 1] === "(") return false; // extglob
    else out.push({ k: "char", c });
  }
  return true;
}

function classMatches(item: Extract<PatternItem, { k: "class" }>, c: string): boolean {
  const r = item.ranges;
  let hit = false;
  for (let i = 0; i < r.length && !hit; i++) {
    if (r[i + 1] === "-" && i + 2 < r.length) {
      hit = c >= r[i]! && c <= r[i + 2]!;
      i += 2;
    } else hit = c === r[i];
  }
  return hit !== item.negate;
}

/**
 * Does the whole subject match? Wildcard matching with one backtrack point (the last
 * `*`): O(subject × pattern) at worst, no exponential backtracking. Null (undecided)
 * when either is too long.
 */
export function matchPattern(pattern: readonly PatternItem[], subject: string, scope?: ExpandScope): boolean | null {
  if (subject.length > MAX_SUBJECT) return null;
  scope?.charge((subject.length + pattern.length) * EXPAND_COST.patternStep);
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  let steps = 0;
  while (s < subject.length) {
    if (++steps > MAX_MATCH_STEPS) return null;
    const item = pattern[p];
    if (item !== undefined && item.k !== "star" && (item.k === "any" || (item.k === "char" ? item.c === subject[s] : classMatches(item, subject[s]!)))) {
      p++;
      s++;
    } else if (item !== undefined && item.k === "star") {
      starP = p++;
      starS = s;
    } else if (starP >= 0) {
      p = starP + 1;
      s = ++starS;
    } else return false;
  }
  while (pattern[p]?.k === "star") p++;
  return p === pattern.length;
}

/** `${V#p}`, `${V%%p}`, `${V/p/r}`, case conversion; null when the result cannot be told. */
function transform(v: string, op: string, arg: Word | null, repl: Word | null, scope: ExpandScope): Scalar | null {
  scope.charge(EXPAND_COST.transform);
  if (op === "^^" || op === ",," || op === "^" || op === ",") {
    if (arg !== null && wordParts(arg).length > 0) return null;
    if (op === "^^") return v.toUpperCase();
    if (op === ",,") return v.toLowerCase();
    if (v.length === 0) return v;
    return (op === "^" ? v[0]!.toUpperCase() : v[0]!.toLowerCase()) + v.slice(1);
  }
  const pattern = expandPattern(arg, scope);
  if (pattern === null || v.length > 1024) return null;
  // Each attempt is paid as it is made: up to MAX_MATCH_STEPS steps each.
  const test = (text: string) => {
    scope.charge((text.length + pattern.length) * EXPAND_COST.patternStep);
    return matchPattern(pattern, text);
  };
  switch (op) {
    case "#":
      for (let i = 0; i <= v.length; i++) {
        const m = test(v.slice(0, i));
        if (m === null) return null;
        if (m) return v.slice(i);
      }
      return v;
    case "##":
      for (let i = v.length; i >= 0; i--) {
        const m = test(v.slice(0, i));
        if (m === null) return null;
        if (m) return v.slice(i);
      }
      return v;
    case "%":
      for (let i = v.length; i >= 0; i--) {
        const m = test(v.slice(i));
        if (m === null) return null;
        if (m) return v.slice(0, i);
      }
      return v;
    case "%%":
      for (let i = 0; i <= v.length; i++) {
        const m = test(v.slice(i));
        if (m === null) return null;
        if (m) return v.slice(0, i);
      }
      return v;
    default: {
      // ${V/p/r}: only a pattern of plain characters (no wildcards) is replaced here.
      for (const item of pattern) if (item.k !== "char") return null;
      const needle = pattern.map((item) => (item as { c: string }).c).join("");
      const replacement = repl === null ? "" : expandString(repl, scope);
      if (typeof replacement !== "string") return null;
      if (needle.length === 0) return v;
      if (op === "/#") return v.startsWith(needle) ? replacement + v.slice(needle.length) : v;
      if (op === "/%") return v.endsWith(needle) ? v.slice(0, v.length - needle.length) + replacement : v;
      if (op === "//") return v.split(needle).join(replacement);
      const at = v.indexOf(needle);
      return at < 0 ? v : v.slice(0, at) + replacement + v.slice(at + needle.length);
    }
  }
}
