/**
 * A fast reader for the YAML most manifests are written in: block mappings
 * and sequences, plain scalars (folded over lines too), quoted scalars on one
 * line (single-quoted ones over several lines too), flow collections (nested,
 * over lines), literal block scalars, comments, and anchors on block
 * collections with their aliases, Helm template values in strings replaced as
 * read.ts' markTemplateValues does, CRLF line ends read as LF ones. It is the
 * yaml package's answer (Composer + toJS, YAML 1.1 as read.ts configures it),
 * computed about ten times faster, for exactly the documents it is sure
 * about; for anything else — tabs outside literal text, a lone CR, tags,
 * escapes, merge keys, folded block scalars, anything that could be an
 * error — it says so (`undefined`) and the caller parses the document with
 * the yaml package. Plain scalars are resolved by the yaml package's own
 * YAML 1.1 tags.
 *
 * Positions: only the lines classification needs (where the contents start,
 * where a List's items start); `locate` re-parses a document with the yaml
 * package when a report asks (read-parallel.ts).
 *
 * tests/unit/fast-yaml.test.ts requires the same values and lines as the yaml
 * package on the corpus, generated fleets and random documents.
 */
import { Document, isScalar } from "yaml";
import { jsonLocator, jsonStart, scanJson } from "./fast-json.js";
import { isTemplateValue, MAX_FLOW_NESTING, replaceTemplateActions, YAML_OPTIONS } from "./read.js";

/** What the fast reader found in one document's text. */
export interface FastDocument {
  /** toJS of the document; null for an empty one. */
  value: unknown;
  /** 0-based line in the text where the contents start (-1 when empty). */
  contentsLine: number;
  /** 0-based lines where the items of a top-level `items` block sequence start. */
  itemLines: number[] | null;
  /** A key starting with "$" somewhere (strategic-merge directives all do). */
  dollarKeys: boolean;
}

interface ScalarTag {
  default?: boolean | "key";
  test?: RegExp;
  resolve(value: string, onError: (message: string) => void, options: unknown): unknown;
}

const DOC = new Document(null, YAML_OPTIONS);
const TAGS = DOC.schema.tags as unknown as ScalarTag[];
const TAG_OPTIONS = DOC.options;

/** Thrown (one instance) to give up on a document: the yaml package reads it instead. */
const BAIL: unique symbol = Symbol("bail");
function bail(): never {
  throw BAIL;
}

const UNRESOLVABLE = Symbol("unresolvable");

/**
 * The tests of the default YAML 1.1 tags (yaml's schema as read.ts configures
 * it) this reader knows: none accepts a string whose first character is not
 * one of MAY_RESOLVE's. If the yaml package's tags ever differ, the shortcut
 * is off and every scalar goes through the tags, as before.
 */
const KNOWN_TAG_TESTS: ReadonlySet<string> = new Set([
  "^(?:~|[Nn]ull|NULL)?$",
  "^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$",
  "^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$",
  "^[-+]?0b[0-1_]+$",
  "^[-+]?0[0-7_]+$",
  "^[-+]?[0-9][0-9_]*$",
  "^[-+]?0x[0-9a-fA-F_]+$",
  "^(?:[-+]?\\.(?:inf|Inf|INF)|\\.nan|\\.NaN|\\.NAN)$",
  "^[-+]?(?:[0-9][0-9_]*)?(?:\\.[0-9_]*)?[eE][-+]?[0-9]+$",
  "^[-+]?(?:[0-9][0-9_]*)?\\.[0-9_]*$",
  "^<<$",
  "^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+$",
  "^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*$",
  "^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:t|T|[ \\t]+)([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2}(\\.[0-9]+)?)(?:[ \\t]*(Z|[-+][012]?[0-9](?::[0-9]{2})?))?)?$",
]);
/** ASCII characters a scalar matching one of KNOWN_TAG_TESTS can start with (1), by code. */
const MAY_RESOLVE = new Uint8Array(128);
for (const c of "~NnYyTtOoFfEe-+.0123456789<") MAY_RESOLVE[c.charCodeAt(0)] = 1;
export const FIRST_CHARACTER_DECIDES = TAGS.every((t) => t.test === undefined || !t.default || KNOWN_TAG_TESTS.has(t.test.source));

/** A plain scalar its first character shows to be a string (no default tag's test accepts it). */
function plainIsString(source: string): boolean {
  if (!FIRST_CHARACTER_DECIDES) return false;
  const c = source.charCodeAt(0);
  return c >= 128 || (c >= 0 && MAY_RESOLVE[c] === 0);
}

const valueCache = new Map<string, unknown>();
const keyCache = new Map<string, unknown>();

/**
 * A plain scalar as composeScalar resolves it (the first default tag whose
 * test matches, else a string), then toJS; UNRESOLVABLE when that would be
 * anything but null, a boolean, a number or a string, or an error.
 */
function resolvePlain(source: string, atKey: boolean): unknown {
  // Most scalars (names, descriptions) start with a character no default tag's test accepts first: a string.
  if (plainIsString(source)) return source;
  const cache = atKey ? keyCache : valueCache;
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  let out: unknown = source;
  const tag = TAGS.find((t) => (t.default === true || (atKey && t.default === "key")) && t.test?.test(source));
  if (tag) {
    let failed = false;
    let res: unknown;
    try {
      res = tag.resolve(source, () => (failed = true), TAG_OPTIONS);
    } catch {
      failed = true;
    }
    // composeScalar keeps a Scalar a tag returns (booleans), else wraps the value; toJS then takes its value.
    if (isScalar(res) && !("addToJSMap" in res)) res = res.value;
    if (failed || isScalar(res) || (typeof res === "object" && res !== null) || typeof res === "function" || typeof res === "symbol" || res === undefined) out = UNRESOLVABLE;
    else out = typeof res === "bigint" ? Number(res) : res;
  }
  if (cache.size > 50_000) cache.clear();
  cache.set(source, out);
  return out;
}

/** A mapping key as addPairToJSMap turns it into a property name. */
function keyString(source: string): string {
  const v = resolvePlain(source, true);
  if (v === UNRESOLVABLE) bail();
  return v === null ? "" : String(v);
}

/**
 * addPairToJSMap's assignment: it defines the property when `key in map`, else
 * assigns. On a plain object the two differ only for `__proto__` (the one
 * accessor Object.prototype has: assigning it would set the prototype), so only
 * that key is defined; the `in` lookup on every key cost ~7% of the reader.
 */
function setKey(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  else map[key] = value;
}

/**
 * Every string value of `value` that is a Helm template value replaced in place
 * by replaceTemplateActions' text (as markTemplateValues replaces the scalar);
 * false, leaving the rest unchanged, at a key holding a template action.
 */
