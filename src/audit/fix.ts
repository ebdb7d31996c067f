/**
 * `audit --fix`: apply the rewrite policy's JSON Patches to the files, against
 * the exact bytes that were audited. Edits go through the yaml Document model,
 * so comments, key order and the formatting of untouched parts survive;
 * documents without changes are copied byte for byte, and so are a UTF-8 BOM
 * and CRLF line endings. A file that changed since it was read is left alone;
 * a file is replaced atomically (temporary file + rename).
 *
 * Files are written only inside what the user named (see `writePlan`): a
 * symlink found in a folder that leads outside it, or a named file that is
 * itself a symlink to elsewhere, is reported and left alone unless
 * `throughSymlinks`; a symlink is never replaced by a file (the file it leads
 * to is written); and only the very file that was audited (same device and
 * inode, same bytes) is replaced.
 */
import fastJsonPatch, { type Operation } from "fast-json-patch";
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { isAlias, isMap, isScalar, isSeq, Pair, type Document, type Node } from "yaml";
import type { AuditResult } from "./evaluate.js";
import { DEFAULT_MAX_ALIAS_COUNT, type FileIdentity, isMergeKey, parseYamlDocuments, type ManifestSource } from "./read.js";

/** `/spec/template/0/a~1b` → ["spec", "template", 0, "a/b"] */
export function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false } as const;

/** A fix that cannot be applied faithfully to the YAML source: the file is left as it is. */
export class UnfixableError extends Error {}

function pairIndex(map: Node, key: string | number): number {
  if (!isMap(map)) return -1;
  return map.items.findIndex((p) => isScalar(p.key) && String(p.key.value) === String(key));
}

/**
 * Make every collection on `path` (except the last segment) belong to this
 * object alone: an alias is replaced by a copy of its anchor's value, and a key
 * that only comes from a merge key (`<<: *base`) is copied in. Other users of
 * the anchor keep what they had.
 */
function materialize(doc: Document, path: (string | number)[]): void {
  let node = doc.contents as Node | null;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    if (!node) return;
    let child: unknown;
    if (isMap(node)) {
      let at = pairIndex(node, segment);
      if (at < 0) {
        const merged = mergedValue(doc, node, String(segment));
        if (merged === undefined) return; // a new key: setIn creates it
        node.items.push(new Pair(doc.createNode(String(segment)), merged.clone()));
        at = node.items.length - 1;
      }
      const pair = node.items[at]!;
      if (isAlias(pair.value)) pair.value = (pair.value.resolve(doc) as Node).clone();
      child = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (isAlias(item)) node.items[segment] = (item.resolve(doc) as Node).clone();
      child = node.items[segment];
    } else return;
    node = child as Node | null;
  }
}

function mergedValue(doc: Document, map: Node, key: string): Node | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) continue;
    for (const source of isSeq(pair.value) ? pair.value.items : [pair.value]) {
      const target = isAlias(source) ? (source.resolve(doc) as Node | undefined) : (source as Node | undefined);
      if (!isMap(target)) continue;
      const at = pairIndex(target, key);
      if (at >= 0) {
        const value = target.items[at]!.value as Node;
        return isAlias(value) ? (value.resolve(doc) as Node) : value;
      }
      const deeper = mergedValue(doc, target, key);
      if (deeper) return deeper;
    }
  }
  return undefined;
}

/**
 * Apply a JSON Patch to the document (the object at `base`). A key added to a
 * map right after a key was removed from it takes the removed key's place: a
 * replaced probe handler (httpGet → exec) stays where the old one was.
 */
export function applyPatchToDocument(doc: Document, base: (string | number)[], patch: Operation[]): void {
  const freedSlot = new Map<string, number>();
  for (const op of patch) {
    const path = [...base, ...pointerSegments(op.path)];
    materialize(doc, path);
    const parentPath = path.slice(0, -1);
    const key = path[path.length - 1]!;
    const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
    const parentKey = JSON.stringify(parentPath);
    if (op.op === "remove") {
      if (isMap(parent)) {
        const at = pairIndex(parent as Node, key);
        if (at < 0) throw new UnfixableError(`${op.path} is not written in this document (a merge key brings it in): fix it by hand`);
        freedSlot.set(parentKey, at);
      }
      doc.deleteIn(path);
    } else if (op.op === "add" || op.op === "replace") {
      const slot = freedSlot.get(parentKey);
      if (isMap(parent) && slot !== undefined && pairIndex(parent as Node, key) < 0) {
        parent.items.splice(Math.min(slot, parent.items.length), 0, new Pair(doc.createNode(key), doc.createNode(op.value)));
        freedSlot.delete(parentKey);
      } else doc.setIn(path, doc.createNode(op.value));
    } else throw new UnfixableError(`unsupported JSON Patch operation ${op.op} at ${op.path}`);
  }
}

