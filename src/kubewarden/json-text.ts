/**
 * Editing JSON as text, so that what the policy did not change stays byte for
 * byte what the API server sent.
 *
 * Why: policy-server diffs the request object against `mutated_object` (serde)
 * and sends the API server that JSONPatch. A JSON.parse/JSON.stringify round
 * trip turns an untouched `9007199254740993` into `…992`, `1e400` into `null`
 * and `-0` into `0`: the patch would then change fields nobody touched. So the
 * mutating policy locates the byte ranges of the values it replaces with one
 * linear, non-recursive scan, splices the new JSON in, and answers with the
 * spliced text.
 *
 * The scanner assumes text that JSON.parse has already accepted (the input
 * guard parses first); on anything unexpected it reports failure rather than
 * guessing. Duplicate keys follow JSON.parse: the last occurrence wins.
 */

export type JsonPath = readonly (string | number)[];

export interface MemberRange {
  /** Start of the member: the key's opening quote in an object, the value itself in an array. */
  memberStart: number;
  valueStart: number;
  /** One past the value's last character. */
  valueEnd: number;
}

interface TrieNode {
  children: Map<string | number, TrieNode>;
  /** Indexes of the paths that end here. */
  ends: number[];
  /** Indexes of every path that ends at or below this node (to forget them on a duplicate key). */
  below: number[];
}

const newNode = (): TrieNode => ({ children: new Map(), ends: [], below: [] });

function buildTrie(paths: readonly JsonPath[]): TrieNode {
  const root = newNode();
  for (let p = 0; p < paths.length; p++) {
    let node = root;
    node.below.push(p);
    const path = paths[p]!;
    for (let i = 0; i < path.length; i++) {
      let next = node.children.get(path[i]!);
      if (!next) node.children.set(path[i]!, (next = newNode()));
      node = next;
      node.below.push(p);
    }
    node.ends.push(p);
  }
  return root;
}

interface Frame {
  isArray: boolean;
  /** Trie node of this container (null: no path goes through it). */
  node: TrieNode | null;
  /** Array: index of the next element. */
  index: number;
  /** Object: key of the member whose value comes next, and where that member started. */
  key: string;
  keyStart: number;
  /** Object: keys with a trie child already seen here (duplicates reset what was found under them). */
  seen: Set<string> | null;
  /** Paths ending at this container, and where its member started. */
  ends: number[];
  memberStart: number;
  valueStart: number;
}

const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** End (one past the closing quote) of the string starting at `start` (a `"`), or -1. */
export function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return -1;
    let backslashes = 0;
    for (let b = q - 1; b > start && text.charCodeAt(b) === 0x5c; b--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/** End (one past the closing bracket) of the object or array starting at `start`, or -1. */
export function compositeEnd(text: string, start: number): number {
  let depth = 0;
  for (let j = start; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      const e = stringEnd(text, j);
      if (e < 0) return -1;
      j = e - 1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return j + 1;
  }
  return -1;
}

/** A string token's value (`raw` with its quotes): its text when it holds no escape; null when JSON.parse refuses it. */
export function decodeKey(raw: string): string | null {
  if (raw.indexOf("\\") < 0) return raw.slice(1, -1);
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === "string" ? v : null;
  } catch {
    return null;
  }
}

/**
 * The ranges of the values at `paths` (array indexes as numbers), null where a
 * path does not exist. One pass, an explicit stack, cost linear in the text.
 */