function markTemplateStrings(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (typeof item === "string") {
          if (isTemplateValue(item)) v[i] = replaceTemplateActions(item);
        } else stack.push(item);
      }
    } else if (typeof v === "object" && v !== null) {
      const map = v as Record<string, unknown>;
      for (const key of Object.keys(map)) {
        if (key.includes("{{")) return false;
        const item = map[key];
        if (typeof item === "string") {
          if (isTemplateValue(item)) setKey(map, key, replaceTemplateActions(item));
        } else stack.push(item);
      }
    }
  }
  return true;
}

/** getAliasCount of an anchored node without aliases inside: 0 for collections holding no scalar, else 1. */
function aliasCountOf(v: unknown): number {
  if (Array.isArray(v)) {
    let c = 0;
    for (const item of v) if ((c = Math.max(c, aliasCountOf(item))) === 1) break;
    return c;
  }
  if (typeof v === "object" && v !== null) return Object.keys(v).length > 0 ? 1 : 0;
  return 1;
}

const SPACE = 32;
const HASH = 35;
const NEWLINE = 10;
const BACKSLASH = 92;
const DASH = 45;
/** `key:` at the start of what is left of a line (sticky; the key group is a plain scalar). */
const KEY = /([A-Za-z0-9_$./][A-Za-z0-9_$./-]*):(?: |$)/y;
/** What may follow a value on its line: spaces, then a comment after at least one space. */
const TRAILER = /^(?: +#.*| *)$/;
const ANCHOR = /^&([A-Za-z0-9_-]+)(?: +#.*| *)$/;
const ALIAS = /^\*([A-Za-z0-9_-]+)(?: +#.*| *)$/;
/** `|`, `|-`, `|+`, and with an indentation indicator `|2`, `|2-`, `|-2`, `|2+`, `|+2`. */
const LITERAL = /^\|(?:([1-9])([-+]?)|([-+]?)([1-9]?))(?: +#.*| *)$/;
const MARKER = /^---(?: +(?:#.*)?)?$/;
/** Characters a plain scalar must not start with (indicators, reserved, or what this reader leaves to yaml). */
const NOT_PLAIN_START = new Set([..."\t ,%@`?:!>[]{}#|&*\"'"]);
/** NOT_PLAIN_START by character code (1), for the value after a block key or dash: read for every value. */
const NOT_PLAIN_START_CODE = new Uint8Array(128);
for (const c of NOT_PLAIN_START) NOT_PLAIN_START_CODE[c.charCodeAt(0)] = 1;
/** A `:` followed by a letter, digit or one of `:/._-`: a plain scalar's start, not an indicator. */
const PLAIN_AFTER_COLON = /^:[A-Za-z0-9:/._-]/;
/**
 * A document's text with CRLF line ends (a Windows checkout: git's autocrlf)
 * as LF ones, which is how YAML reads them: one line break, normalized to LF in
 * scalars, so the same values, lines and columns (the CR sits at a line's end).
 * Without this the whole of such a repository went to the yaml package: the
 * corpus converted to CRLF audited in 8.2 s, 1.4 s since. Undefined when
 * a CR stands alone (a line break of its own to YAML: the yaml package's to read).
 */
function lineFeedsOnly(text: string): string | undefined {
  if (text.indexOf("\r") < 0) return text;
  const lf = text.replaceAll("\r\n", "\n");
  return lf.indexOf("\r") < 0 ? lf : undefined;
}

/**
 * Whether `text` holds a character whose line breaking or meaning this reader
 * does not model (\r — CRLF line ends are made LF ones first, see lineFeedsOnly —, NEL, a byte order mark past the start, U+2028, U+2029):
 * such documents are yaml's (as is a tab outside literal block scalars: see
 * readDocument). By indexOf, one character at a time: each is a
 * native scan (and a character above U+00FF no search at all in a one-byte
 * string, what manifests are), where a class regex stepped through every
 * character of every document (~17 ms of the corpus's reading, cold).
 */
export function unsure(text: string): boolean {
  return text.indexOf("\r") >= 0 || text.indexOf("\u0085") >= 0 || text.indexOf("\uFEFF") >= 0 || text.indexOf("\u2028") >= 0 || text.indexOf("\u2029") >= 0;
}
const MAX_DEPTH = 100;

/**
 * A multi-line plain scalar's value: its first line, then the lines that
 * continue it, folded as the yaml package's unfoldLines folds a plain token
 * (each line trimmed; a line break between text becomes a space, each blank
 * line a line break).
 */
function unfold(first: string, rest: string[]): string {
  let res = first.trimEnd();
  let sep = " ";
  for (let k = 0; k < rest.length - 1; k++) {
    const lm = rest[k]!.trim();
    if (lm === "") {
      if (sep === "\n") res += sep;
      else sep = "\n";
    } else {
      res += sep + lm;
      sep = " ";
    }
  }
  return res + sep + rest[rest.length - 1]!.trim();
}

/** `text` without the spaces at its end (only spaces: the yaml package trims spaces and tabs, and a tab sends a document to it). */
function trimSpacesEnd(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === SPACE) end--;
  return text.slice(0, end);
}

/**
 * A flow scalar's lines folded as the yaml package's unfoldLines does: the first
 * line without its trailing spaces, each middle line without spaces either side
 * (a blank one is a line break, and a break before one is dropped), the last
 * without its leading spaces (here they are already gone); one space joins lines.
 */
function unfoldFlow(first: string, middle: readonly string[], last: string): string {
  let res = trimSpacesEnd(first);
  let sep = " ";
  for (const line of middle) {
    const lm = trimSpacesEnd(line);
    if (lm === "") {
      if (sep === "\n") res += sep;
      else sep = "\n";
    } else {
      res += sep + lm;
      sep = " ";
    }
  }
  return res + sep + last;
}

/**
 * Where a double-quoted scalar whose text starts at `from` closes on this line:
 * the first `"` after an even number of backslashes, as the yaml lexer finds
 * it; -1 when it does not close here.
 */
function closingDoubleQuote(line: string, from: number): number {
  for (let end = line.indexOf('"', from); end >= 0; end = line.indexOf('"', end + 1)) {
    let n = 0;
    while (end - 1 - n >= from && line.charCodeAt(end - 1 - n) === BACKSLASH) n++;
    if (n % 2 === 0) return end;
  }
  return -1;
}

/** The one-character escapes of double-quoted scalars (YAML 1.2, as the yaml package reads them); a Map: no prototype lookups on input. */
const DQ_ESCAPES: ReadonlyMap<string, string> = new Map([
  ["0", "\0"], ["a", "\x07"], ["b", "\b"], ["e", "\x1b"], ["f", "\f"], ["n", "\n"], ["r", "\r"], ["t", "\t"], ["v", "\v"],
  ["N", "\u0085"], ["_", "\u00a0"], ["L", "\u2028"], ["P", "\u2029"], [" ", " "], ['"', '"'], ["/", "/"], ["\\", "\\"],
]);
const HEX2 = /^[0-9A-Fa-f]{2}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const HEX8 = /^[0-9A-Fa-f]{8}$/;

/**
 * The text between a double-quoted scalar's quotes (its lines joined by line
 * breaks, indentation included) → its value as the yaml package computes it:
 * escapes replaced, a line break folded with the spaces and blank lines after
 * it (one space, or a line break per blank line), spaces before a line break
 * dropped, an escaped line break joining the lines. An escape the yaml package
 * calls an error (unknown, or past the last code point) leaves the document to it.
 */
function doubleQuoted(source: string): string {
  let res = "";
  const n = source.length;
  let i = 0;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === BACKSLASH) {
      const next = source[i + 1];
      if (next === "\n") {
        i += 2;
        while (source.charCodeAt(i) === SPACE) i++;
      } else if (next === "x" || next === "u" || next === "U") {
        const hex = source.slice(i + 2, i + (next === "x" ? 4 : next === "u" ? 6 : 10));
        if (!(next === "x" ? HEX2 : next === "u" ? HEX4 : HEX8).test(hex)) bail();
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) bail(); // not a code point: the yaml package's error
        res += String.fromCodePoint(code);
        i += 2 + hex.length;
      } else {
        const e = next === undefined ? undefined : DQ_ESCAPES.get(next);
        if (e === undefined) bail();
        res += e;
        i += 2;
      }
    } else if (c === NEWLINE) {
      let fold = "";
      i++;
      for (let d = source.charCodeAt(i); d === SPACE || d === NEWLINE; d = source.charCodeAt(++i)) if (d === NEWLINE) fold += "\n";
      res += fold === "" ? " " : fold;
    } else if (c === SPACE) {
      let j = i + 1;
      while (source.charCodeAt(j) === SPACE) j++;
      if (source.charCodeAt(j) !== NEWLINE) res += source.slice(i, j);
      i = j;
    } else {
      let j = i + 1;
      for (let d = source.charCodeAt(j); j < n && d !== BACKSLASH && d !== NEWLINE && d !== SPACE; d = source.charCodeAt(++j));
      res += source.slice(i, j);
      i = j;
    }
  }
  return res;
}

/** A scalar inside a one-line flow collection at r[i]: [value, index after it]. */
function flowScalar(r: string, i: number): [unknown, number] {
  const c = r.charCodeAt(i);
  if (c === 34 /* " */) {
    const end = closingDoubleQuote(r, i + 1);
    if (end < 0) bail();
    return [doubleQuoted(r.slice(i + 1, end)), end + 1];
  }
  if (c === 39 /* ' */) {
    let end = r.indexOf("'", i + 1);
    while (end >= 0 && r.charCodeAt(end + 1) === 39) end = r.indexOf("'", end + 2);
    if (end < 0) bail();
    const text = r.slice(i + 1, end);
    if (text.includes("\n")) bail(); // folded over lines: yaml's to read in a flow
    return [text.replaceAll("''", "'"), end + 1];
  }
  if (NOT_PLAIN_START.has(r[i]!) || (c === DASH && (i + 1 === r.length || " ,]}\n".includes(r[i + 1]!)))) bail();
  // A plain scalar ends at a flow indicator, at ": " or ":" before an indicator (a key), or at " #";
  // in a flow over lines, at a line break that only spaces and a "," or a closing bracket follow
  // (more text would continue the scalar, folded: that is yaml's to read).
  let j = i;
  for (; j < r.length; j++) {
    const ch = r[j]!;
    if (ch === "," || ch === "]" || ch === "}") break;
    if (ch === "[" || ch === "{" || ch === "#") bail();
    if (ch === ":" && (r[j + 1] === " " || r[j + 1] === "\n" || r[j + 1] === undefined || FLOW_END.has(r[j + 1]!) || r[j + 1] === ",")) break;
    if (ch === "\n") {
      let k = j;
      while (r[k] === "\n" || r[k] === " ") k++;
      if (r[k] !== "," && r[k] !== "]" && r[k] !== "}") bail();
      break;
    }
  }
  let end = j;
  while (end > i && r.charCodeAt(end - 1) === SPACE) end--;
  const value = resolvePlain(r.slice(i, end), false);
  if (value === UNRESOLVABLE) bail();
  return [value, j];
}

const FLOW_END = new Set(["]", "}"]);

/** Characters after which a quote starts a quoted scalar in a flow (elsewhere it is a plain scalar's text). */
const QUOTE_MAY_FOLLOW = new Set([SPACE, 91 /* [ */, 123 /* { */, 44 /* , */, 58 /* : */]);

/**
 * Where a flow collection stands after one more of its lines: 0 once its brackets
 * are closed, else (depth << 2 | quote) with quote 1 inside a double-quoted
 * scalar, 2 inside a single-quoted one (both may go on over lines). Brackets
 * inside quotes and comments do not count. Starts with `state` 0 on the line
 * that opens the collection; the line is read up to where the brackets close.
 */
function flowState(line: string, state: number): number {
  let depth = state >> 2;
  let quote = state & 3;
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (quote === 1) {
      if (c === BACKSLASH) i++;
      else if (c === 34) quote = 0;
    } else if (quote === 2) {
      if (c === 39) {
        if (line.charCodeAt(i + 1) === 39) i++;
        else quote = 0;
      }
    } else if ((c === 34 || c === 39) && (i === 0 || QUOTE_MAY_FOLLOW.has(line.charCodeAt(i - 1)))) quote = c === 34 ? 1 : 2;
    else if (c === 91 || c === 123) depth++;
    else if (c === 93 || c === 125) {
      if (--depth === 0) return 0;
    } else if (c === HASH && (i === 0 || line.charCodeAt(i - 1) === SPACE)) break; // a comment
  }
  if (depth <= 0) bail(); // not a flow this reader reads
  if (depth > MAX_FLOW_DEPTH) bail();
  return (depth << 2) | quote;
}

/**
 * Flow collections nested in a flow collection (`{key: app, values: [a, b]}`,
 * a label selector's matchExpressions): deeper than this is the yaml package's
 * to read (its own bound on flow nesting is far above).
 */
const MAX_FLOW_DEPTH = 16;

/**
 * A flow collection (`[a, "b"]`, `{k: v, n: [1, 2]}`); `r` holds it and what follows
 * on its last line: one line, or its lines joined by line breaks (Reader.flowLines).
 */
function flowCollection(r: string): unknown[] | Record<string, unknown> {
  const [value, end] = flowCollectionAt(r, 0, 0);
  if (!TRAILER.test(r.slice(end))) bail();
  return value;
}

/** The flow collection opening at r[start] (scalars and collections as values, plain keys): [value, index after its closing bracket]. */
function flowCollectionAt(r: string, start: number, depth: number): [unknown[] | Record<string, unknown>, number] {
  if (depth >= MAX_FLOW_DEPTH) bail();
  const isMap = r[start] === "{";
  const close = isMap ? "}" : "]";
  const seq: unknown[] = [];
  const map: Record<string, unknown> = {};
  let i = start + 1;
  // Spaces, and in a flow over lines its line breaks and comments (a "#" after a space or a line break).
  const spaces = () => {
    for (;;) {
      const c = r.charCodeAt(i);
      if (c === SPACE || c === NEWLINE) i++;
      else if (c === HASH && (r.charCodeAt(i - 1) === SPACE || r.charCodeAt(i - 1) === NEWLINE)) {
        const eol = r.indexOf("\n", i);
        if (eol < 0) bail(); // a comment on the flow's last line, before its closing bracket
        i = eol;
      } else return;
    }
  };
  // A value: a nested collection, else a scalar.
  const value = (): unknown => {
    const c = r.charCodeAt(i);
    const [v, next] = c === 91 /* [ */ || c === 123 /* { */ ? flowCollectionAt(r, i, depth + 1) : flowScalar(r, i);
    i = next;
    return v;
  };
  spaces();
  if (r[i] === close) i++;
  else
    for (;;) {
      spaces();
      if (isMap) {
        KEY.lastIndex = i;
        const m = KEY.exec(r);
        if (!m || r[i + m[1]!.length + 1] !== " ") bail(); // `key: ` (a key before "," or "}" has no value)
        const key = keyString(m[1]!);
        if (key.charCodeAt(0) === 36 /* $ */) bail(); // a directive's place is what the reader reports on (see dollarKeys)
        i += m[1]!.length + 1;
        spaces();
        setKey(map, key, value());
      } else seq.push(value());
      spaces();
      if (r[i] === close) {
        i++;
        break;
      }
      if (r[i] !== ",") bail();
      i++;
      spaces();
      if (r[i] === ",") bail(); // an empty entry
      if (r[i] === close) {
        // a trailing comma (`"--listen_port=$(PORT)",` then `]`): nothing more, as the yaml package reads it
        i++;
        break;
      }
    }
  return [isMap ? map : seq, i];
}

/**
 * Characters of a plain block key this reader reads (KEY's classes, as a
 * table: the scan runs for every key line): 2 may start the key, 1 may follow.
 */
const PLAIN_KEY_CHARACTER = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$./") PLAIN_KEY_CHARACTER[c.charCodeAt(0)] = 2;
PLAIN_KEY_CHARACTER[DASH] = 1;

/**
 * Where the colon of a plain block key starting at line[col] is (KEY's match,
 * without a match array: `key:` then a space or the end of the line), or -1.
 */
function plainKeyColon(line: string, col: number): number {
  const n = line.length;
  if (col >= n) return -1;
  const first = line.charCodeAt(col);
  if (first >= 128 || PLAIN_KEY_CHARACTER[first] !== 2) return -1;
  let j = col + 1;
  while (j < n) {
    const c = line.charCodeAt(j);
    if (c >= 128 || PLAIN_KEY_CHARACTER[c] === 0) break;
    j++;
  }
  if (j >= n || line.charCodeAt(j) !== 58 /* : */) return -1;
  return j + 1 === n || line.charCodeAt(j + 1) === SPACE ? j : -1;
}

/** Where a one-line quoted key's closing quote is, when a colon and then a space or the line's end follow it; else -1. */
function quotedKeyClose(line: string, col: number, quote: number): number {
  let end: number;
  if (quote === 34) end = closingDoubleQuote(line, col + 1);
  else {
    end = line.indexOf("'", col + 1);
    while (end >= 0 && line.charCodeAt(end + 1) === 39) end = line.indexOf("'", end + 2);
  }
  if (end < 0 || line.charCodeAt(end + 1) !== 58 /* : */ || (end + 2 < line.length && line.charCodeAt(end + 2) !== SPACE)) return -1;
  return end;
}

/**
 * Whether line[col] starts a block mapping key blockKey reads (its text not
 * resolved: the mapping read next from this line resolves it, and bails
 * where it cannot).
 */
function startsBlockKey(line: string, col: number): boolean {
  const q = line.charCodeAt(col);
  if (q === 34 /* " */ || q === 39 /* ' */) return quotedKeyClose(line, col, q) >= 0;
  return plainKeyColon(line, col) >= 0;
}

/** Where the text after the colon of the key blockKey last read starts (its answer's second half: no object per key). */
let blockKeyRest = 0;

/**
 * The key of a block mapping entry at line[col], plain (`key:`) or quoted on
 * one line (`"key":`, `'key':`, the colon right after the quote), setting
 * blockKeyRest to where the text after its colon starts; null when the line
 * has no such key there.
 */
function blockKey(line: string, col: number): string | null {
  const q = line.charCodeAt(col);
  if (q === 34 /* " */ || q === 39 /* ' */) {
    const end = quotedKeyClose(line, col, q);
    if (end < 0) return null;
    const text = line.slice(col + 1, end);
    blockKeyRest = end + 2;
    // A quoted key is a string as written (no tag resolves it).
    return q === 34 ? doubleQuoted(text) : text.replaceAll("''", "'");
  }
  const colon = plainKeyColon(line, col);
  if (colon < 0) return null;
  blockKeyRest = colon + 1;
  return keyString(line.slice(col, colon));
}

/** A block mapping's key as locateIn (read.ts) finds it: its text as compared there, where it starts (0-based line, 1-based column), its value. */
interface PlacedPair {
  key: string;
  line: number;
  column: number;
  value: unknown;
}

/** Where a block sequence's item starts and the item's value. */
interface PlacedItem {
  line: number;
  column: number;
  value: unknown;
}

/**
 * A block collection's places (`line`, `column`: where the collection itself
 * starts, its first key or dash); FLOW for a flow collection, whose entries'
 * places this reader does not keep.
 */
type Placed = { pairs: PlacedPair[]; line: number; column: number } | { items: PlacedItem[]; line: number; column: number } | typeof FLOW;
const FLOW = { flow: true } as const;

interface Anchor {
  value: unknown;
  count: number;
  aliasCount: number;
  open: boolean;
}

class Reader {
  private i = 0;
  private readonly anchors = new Map<string, Anchor>();
  private aliasUses = 0;
  private depth = 0;
  /** A block mapping key starting with "$" was read (flow mappings leave such keys to yaml). */
  dollarKeys = false;
  /** Lines read as the text of a literal block scalar (1), where a tab is only a character of it; null until one is. */
  literalText: Uint8Array | null = null;
  itemLines: number[] | null = null;

  /**
   * Where the keys of block mappings and the items of block sequences start,
   * by the object or array read from them: kept only when fastLocator asks
   * (reading for values alone records nothing).
   */
  positions: Map<object, Placed> | null = null;

  /** Each line's indentation (leading spaces), counted once: the reader asks several times per line. */
  private readonly indents: Int32Array;

  /** `lines`: `body` split at its line breaks (`body` ends with one; nothing after it). */
  constructor(
    body: string,
    private readonly lines: string[],
    private readonly maxAliasCount: number,
  ) {
    // Counted on the document's own text, not on each line (a slice of it, read through one more indirection).
    const indents = new Int32Array(lines.length);
    let at = 0;
    for (let j = 0; j < lines.length; j++) {
      let k = at;
      while (body.charCodeAt(k) === SPACE) k++;
      indents[j] = k - at;
      at = body.indexOf("\n", k) + 1;
    }
    this.indents = indents;
  }

  hasAnchors(): boolean {
    return this.anchors.size > 0;
  }

  static indent(line: string): number {
    let k = 0;
    while (line.charCodeAt(k) === SPACE) k++;
    return k;
  }

  /** Past blank lines and comment lines. */
  skipEmpty(): void {
    const lines = this.lines;
    while (this.i < lines.length) {
      const l = lines[this.i]!;
      const k = this.indents[this.i]!;
      if (k === l.length || l.charCodeAt(k) === HASH) this.i++;
      else return;
    }
  }

  at(): number {
    return this.i;
  }

  setAt(i: number): void {
    this.i = i;
  }

  done(): boolean {
    this.skipEmpty();
    return this.i >= this.lines.length;
  }

  /** A block mapping whose keys sit at column n (the current line is its first key). */
  map(n: number, top = false): Record<string, unknown> {
    if (++this.depth > MAX_DEPTH) bail();
    const map: Record<string, unknown> = {};
    const lines = this.lines;
    let itemsSeen = false;
    const pairs: PlacedPair[] | null = this.positions ? [] : null;
    for (;;) {
      this.skipEmpty();
      if (this.i >= lines.length) break;
      const line = lines[this.i]!;
      const k = this.indents[this.i]!;
      if (k < n) break;
      if (k > n) bail();
      const key = blockKey(line, n);
      if (key === null) bail(); // a sequence entry at a mapping's indentation, a complex key, a scalar…
      if (key.charCodeAt(0) === 36 /* $ */) this.dollarKeys = true;
      const restAt = blockKeyRest;
      const isItems = top && key === "items";
      if (isItems) {
        if (itemsSeen) bail(); // `items` twice: the first node is the one located, the last the one read
        if (/^ *(?:[&*]|\[ *(?:[^\] ]|$))/.test(line.slice(restAt))) bail(); // where the items of an anchored, aliased or flow List start is yaml's to say
        itemsSeen = true;
      }
      const before = this.itemsLinesSink;
      this.itemsLinesSink = isItems ? [] : null;
      const keyLine = this.i;
      const value = this.afterIndicator(line, restAt, n, true);
      if (isItems) this.itemLines = Array.isArray(value) && this.itemsLinesSink !== null ? this.itemsLinesSink : null;
      this.itemsLinesSink = before;
      setKey(map, key, value);
      // As locateIn compares keys (String of the key's value): a plain key resolving to null is "null" there, "" as a property.
      if (pairs) pairs.push({ key: key === "" && line.charCodeAt(n) !== 34 && line.charCodeAt(n) !== 39 ? "null" : key, line: keyLine, column: n + 1, value });
    }
    // Entered on a key's line, a mapping has read that key or bailed: it starts at its first key.
    if (pairs) this.positions!.set(map, { pairs, line: pairs[0]!.line, column: n + 1 });
    this.depth--;
    return map;
  }

  /** Lines where the items of the sequence being read start, when it is a top-level `items`. */
  private itemsLinesSink: number[] | null = null;

  /** A block sequence whose dashes sit at column d (the current line is its first entry). */
  seq(d: number): unknown[] {
    if (++this.depth > MAX_DEPTH) bail();
    const out: unknown[] = [];
    const lines = this.lines;
    const sink = this.itemsLinesSink;
    this.itemsLinesSink = null;
    const items: PlacedItem[] | null = this.positions ? [] : null;
    let start = -1;
    for (;;) {
      this.skipEmpty();
      if (this.i >= lines.length) break;
      const line = lines[this.i]!;
      const k = this.indents[this.i]!;
      if (k < d) break;
      if (k > d) bail();
      if (line.charCodeAt(d) !== DASH) break; // a key of the mapping this compact sequence belongs to
      if (start < 0) start = this.i;
      if (line.length === d + 1) {
        // `-` alone: the item is on the next lines
        this.i++;
        this.skipEmpty();
        const c = this.i < lines.length ? this.indents[this.i]! : 0;
        if (this.i >= lines.length || c <= d) bail(); // an empty item
        sink?.push(this.i);
        const at = this.i;
        const item = this.block(c);
        out.push(item);
        if (items) this.placeItem(items, at, c, item);
        continue;
      }
      if (line.charCodeAt(d + 1) !== SPACE) bail();
      let c = d + 2;
      while (line.charCodeAt(c) === SPACE) c++;
      if (c === line.length || line.charCodeAt(c) === HASH) {
        // `- # comment`: the item is on the next lines
        this.i++;
        this.skipEmpty();
        const ci = this.i < lines.length ? this.indents[this.i]! : 0;
        if (this.i >= lines.length || ci <= d) bail();
        sink?.push(this.i);
        const at = this.i;
        const item = this.block(ci);
        out.push(item);
        if (items) this.placeItem(items, at, ci, item);
        continue;
      }
      const first = line.charCodeAt(c);
      const dash = first === DASH && (line.length === c + 1 || line.charCodeAt(c + 1) === SPACE);
      if (dash || startsBlockKey(line, c)) {
        // `- - x` (Argo's steps) or `- key: value`: a sequence whose dashes, or a mapping whose keys, sit at column
        // c (this line read as if indented to c: the reader takes a line's indentation from `indents` and reads
        // from there, so the dash stays)
        sink?.push(this.i);
        this.indents[this.i] = c;
        const at = this.i;
        const item = dash ? this.seq(c) : this.map(c);
        out.push(item);
        if (items) this.placeItem(items, at, c, item);
        continue;
      }
      if (sink && (first === 38 /* & */ || first === 42) /* * */) bail(); // where such a List item's node starts is yaml's to say
      sink?.push(this.i);
      const at = this.i;
      const item = this.afterIndicator(line, c - 1, d, false);
      out.push(item);
      if (items) this.placeItem(items, at, c, item);
    }
    if (items) this.positions!.set(out, { items, line: start, column: d + 1 });
    this.depth--;
    this.itemsLinesSink = sink;
    return out;
  }

  /**
   * Where a sequence's item starts (its first key, its scalar, its block
   * scalar's header: `column`, 0-based, on `line`); an anchored collection
   * (`- &a` and the collection below) where its first key or dash is.
   */
  private placeItem(items: PlacedItem[], line: number, column: number, value: unknown): void {
    const anchored = this.lines[line]!.charCodeAt(column) === 38 /* & */ ? this.positions!.get(value as object) : undefined;
    if (anchored && !("flow" in anchored)) items.push({ line: anchored.line, column: anchored.column, value });
    else items.push({ line, column: column + 1, value });
  }

  /** The block collection starting on the current line, at column c. */
  private block(c: number): unknown {
    const line = this.lines[this.i]!;
    if (line.charCodeAt(c) === DASH && (line.length === c + 1 || line.charCodeAt(c + 1) === SPACE)) return this.seq(c);
    return this.map(c);
  }

  /**
   * The value after `key:` or `- `, from line[from] (a space or the line's
   * end: the text is not cut out before it is known to hold a value); `p` is
   * the indentation of the key or dash: continuation lines would be indented
   * more. In a mapping, a sequence may sit at the key's indentation.
   */
  private afterIndicator(line: string, from: number, p: number, inMap: boolean): unknown {
    let j = from;
    const n = line.length;
    while (j < n && line.charCodeAt(j) === SPACE) j++;
    if (j === n || line.charCodeAt(j) === HASH) {
      this.i++;
      return this.nested(p, inMap, true);
    }
    const c0 = line.charCodeAt(j);
    // Most values are plain scalars, read from the line itself; the others' text is cut out (`r`).
    const r = c0 < 128 && NOT_PLAIN_START_CODE[c0] === 1 ? line.slice(j) : "";
    let value: unknown;
    if (c0 === 38 /* & */) {
      const m = ANCHOR.exec(r);
      if (!m || this.anchors.has(m[1]!)) bail();
      const anchor: Anchor = { value: undefined, count: 1, aliasCount: 0, open: true };
      this.anchors.set(m[1]!, anchor);
      const uses = this.aliasUses;
      const sink = this.itemsLinesSink;
      this.itemsLinesSink = null;
      this.i++;
      const v = this.nested(p, inMap, false);
      this.itemsLinesSink = sink;
      if (v === null || this.aliasUses !== uses) bail(); // an anchored empty value, or aliases inside the anchored node
      anchor.value = v;
      anchor.open = false;
      anchor.aliasCount = aliasCountOf(v);
      return v;
    }
    if (c0 === 42 /* * */) {
      const m = ALIAS.exec(r);
      const anchor = m ? this.anchors.get(m[1]!) : undefined;
      if (!anchor || anchor.open) bail();
      anchor.count++;
      // Alias.toJSON's guard: past it the yaml package reports the alias bomb.
      if (this.maxAliasCount >= 0 && anchor.count * anchor.aliasCount > this.maxAliasCount) bail();
      this.aliasUses++;
      value = anchor.value;
    } else if (c0 === 124 /* | */) {
      const m = LITERAL.exec(r);
      if (!m) bail();
      this.i++;
      const indicator = m[1] ?? m[4];
      const chomping = m[2] || m[3];
      return this.literal(p, chomping === "-" ? "strip" : chomping === "+" ? "keep" : "clip", indicator ? Number(indicator) : 0);
    } else if (c0 === 34 /* " */) {
      const end = closingDoubleQuote(r, 1);
      if (end < 0) value = this.doubleQuotedLines(r.slice(1), p);
      else if (!TRAILER.test(r.slice(end + 1))) bail();
      else value = doubleQuoted(r.slice(1, end));
    } else if (c0 === 39 /* ' */) {
      let end = r.indexOf("'", 1);
      while (end >= 0 && r.charCodeAt(end + 1) === 39) end = r.indexOf("'", end + 2);
      if (end < 0) value = this.singleQuotedLines(r.slice(1), p);
      else if (!TRAILER.test(r.slice(end + 1))) bail();
      else value = r.slice(1, end).replaceAll("''", "'");
    } else if (c0 === 123 /* { */ || c0 === 91 /* [ */) {
      value = flowCollection(this.flowLines(r, p));
      this.positions?.set(value as object, FLOW); // where a flow's entries start is yaml's to say
    } else {
      // `:` may start a plain scalar when text follows it (`:node_memory:sum`, `::1`).
      if (r !== "" && !(c0 === 58 /* : */ && PLAIN_AFTER_COLON.test(r))) bail();
      if (c0 === DASH && (j + 1 === n || line.charCodeAt(j + 1) === SPACE)) bail();
      const hash = line.indexOf(" #", j);
      let end = hash < 0 ? n : hash;
      while (end > j && line.charCodeAt(end - 1) === SPACE) end--;
      let source = line.slice(j, end);
      if (source.includes(": ") || source.endsWith(":")) bail();
      if (hash < 0) {
        // Lines indented more than the key continue the scalar (folded: CRD descriptions).
        const more = this.continuation(p);
        if (more) source = unfold(source, more);
      }
      value = resolvePlain(source, false);
      if (value === UNRESOLVABLE) bail();
    }
    this.i++;
    this.noContinuation(p);
    return value;
  }

  /**
   * A single-quoted scalar over several lines (`first`: the text after its
   * opening quote; controller-gen writes CRD descriptions so): folded as the
   * yaml package folds flow scalars; the reader moves to its closing line.
   * Every line until the closing quote must be blank or indented more than `p`
   * (else it is yaml's error to report), and only a comment may follow the quote.
   */
  private singleQuotedLines(first: string, p: number): string {
    const lines = this.lines;
    const middle: string[] = [];
    for (let j = this.i + 1; j < lines.length; j++) {
      const l = lines[j]!;
      const k = this.indents[j]!;
      if (k === l.length) {
        middle.push("");
        continue;
      }
      if (k <= p) bail();
      let end = l.indexOf("'", k);
      while (end >= 0 && l.charCodeAt(end + 1) === 39) end = l.indexOf("'", end + 2);
      if (end < 0) {
        middle.push(l.slice(k));
        continue;
      }
      if (!TRAILER.test(l.slice(end + 1))) bail();
      this.i = j;
      return unfoldFlow(first, middle, l.slice(k, end)).replaceAll("''", "'");
    }
    return bail();
  }

  /**
   * A double-quoted scalar over several lines (`first`: the text after its
   * opening quote), folded and unescaped as the yaml package does it; the
   * reader moves to its closing line. As for single quotes, every line until
   * the closing quote must be blank or indented more than `p`, and only a
   * comment may follow the quote.
   */
  private doubleQuotedLines(first: string, p: number): string {
    const lines = this.lines;
    let source = first;
    for (let j = this.i + 1; j < lines.length; j++) {
      const l = lines[j]!;
      const k = this.indents[j]!;
      if (k < l.length && k <= p) bail();
      const end = closingDoubleQuote(l, 0);
      if (end < 0) {
        source += `\n${l}`;
        continue;
      }
      if (!TRAILER.test(l.slice(end + 1))) bail();
      this.i = j;
      return doubleQuoted(`${source}\n${l.slice(0, end)}`);
    }
    return bail();
  }

  /**
   * A flow collection's text from its first line `first` (from its opening
   * bracket): that line when the brackets close on it, else the lines up to the
   * one where they close, joined by line breaks (Kubeflow's and Argo's `args: [...]`
   * over lines); the reader moves to that last line. Its lines must be blank or
   * indented more than `p`, the last one may start at `p` with its closing
   * bracket (as the yaml package reads it; anything else is its error to report).
   */
  private flowLines(first: string, p: number): string {
    let state = flowState(first, 0);
    if (state === 0) return first;
    const lines = this.lines;
    const parts = [first];
    let j = this.i;
    while (state !== 0) {
      if (++j >= lines.length) bail(); // not closed: yaml's error
      const l = lines[j]!;
      const k = this.indents[j]!;
      // At p, only the line that starts with the outermost closing bracket.
      const closesAtP = k === p && state === 1 << 2 && (l.charCodeAt(k) === 93 /* ] */ || l.charCodeAt(k) === 125) /* } */;
      if (k !== l.length && k <= p && !closesAtP) bail();
      state = flowState(l, state);
      parts.push(l);
    }
    this.i = j;
    return parts.join("\n");
  }

  /**
   * The lines continuing a plain scalar that starts on the current line (null:
   * none); the reader moves to its last line. Only text lines: anything a
   * scalar cannot simply go on with (a comment, `: `) is yaml's.
   */
  private continuation(p: number): string[] | null {
    const lines = this.lines;
    let last = -1;
    for (let j = this.i + 1; j < lines.length; j++) {
      const l = lines[j]!;
      const k = this.indents[j]!;
      if (k === l.length) continue; // blank: folds to a line break
      if (k <= p) break;
      const text = l.slice(k);
      // Past its first line a plain scalar may go on with any character, indicators too (`- x`,
      // `[a]`, `'q`, `*a` are text there); a comment or a `: ` would end it, and that is yaml's.
      if (text.charCodeAt(0) === HASH || text.includes(": ") || text.endsWith(":") || text.includes(" #")) bail();
      last = j;
    }
    if (last < 0) return null;
    const out = lines.slice(this.i + 1, last + 1);
    this.i = last;
    return out;
  }

  /** A value's lines end here: a more indented line next would continue it (or be an error). */
  private noContinuation(p: number): void {
    const lines = this.lines;
    for (let j = this.i; j < lines.length; j++) {
      const l = lines[j]!;
      const k = this.indents[j]!;
      if (k === l.length || l.charCodeAt(k) === HASH) continue;
      if (k > p) bail();
      return;
    }
  }

  /**
   * What follows `key:` or `-` with nothing after it on the line; `scalarBelow`:
   * a scalar or a flow collection may be the value (not after an anchor, nor as
   * a List's `items`: where such a node below starts is yaml's to say).
   */
  private nested(p: number, inMap: boolean, scalarBelow: boolean): unknown {
    this.skipEmpty();
    if (this.i >= this.lines.length) return null;
    const line = this.lines[this.i]!;
    const k = this.indents[this.i]!;
    const dash = line.charCodeAt(k) === DASH && (line.length === k + 1 || line.charCodeAt(k + 1) === SPACE);
    if (k > p) {
      if (dash) return this.seq(k);
      // A scalar or a flow collection on the next line (`emptyDir:` then `{}` below it, as Helm's toYaml
      // writes; a long value moved down), read as on the key's line.
      const c = line.charCodeAt(k);
      if (scalarBelow && this.itemsLinesSink === null && !startsBlockKey(line, k) && (c === 123 /* { */ || c === 91 /* [ */ || c === 34 /* " */ || c === 39 /* ' */ || (c < 128 && NOT_PLAIN_START_CODE[c] === 0)))
        return this.afterIndicator(line, k, p, inMap);
      return this.map(k);
    }
    if (k === p && inMap && dash) return this.seq(k);
    return null;
  }

  /**
   * A literal block scalar (`|`, `|-`, `|+`) whose parent sits at column p; with an
   * indentation indicator (`indicator` > 0) its lines are indented p + indicator
   * (more is text), else as its first line.
   */
  private literal(p: number, chomping: "strip" | "clip" | "keep", indicator: number): string {
    const lines = this.lines;
    const first = this.i;
    if (first >= lines.length) bail();
    // Empty lines before the text are line breaks of it (below); the first text line sets the indentation.
    let f = first;
    while (f < lines.length && this.indents[f] === lines[f]!.length) f++;
    if (f >= lines.length) bail();
    const firstIndent = this.indents[f]!;
    if (firstIndent <= p) bail(); // an empty scalar
    const k = indicator > 0 ? p + indicator : firstIndent;
    if (firstIndent < k) bail(); // less indented than the indicator says: yaml's error
    const parts: string[] = [];
    let content = 0;
    let j = first;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      const ind = this.indents[j]!;
      if (ind === l.length) {
        if (l.length > k) bail(); // spaces beyond the indentation are content: leave it to yaml
        parts.push("");
        continue;
      }
      if (ind < k) break;
      parts.push(l.slice(k));
      content = parts.length;
    }
    this.i = first + content;
    this.literalText ??= new Uint8Array(lines.length);
    this.literalText.fill(1, first, first + content);
    // A line less indented than the text but more than the parent: yaml's error.
    this.noContinuation(p);
    const text = parts.slice(0, content).join("\n");
    // Keep (`|+`): the blank lines after the text are line breaks of it too, up to the line that ends it.
    if (chomping === "keep") return `${parts.join("\n")}\n`;
    return chomping === "strip" ? text : `${text}\n`;
  }
}