/** Deep equality of JSON values, key order ignored. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function valueAt(doc: Document, base: (string | number)[]): unknown {
  let v: unknown = doc.toJS({ maxAliasCount: DEFAULT_MAX_ALIAS_COUNT });
  for (const s of base) v = (v as Record<string | number, unknown>)?.[s];
  return v;
}

/**
 * Patch one object in its document, then check that the document now holds
 * exactly what the patch says (aliases and merge keys make that worth checking).
 */
function patchObject(doc: Document, base: (string | number)[], patch: Operation[]): void {
  const before = valueAt(doc, base);
  const expected = fastJsonPatch.applyPatch(structuredClone(before), patch, false, false).newDocument;
  applyPatchToDocument(doc, base, patch);
  if (!sameJson(valueAt(doc, base), expected)) throw new UnfixableError("the rewrite could not be applied to the YAML faithfully (anchors, aliases or merge keys): fix it by hand with --diff");
}

export interface FixOutcome {
  file: string;
  /** The results whose patch was written to the file. */
  fixed: AuditResult[];
  /** Results that have a patch but were not written, with the reason. */
  notFixed: { result: AuditResult; reason: string }[];
  /** The file is another name of one fixed before: its results the fix there covered, and that name. */
  fixedAs?: { file: string; results: AuditResult[] };
}

const BOM = "\uFEFF";

export interface FixOptions {
  /**
   * The paths the user named (folders and files). A file is written only when
   * it is one of the named files, or lies inside a named folder once every
   * symlink is resolved. Empty: no limit (library use).
   */
  roots?: readonly string[];
  /** Also write files that symlinks lead to outside `roots` (--fix-through-symlinks). */
  throughSymlinks?: boolean;
}

const inside = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/**
 * Where `--fix` may write the file read at `path`: its real path, or why not.
 * - a file found in a named folder: its real path must lie inside that folder's
 *   real path (a symlink — to the file or to a folder on the way — leading
 *   outside is refused);
 * - a named file: it must not itself be a symlink to a file elsewhere (the
 *   folders on the path the user typed are the user's own).
 */
