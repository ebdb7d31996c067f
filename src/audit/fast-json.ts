/**
 * Documents that are JSON texts — `kubectl get -o json` output, .json
 * manifests — read by JSON.parse where that gives what the yaml package gives
 * for the same text (YAML 1.1 flow collections, as the reference reader reads
 * them); anything else is left to it. The yaml package needed ~0.5 µs a byte
 * and ~50 bytes of memory per byte for such text (a 20 MB List of 5,000
 * objects: 10 s and 1 GB); JSON.parse reads it natively.
 *
 * One linear pass over the text first decides (`scanJson`): no tab (the yaml
 * package has its own rules for them), no `<<` (a merge key in YAML 1.1), no nesting deeper than the yaml package
 * is let read (MAX_FLOW_NESTING), every number resolving under the YAML 1.1 tags to what JSON.parse
 * makes of it (`1e3` is a string in YAML 1.1), nothing but white space around
 * the root object, at most one top-level `items`; and where a List's items and
 * the contents start, for the objects' lines. Reports' locations come from
 * `jsonLocator`, which answers as locateIn does on the yaml package's document.
 *
 * Pure: the YAML 1.1 resolution of a number token is given by the caller (the
 * fast YAML reader's), so this module needs nothing of the yaml package; where a
 * string or a container ends, and a key's value, are the mutating policy's own
 * JSON text scanner's (src/kubewarden/json-text.ts).
 */

import { compositeEnd, decodeKey, stringEnd } from "../kubewarden/json-text.js";

const SPACE = 32;
const NEWLINE = 10;
const QUOTE = 34;

/** Past the white space at text[k] (no tab: scanJson leaves a text with one to yaml). */
function skipSpace(text: string, k: number): number {
  while (text.charCodeAt(k) === SPACE || text.charCodeAt(k) === NEWLINE || text.charCodeAt(k) === 13) k++;
  return k;
}

function isNumberCharacter(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;
}

/** Whether a number token is a plain decimal integer YAML 1.1 and JSON read alike without asking (no sign on 0, ≤ 15 digits). */
function isPlainInteger(token: string): boolean {
  const neg = token.charCodeAt(0) === 45 ? 1 : 0;
  const digits = token.length - neg;
  if (digits < 1 || digits > 15) return false;
  if (token.charCodeAt(neg) === 48) return token.length === 1;
  for (let k = neg; k < token.length; k++) {
    const c = token.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export interface JsonScan {
  /** Where the root object opens, and its 0-based line in the text. */
  contents: number;
  contentsLine: number;
  /** 0-based lines where the elements of the top-level `items` array start (null: no such array). */
  itemLines: number[] | null;
}

/**
 * Where the root object of a document that is a JSON text opens: after white
 * space (spaces and line breaks), and for a document after the first of its
 * stream, its `---` line; -1 when the text is not that.
 */
export function jsonStart(text: string, prelude: boolean): number {
  let i = 0;
  if (!prelude) {
    if (!text.startsWith("---")) return -1;
    i = 3;
    while (text.charCodeAt(i) === SPACE) i++;
    if (text.charCodeAt(i) !== NEWLINE) return -1;
  }
  while (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === NEWLINE) i++;
  return text.charCodeAt(i) === 123 /* { */ ? i : -1;
}

/**
 * The checks and places above, in one pass from the root object at `start`;
 * null when the yaml package must read the text. `resolveNumber` gives a
 * number token's value under the reference reader's YAML 1.1 tags; `maxDepth`
 * is how deep the yaml package is let read flow collections (nothing here
 * recurses, nor does JSON.parse in JavaScript: deeper, both readers say "nested
 * too deep").
 */
export function scanJson(text: string, start: number, resolveNumber: (token: string) => unknown, maxDepth: number): JsonScan | null {
  if (text.includes("\t")) return null;
  // A `<<` key merges in YAML 1.1 (as the reference reader reads it), a member to JSON.parse: any `<<`,
  // written or escaped, leaves the text to the yaml package.
  if (text.includes("<<") || text.includes("\\u003c") || text.includes("\\u003C")) return null;
  const n = text.length;
  let line = 0;
  for (let k = text.indexOf("\n"); k >= 0 && k < start; k = text.indexOf("\n", k + 1)) line++;
  const contentsLine = line;
  let depth = 0;
  let itemsSeen = false;
  /** Inside the top-level `items` array (its elements at depth 2). */
  let inItems = false;
  let itemLines: number[] | null = null;
  let expectItem = false;
  let i = start;
  let closed = -1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NEWLINE) {
      line++;
      i++;
      continue;
    }
    if (c === SPACE || c === 13) {
      i++;
      continue;
    }
    if (inItems && expectItem && depth === 2 && c !== 93 /* ] */) {
      itemLines!.push(line);
      expectItem = false;
    }
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return null;
      // A key of the root object is followed by its colon.
      const colon = depth === 1 ? skipSpace(text, end) : -1;
      if (colon >= 0 && text.charCodeAt(colon) === 58 /* : */) {
        const key = decodeKey(text.slice(i, end));
        if (key === null) return null; // an escape JSON.parse refuses: the yaml package says what is wrong
        if (key === "items") {
          if (itemsSeen) return null; // located at the first, read from the last: the yaml package's to say
          itemsSeen = true;
          if (text.charCodeAt(skipSpace(text, colon + 1)) === 91 /* [ */) {
            inItems = true;
            itemLines = [];
          }
        }
      }
      i = end;
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return null;
      if (inItems && depth === 2) expectItem = true;
      i++;
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
      if (inItems && depth === 1) inItems = false;
      i++;
      if (depth === 0) {
        closed = i;
        break;
      }
      continue;
    }
    if (c === 44 /* , */) {
      if (inItems && depth === 2) expectItem = true;
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < n && isNumberCharacter(text.charCodeAt(j))) j++;
      const token = text.slice(i, j);
      if (!isPlainInteger(token) && !Object.is(resolveNumber(token), Number(token))) return null;
      i = j;
      continue;
    }
    i++; // true, false, null, the colon; anything else is JSON.parse's to refuse
  }
  if (closed < 0) return null;
  for (let k = closed; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c !== SPACE && c !== NEWLINE) return null;
  }
  return { contents: start, contentsLine, itemLines };
}