/**
 * A document that is a JSON text (fast-json.ts): JSON.parse's value where the
 * yaml package reads the same, else undefined (the yaml package reads it).
 */
function readJsonDocument(body: string, start: number): FastDocument | undefined {
  const scan = scanJson(body, start, (token) => resolvePlain(token, false), MAX_FLOW_NESTING);
  if (!scan) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.slice(start));
  } catch {
    return undefined; // the yaml package says what is wrong, where
  }
  // Template actions are replaced as in block documents; a key holding one is yaml's.
  if (body.includes("{{") && !markTemplateStrings(value)) return undefined;
  // A key starting with "$" may be anywhere: any such string counts (the directive search then looks).
  return { value, contentsLine: scan.contentsLine, itemLines: scan.itemLines, dollarKeys: body.includes('"$') };
}

/**
 * One document's text (from its `---` line, or for `prelude` from the start
 * of the file) → its value and lines; null when `prelude` holds only
 * comments (no document); undefined when the yaml package must read it.
 */
export function fastReadDocument(text: string, options: { prelude: boolean; maxAliasCount: number }): FastDocument | null | undefined {
  return readDocument(text, options, null);
}

/** A position as locateIn gives it: 1-based line (of the document's text) and column. */
export interface FastPosition {
  line: number;
  column: number;
}