export function writePlan(path: string, roots: readonly string[], throughSymlinks: boolean): { target: string } | { refused: string } {
  let target: string;
  try {
    target = realpathSync(path);
  } catch (e) {
    return { refused: `cannot resolve ${path}: ${(e as Error).message}` };
  }
  if (roots.length === 0 || throughSymlinks) return { target };
  const absolute = resolve(path);
  for (const root of roots) {
    if (root === "-") continue;
    const named = resolve(root);
    if (named === absolute) {
      // The named file itself: written in place unless it is a symlink to another file.
      if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) return { target };
      continue;
    }
    if (inside(absolute, named)) {
      const realRoot = realpathOr(named);
      if (inside(target, realRoot)) return { target };
    }
  }
  return { refused: `it is reached through a symbolic link and is really ${target}, outside the paths given (${roots.join(", ")}): not written (--fix-through-symlinks allows it)` };
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Rewrite each file that has patched results, from the bytes that were audited. */
export function fixFiles(results: AuditResult[], sources: Map<string, ManifestSource>, options: FixOptions = {}): FixOutcome[] {
  const byFile = new Map<string, AuditResult[]>();
  for (const r of results) {
    if (!r.patch || !sources.has(r.manifest.file)) continue;
    const list = byFile.get(r.manifest.file);
    if (list) list.push(r);
    else byFile.set(r.manifest.file, [r]);
  }
  const outcomes: FixOutcome[] = [];
  /** Real path → the outcome it was fixed in: a file reached under two names is written once. */
  const written = new Map<string, FixOutcome>();
  for (const [file, fileResults] of byFile) {
    const source = sources.get(file)!;
    const outcome: FixOutcome = { file, fixed: [], notFixed: [] };
    outcomes.push(outcome);
    const refuse = (reason: string) => {
      for (const r of fileResults) outcome.notFixed.push({ result: r, reason });
    };
    const plan = writePlan(source.path, options.roots ?? [], options.throughSymlinks === true);
    if ("refused" in plan) {
      refuse(plan.refused);
      continue;
    }
    const other = written.get(plan.target);
    if (other !== undefined) {
      // The same document of the same bytes: what was fixed there is fixed here.
      const done = new Set(other.fixed.map((r) => `${r.manifest.documentIndex}/${r.manifest.itemIndex}`));
      const covered = fileResults.filter((r) => done.has(`${r.manifest.documentIndex}/${r.manifest.itemIndex}`));
      outcome.fixedAs = { file: other.file, results: covered };
      for (const r of fileResults) if (!covered.includes(r)) outcome.notFixed.push({ result: r, reason: `the same file as ${other.file}, where it was not fixed` });
      continue;
    }
    written.set(plan.target, outcome);
    let current: Buffer;
    try {
      current = readFileSync(plan.target);
    } catch (e) {
      refuse(`cannot read the file again: ${(e as Error).message}`);
      continue;
    }
    if (!current.equals(source.bytes) || !sameFile(plan.target, source.identity)) {
      refuse("the file changed since it was audited: not fixed (audit it again)");
      continue;
    }
    const text = source.bytes.toString("utf8");
    let rewritten: string;
    try {
      rewritten = /\.json$/i.test(file) ? fixJsonText(text, fileResults, outcome) : fixYamlText(text, fileResults, outcome);
    } catch (e) {
      refuse(`not fixed: ${(e as Error).message}`);
      outcome.fixed = [];
      continue;
    }
    if (outcome.fixed.length === 0) continue;
    try {
      writeAtomically(plan.target, rewritten, source.identity);
    } catch (e) {
      refuse(`cannot write: ${(e as Error).message}`);
      outcome.fixed = [];
    }
  }
  return outcomes;
}

/** Is `path` (not following a final symlink) a regular file with this identity? No identity: nothing to compare. */
function sameFile(path: string, identity: FileIdentity | undefined): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) return false;
  return identity === undefined || (st.dev === identity.dev && st.ino === identity.ino);
}

/**
 * What `--fix` would write for `text` (a file's audited bytes) given these
 * results' patches, without writing anything: SARIF fixes and previews use it,
 * so they show exactly what `--fix` does.
 */
export function fixedFileText(file: string, text: string, results: AuditResult[]): { text: string; outcome: FixOutcome } {
  const outcome: FixOutcome = { file, fixed: [], notFixed: [] };
  const patched = results.filter((r) => r.patch);
  try {
    return { text: /\.json$/i.test(file) ? fixJsonText(text, patched, outcome) : fixYamlText(text, patched, outcome), outcome };
  } catch (e) {
    return { text, outcome: { file, fixed: [], notFixed: patched.map((result) => ({ result, reason: `not fixed: ${(e as Error).message}` })) } };
  }
}

function fixYamlText(text: string, results: AuditResult[], outcome: FixOutcome): string {
  const bom = text.startsWith(BOM) ? BOM : "";
  const body = text.slice(bom.length);
  const docs = parseYamlDocuments(body);
  const changed = new Set<number>();
  for (const r of results) {
    const doc = docs[r.manifest.documentIndex];
    if (!doc || doc.errors.length > 0) {
      outcome.notFixed.push({ result: r, reason: "document not found in the audited bytes" });
      continue;
    }
    // Try on a copy first, so a patch that cannot be applied leaves the document untouched.
    const trial = doc.clone();
    try {
      patchObject(trial, r.manifest.itemIndex === null ? [] : ["items", r.manifest.itemIndex], r.patch!);
    } catch (e) {
      // UnfixableError, or the yaml model refusing an edit (e.g. a path through a scalar alias).
      outcome.notFixed.push({ result: r, reason: `not fixed: ${(e as Error).message}` });
      continue;
    }
    docs[r.manifest.documentIndex] = trial as typeof doc;
    changed.add(r.manifest.documentIndex);
    outcome.fixed.push(r);
  }
  return bom + spliceDocuments(body, docs, changed);
}

/**
 * The indentation a document is written with, so that re-rendering it keeps
 * its untouched lines: the indentation step, and whether block sequences sit
 * at their parent key's indentation (`containers:\n- name: …`, kubectl's and
 * kustomize's style) or one step deeper.
 */