export function locateValues(text: string, paths: readonly JsonPath[]): (MemberRange | null)[] | null {
  const found: (MemberRange | null)[] = paths.map(() => null);
  const root = buildTrie(paths);
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;
  /** The trie node for the value about to start, given the current frame. */
  const childNode = (): TrieNode | null => {
    if (stack.length === 0) return root;
    const f = stack[stack.length - 1]!;
    if (!f.node) return null;
    return f.node.children.get(f.isArray ? f.index : f.key) ?? null;
  };
  const finishValue = (ends: number[], memberStart: number, valueStart: number, valueEnd: number) => {
    for (let e = 0; e < ends.length; e++) found[ends[e]!] = { memberStart, valueStart, valueEnd };
  };
  /** After a value inside the current frame: advance the array index. */
  const afterValue = () => {
    if (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.isArray) f.index++;
    }
  };
  let expectKey = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (WS(c) || c === 0x2c /* , */ || c === 0x3a /* : */) {
      if (c === 0x2c && stack.length > 0 && !stack[stack.length - 1]!.isArray) expectKey = true;
      i++;
      continue;
    }
    const top = stack.length > 0 ? stack[stack.length - 1]! : null;
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      const f = stack.pop();
      if (!f) return null;
      finishValue(f.ends, f.memberStart, f.valueStart, i + 1);
      i++;
      expectKey = false;
      afterValue();
      continue;
    }
    if (expectKey) {
      // An object key.
      if (c !== 0x22 || !top || top.isArray) return null;
      const end = stringEnd(text, i);
      if (end < 0) return null;
      const key = decodeKey(text.slice(i, end));
      if (key === null) return null;
      top.key = key;
      top.keyStart = i;
      const child = top.node?.children.get(key);
      if (child) {
        top.seen ??= new Set();
        if (top.seen.has(key)) for (let b = 0; b < child.below.length; b++) found[child.below[b]!] = null;
        top.seen.add(key);
      }
      expectKey = false;
      i = end;
      continue;
    }
    // A value.
    const node = childNode();
    const memberStart = top && !top.isArray ? top.keyStart : i;
    if ((c === 0x7b /* { */ || c === 0x5b) /* [ */ && node === null) {
      // No path runs through this value: skip to its end without a frame per level
      // (deeply nested filler would otherwise cost an allocation per bracket).
      const end = compositeEnd(text, i);
      if (end < 0) return null;
      i = end;
      afterValue();
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push({ isArray: c === 0x5b, node, index: 0, key: "", keyStart: -1, seen: null, ends: node ? node.ends : [], memberStart, valueStart: i });
      expectKey = c === 0x7b;
      i++;
      continue;
    }
    let end: number;
    if (c === 0x22) {
      end = stringEnd(text, i);
      if (end < 0) return null;
    } else {
      end = i;
      while (end < n) {
        const d = text.charCodeAt(end);
        if (WS(d) || d === 0x2c || d === 0x7d || d === 0x5d) break;
        end++;
      }
      if (end === i) return null;
    }
    if (node) finishValue(node.ends, memberStart, i, end);
    i = end;
    afterValue();
  }
  return stack.length === 0 ? found : null;
}

export interface JsonEdit {
  path: JsonPath;
  /** The new value; undefined deletes the member (object keys only). */
  value?: unknown;
}

/**
 * An edit's outcome. `length` is set when the edited text would be longer than
 * the caller's `maxLength` (its length in UTF-16 code units, computed before
 * any text is built).
 */
export type EditResult = { ok: true; text: string } | { ok: false; message: string; length?: number };

/**
 * Apply `edits` to the JSON `text`, leaving every other byte as it was. Each
 * edited path must exist. Deleting a member also removes one adjacent comma.
 * The result is checked: it must parse, and each edited path must hold the new
 * value (or be gone). A result longer than `maxLength` is not built.
 */
export function editJsonText(text: string, edits: readonly JsonEdit[], maxLength = Infinity): EditResult {
  if (edits.length === 0) return text.length > maxLength ? tooLong(text.length, maxLength) : { ok: true, text };
  const ranges = locateValues(
    text,
    edits.map((e) => e.path),
  );
  if (!ranges) return { ok: false, message: "the JSON text could not be scanned" };
  return splice(text, 0, text.length, ranges, edits, maxLength);
}

/**
 * The value at `at` in the JSON `text`, with `edits` (paths relative to that
 * value) applied as editJsonText does: one scan of `text` finds the value and
 * every edited path, and only the value's own text is returned. This is how the
 * mutating policy edits `request.object` without scanning the request twice.
 */