/**
 * Where a path leads in a document (its List's item `itemIndex`, or the whole
 * document for null): locateIn's answer (read.ts) for the same text, null where
 * it finds nothing, undefined where the answer is the yaml package's to give
 * (a path through a flow collection, an empty path).
 */
export type FastLocator = (itemIndex: number | null, path: readonly (string | number)[]) => FastPosition | null | undefined;

/**
 * A document's locator from the fast reader, for reports' locations without
 * the yaml package (cold, it took ~1.2 ms a document: 0.15 s for the 125
 * documents with findings of the bench fleet). Undefined when the fast reader
 * leaves the document to yaml, or for a byte order mark (columns of its first
 * line): then locateIn on the yaml package's document answers. An alias leads
 * where locateIn's resolveAlias does: its value is the anchored node's own.
 */
export function fastLocator(source: string, prelude: boolean): FastLocator | undefined {
  const text = lineFeedsOnly(source);
  if (text === undefined || (prelude && text.charCodeAt(0) === 0xfeff)) return undefined;
  // A JSON text the fast reader read (JSON.parse): placed by its own locator.
  const json = jsonStart(text, prelude);
  if (json >= 0) return readDocument(text, { prelude, maxAliasCount: -1 }, null) ? jsonLocator(text, json) : undefined;
  const positions = new Map<object, Placed>();
  // No alias limit: an alias shares its anchor's value (nothing is expanded), and a document over
  // the limit was an error of the reading, with no object to locate in.
  const doc = readDocument(text, { prelude, maxAliasCount: -1 }, positions);
  if (!doc) return undefined;
  const placed = (node: unknown) => (typeof node === "object" && node !== null ? positions.get(node) : undefined);
  return (itemIndex, path) => {
    if (path.length === 0) return undefined;
    let node = doc.value;
    let at: FastPosition | null = null;
    if (itemIndex !== null) {
      // listItemNode: the first `items` pair's value, a sequence, its item.
      const root = placed(node);
      if (root && "flow" in root) return undefined;
      const items = root && "pairs" in root ? placed(root.pairs.find((p) => p.key === "items")?.value) : undefined;
      if (items && "flow" in items) return undefined;
      const item = items && "items" in items ? items.items[itemIndex] : undefined;
      if (!item) return null;
      node = item.value;
    }
    for (const segment of path) {
      if (typeof node !== "object" || node === null) return null; // a scalar: neither a mapping nor a sequence
      const here = positions.get(node);
      if (here === undefined || "flow" in here) return undefined;
      if ("pairs" in here) {
        const key = String(segment);
        const pair = here.pairs.find((p) => p.key === key); // the first, as findPair
        if (!pair) return null;
        at = { line: pair.line + 1, column: pair.column };
        node = pair.value;
      } else if (typeof segment === "number") {
        const item = here.items[segment];
        if (!item) return null;
        at = { line: item.line + 1, column: item.column };
        node = item.value;
      } else return null;
    }
    return at;
  };
}