export function layoutOf(text: string): { indent: number; indentSeq: boolean } {
  let indent = 0;
  let compact = 0;
  let indented = 0;
  let keyIndent = -1; // indentation of the previous line when it ended with "key:"
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const depth = line.length - trimmed.length;
    if (depth > 0 && (indent === 0 || depth < indent)) indent = depth;
    if (keyIndent >= 0 && trimmed.startsWith("- ")) {
      if (depth === keyIndent) compact++;
      else if (depth > keyIndent) indented++;
    }
    keyIndent = trimmed.endsWith(":") && !trimmed.startsWith("- ") ? depth : trimmed.startsWith("- ") && trimmed.endsWith(":") ? depth + 2 : -1;
  }
  return { indent: Math.min(Math.max(indent, 2), 8), indentSeq: compact <= indented };
}

/**
 * Replace the text of changed documents only; everything else stays byte-identical.
 * A document's text runs from its `---` marker (the file start for the first one)
 * to its end, so its comments are rendered once, by the document itself.
 */
function spliceDocuments(text: string, docs: Document[], changed: Set<number>): string {
  let out = "";
  let at = 0;
  docs.forEach((doc, i) => {
    if (!changed.has(i) || !doc.range) return;
    const start = i === 0 ? 0 : doc.range[0];
    const end = doc.range[2];
    const original = text.slice(start, end);
    out += text.slice(at, start);
    let rendered = doc.toString({ ...STRINGIFY, ...layoutOf(original) });
    if (!original.endsWith("\n")) rendered = rendered.replace(/\n$/, "");
    if (original.includes("\r\n")) rendered = rendered.replace(/\r?\n/g, "\r\n");
    out += rendered;
    at = end;
  });
  return out + text.slice(at);
}

function fixJsonText(text: string, results: AuditResult[], outcome: FixOutcome): string {
  // JSON has no comments to keep: patch the parsed value (key order kept) and keep the indentation.
  const bom = text.startsWith(BOM) ? BOM : "";
  const body = text.slice(bom.length);
  const indent = /^[ \t]+/m.exec(body)?.[0] ?? "  ";
  const docs = parseYamlDocuments(body);
  if (docs.length !== 1 || docs[0]!.errors.length > 0) throw new UnfixableError("expected one JSON document");
  const doc = docs[0]!;
  for (const r of results) {
    patchObject(doc, r.manifest.itemIndex === null ? [] : ["items", r.manifest.itemIndex], r.patch!);
    outcome.fixed.push(r);
  }
  const eol = body.includes("\r\n") ? "\r\n" : "\n";
  let json = JSON.stringify(doc.toJS({ maxAliasCount: DEFAULT_MAX_ALIAS_COUNT }), null, indent);
  if (eol === "\r\n") json = json.replace(/\n/g, "\r\n");
  return bom + json + (/\r?\n$/.test(body) ? eol : "");
}

/**
 * Replace a file's content in one step (temporary file in the same folder, then
 * rename), keeping its mode. `target` is a real path (no symlink anywhere in it):
 * the temporary file is created with O_EXCL (never through a symlink), and just
 * before the rename the folder must still be where it was (no folder on the way
 * swapped for a symlink) and `target` still the audited file. Node has no
 * renameat(2): a swap in the few microseconds between that check and the rename
 * is not caught (the tree CI checks out is not written by anyone else meanwhile).
 */
function writeAtomically(target: string, content: string, identity: FileIdentity | undefined): void {
  const folder = dirname(target);
  const mode = statSync(target).mode & 0o7777;
  const temp = join(folder, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, content, { flag: "wx", mode });
    const fd = openSync(temp, "r");
    let written: { dev: number; ino: number };
    try {
      written = fstatSync(fd);
    } finally {
      closeSync(fd);
    }
    if (realpathSync(folder) !== folder || realpathSync(temp) !== temp) throw new Error(`${folder} moved or became a symbolic link while fixing: not written`);
    const st = lstatSync(temp);
    if (st.dev !== written.dev || st.ino !== written.ino) throw new Error(`${relative(process.cwd(), temp)} was replaced while fixing: not written`);
    if (!sameFile(target, identity)) throw new Error("the file was replaced while fixing: not written");
    renameSync(temp, target);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw e;
  }
}