/** A container's entries, as the locator reads them: a pair's key and where key and value start; an element's start. */
type Entries = { pairs: { key: string; keyAt: number; valueAt: number }[] } | { items: number[] };

/** A position as locateIn gives it: 1-based line of the text and column. */
export interface JsonPosition {
  line: number;
  column: number;
}

/**
 * Where a path leads in a document that is a JSON text (its root object at
 * `contents`; for a List's item `itemIndex`, from that item): as locateIn on
 * the yaml package's document — a pair at its key's first character (the first
 * pair with that key), an element at its first character; null where the path
 * leads nowhere, undefined for an empty path (the yaml package's). Each
 * container is read once, when a path first goes through it.
 */
export function jsonLocator(text: string, contents: number): (itemIndex: number | null, path: readonly (string | number)[]) => JsonPosition | null | undefined {
  const entries = new Map<number, Entries>();
  const valueEnd = (at: number): number => {
    const c = text.charCodeAt(at);
    const end = c === QUOTE ? stringEnd(text, at) : c === 123 || c === 91 ? compositeEnd(text, at) : -2;
    if (end === -1) throw new Error("not a text JSON.parse reads"); // (it did: never)
    if (end >= 0) return end;
    let k = at;
    while (k < text.length && !",}] \n\r".includes(text[k]!)) k++;
    return k;
  };
  const entriesAt = (at: number): Entries | null => {
    const known = entries.get(at);
    if (known) return known;
    const open = text.charCodeAt(at);
    if (open !== 123 && open !== 91) return null;
    const found: Entries = open === 123 ? { pairs: [] } : { items: [] };
    let k = skipSpace(text, at + 1);
    while (k < text.length && text.charCodeAt(k) !== 125 && text.charCodeAt(k) !== 93) {
      if ("pairs" in found) {
        const keyEnd = valueEnd(k);
        const key = decodeKey(text.slice(k, keyEnd));
        if (key === null) throw new Error("not a text JSON.parse reads");
        const valueAt = skipSpace(text, skipSpace(text, keyEnd) + 1);
        found.pairs.push({ key, keyAt: k, valueAt });
        k = valueEnd(valueAt);
      } else {
        found.items.push(k);
        k = valueEnd(k);
      }
      k = skipSpace(text, k);
      if (text.charCodeAt(k) === 44 /* , */) k = skipSpace(text, k + 1);
    }
    entries.set(at, found);
    return found;
  };
  let lineStarts: number[] | null = null;
  const position = (at: number): JsonPosition => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let k = text.indexOf("\n"); k >= 0; k = text.indexOf("\n", k + 1)) lineStarts.push(k + 1);
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - lineStarts[lo]! + 1 };
  };
  return (itemIndex, path) => {
    if (path.length === 0) return undefined;
    try {
      return locate(itemIndex, path);
    } catch {
      return undefined; // not a text JSON.parse reads: the yaml package's to place
    }
  };
  function locate(itemIndex: number | null, path: readonly (string | number)[]): JsonPosition | null {
    let node = contents;
    if (itemIndex !== null) {
      const root = entriesAt(node);
      const items = root && "pairs" in root ? root.pairs.find((p) => p.key === "items") : undefined;
      const list = items ? entriesAt(items.valueAt) : null;
      const item = list && "items" in list ? list.items[itemIndex] : undefined;
      if (item === undefined) return null;
      node = item;
    }
    let at = -1;
    for (const segment of path) {
      const here = entriesAt(node);
      if (here === null) return null; // a scalar: neither a mapping nor a sequence
      if ("pairs" in here) {
        const key = String(segment);
        const pair = here.pairs.find((p) => p.key === key); // the first, as findPair
        if (!pair) return null;
        at = pair.keyAt;
        node = pair.valueAt;
      } else if (typeof segment === "number") {
        const item = here.items[segment];
        if (item === undefined) return null;
        at = item;
        node = item;
      } else return null;
    }
    return position(at);
  }
}