function readDocument(text: string, options: { prelude: boolean; maxAliasCount: number }, positions: Map<object, Placed> | null): FastDocument | null | undefined {
  let body = lineFeedsOnly(text);
  if (body === undefined) return undefined;
  if (options.prelude && body.charCodeAt(0) === 0xfeff) body = body.slice(1);
  if (unsure(body)) return undefined;
  const json = jsonStart(body, options.prelude);
  if (json >= 0) return readJsonDocument(body, json);
  if (!body.endsWith("\n")) {
    // At the end of the file: the same, except a block scalar there has no final line break to keep.
    if (body.includes("|")) return undefined;
    body += "\n";
  }
  const lines = body.split("\n");
  lines.pop(); // after the last newline
  const reader = new Reader(body, lines, options.maxAliasCount);
  reader.positions = positions;
  try {
    if (options.prelude) {
      // Comment and blank lines before the first document belong to the stream.
      reader.skipEmpty();
      if (reader.at() >= lines.length) return null;
    }
    const start = lines[reader.at()]!;
    if (start.startsWith("---") && (start.length === 3 || start.charCodeAt(3) === SPACE)) {
      if (!MARKER.test(start)) return undefined;
      reader.setAt(reader.at() + 1);
    } else if (!options.prelude) return undefined;
    if (reader.done()) return { value: null, contentsLine: -1, itemLines: null, dollarKeys: false };
    const contentsLine = reader.at();
    const line = lines[contentsLine]!;
    const n = Reader.indent(line);
    if (!startsBlockKey(line, n)) return undefined; // a top-level sequence or scalar: not an object, yaml says what it is
    const value = reader.map(n, true);
    if (!reader.done()) return undefined;
    // A tab is read here only as a character of a literal block scalar's text (scripts, configuration
    // files in ConfigMaps), after the indentation: anywhere else (indentation, separation, a comment,
    // another scalar) the document is yaml's.
    if (body.includes("\t")) for (let j = 0; j < lines.length; j++) if (lines[j]!.includes("\t") && reader.literalText?.[j] !== 1) return undefined;
    // Template actions: the values read.ts' markTemplateValues would replace, replaced alike. Only
    // string values can hold one here (an unquoted `{{` is a flow this reader leaves to yaml); a
    // key with one, or anchors (an alias of a replaced node), are yaml's.
    if (body.includes("{{") && (reader.hasAnchors() || !markTemplateStrings(value))) return undefined;
    return { value, contentsLine, itemLines: reader.itemLines, dollarKeys: reader.dollarKeys };
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  }
}