export function editJsonValue(text: string, at: JsonPath, edits: readonly JsonEdit[], maxLength = Infinity): EditResult {
  const paths: JsonPath[] = [at];
  for (let e = 0; e < edits.length; e++) paths.push([...at, ...edits[e]!.path]);
  const ranges = locateValues(text, paths);
  if (!ranges) return { ok: false, message: "the JSON text could not be scanned" };
  const value = ranges[0];
  if (!value) return { ok: false, message: `${JSON.stringify(at)} not found in the JSON text` };
  if (edits.length === 0) {
    const length = value.valueEnd - value.valueStart;
    return length > maxLength ? tooLong(length, maxLength) : { ok: true, text: text.slice(value.valueStart, value.valueEnd) };
  }
  return splice(text, value.valueStart, value.valueEnd, ranges.slice(1), edits, maxLength);
}

const tooLong = (length: number, maxLength: number): EditResult => ({ ok: false, message: `the edited text would be ${length} characters, more than ${maxLength}`, length });

/**
 * text[from, to) with the edits at `ranges` (all inside it) applied. The pieces
 * are planned as index ranges first, so an over-long result costs no copying;
 * then joined once (repeated `+=` on a growing string copies it every time).
 */
function splice(text: string, from: number, to: number, ranges: readonly (MemberRange | null)[], edits: readonly JsonEdit[], maxLength: number): EditResult {
  const splices: { start: number; edit: number }[] = [];
  for (let e = 0; e < edits.length; e++) {
    const r = ranges[e];
    if (!r) return { ok: false, message: `${JSON.stringify(edits[e]!.path)} not found in the JSON text` };
    splices.push({ start: r.memberStart, edit: e });
  }
  splices.sort((a, b) => a.start - b.start);
  /** Kept text as [start, end) pairs, each followed by its inserted text ("" for deletions). */
  const kept: number[] = [];
  const inserted: string[] = [];
  let length = 0;
  let at = from;
  const keep = (end: number, insert: string) => {
    kept.push(at, end);
    inserted.push(insert);
    length += end - at + insert.length;
  };
  for (let s = 0; s < splices.length; s++) {
    const edit = edits[splices[s]!.edit]!;
    const r = ranges[splices[s]!.edit]!;
    if (edit.value !== undefined) {
      if (r.valueStart < at) return { ok: false, message: "overlapping edits" };
      keep(r.valueStart, JSON.stringify(edit.value));
      at = r.valueEnd;
      continue;
    }
    if (r.memberStart === r.valueStart) return { ok: false, message: "only object members can be deleted" };
    // Prefer the comma before the member; if it is gone already (the previous member was
    // deleted with it) or absent (first member), take the one after.
    let before = r.memberStart - 1;
    while (before >= at && WS(text.charCodeAt(before))) before--;
    let start: number;
    let end = r.valueEnd;
    if (before >= at && text.charCodeAt(before) === 0x2c) start = before;
    else {
      start = r.memberStart;
      let after = r.valueEnd;
      while (after < to && WS(text.charCodeAt(after))) after++;
      if (after < to && text.charCodeAt(after) === 0x2c) {
        end = after + 1;
        while (end < to && WS(text.charCodeAt(end))) end++;
      }
    }
    if (start < at) return { ok: false, message: "overlapping edits" };
    keep(start, "");
    at = end;
  }
  keep(to, "");
  if (length > maxLength) return tooLong(length, maxLength);
  const parts: string[] = [];
  for (let p = 0; p < inserted.length; p++) parts.push(text.slice(kept[2 * p]!, kept[2 * p + 1]!), inserted[p]!);
  return verify(parts.join(""), edits);
}

function verify(text: string, edits: readonly JsonEdit[]): EditResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `the edited text is not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  for (let e = 0; e < edits.length; e++) {
    const { path, value } = edits[e]!;
    let node: unknown = parsed;
    for (let i = 0; i < path.length - 1; i++) node = typeof node === "object" && node !== null ? (node as Record<string | number, unknown>)[path[i]!] : undefined;
    const key = path[path.length - 1]!;
    const container = typeof node === "object" && node !== null ? (node as Record<string | number, unknown>) : null;
    const present = container !== null && Object.hasOwn(container, key);
    const ok = value === undefined ? container !== null && !present : present && JSON.stringify(container[key]) === JSON.stringify(value);
    if (!ok) return { ok: false, message: `the edit at ${JSON.stringify(path)} did not take` };
  }
  return { ok: true, text };
}
