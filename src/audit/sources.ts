/**
 * The source text behind the reports: the repository root SARIF URIs are
 * relative to, and a `SourceAccess` that re-reads the audited files.
 *
 * `textSourceAccess` is the stop-gap until manifest reading keeps positions
 * itself (`ManifestObject.locate`): it parses each file once more with the same
 * parser options as manifest reading, so document indexes agree.
 */
import type { Operation } from "fast-json-patch";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";
import { applyPatchToDocument } from "../cli/fix.js";
import type { AuditResult } from "../cli/audit-core.js";
import type { ManifestError, ManifestObject } from "../cli/manifests.js";
import type { JsonPath, Position, SourceAccess } from "./report.js";

/** The nearest directory from `start` upwards holding `.git` (a repository or worktree root), else `start`. */
export function sourceRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, ".git"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}

interface ParsedFile {
  documents: Document[];
  lines: LineCounter;
}

/** Position of the node at `path` below `root`: a mapping entry's key, a sequence item's start. */
export function nodePosition(root: unknown, path: JsonPath, lines: LineCounter): Position | null {
  let node: unknown = root;
  let at: number | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(segment));
      if (!pair) return null;
      at = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) return null;
      at = item.range?.[0];
      node = item;
    } else return null;
  }
  if (path.length === 0) at = (node as Node | null)?.range?.[0];
  if (at === undefined) return null;
  const { line, col } = lines.linePos(at);
  return { line, column: col };
}

const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false } as const;

/**
 * SourceAccess over the files' text. `readText` answers a reported file name
 * ("<stdin>" included) with its text, or null.
 */
export function textSourceAccess(readText: (file: string) => string | null): SourceAccess {
  const cache = new Map<string, ParsedFile | null>();
  const parsed = (file: string): ParsedFile | null => {
    if (!cache.has(file)) {
      const text = readText(file);
      const lines = new LineCounter();
      const documents = text === null ? null : parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
      cache.set(file, Array.isArray(documents) ? { documents, lines } : null);
    }
    return cache.get(file)!;
  };
  return {
    locate(manifest: ManifestObject, path: JsonPath): Position | null {
      const file = parsed(manifest.file);
      const doc = file?.documents[manifest.documentIndex];
      if (!file || !doc) return null;
      return nodePosition(doc.contents, manifest.itemIndex === null ? path : ["items", manifest.itemIndex, ...path], file.lines);
    },
    locateError(error: ManifestError): Position | null {
      const file = error.documentIndex === null ? null : parsed(error.file);
      const doc = file?.documents[error.documentIndex!];
      if (!file || !doc) return null;
      const offset = doc.errors[0]?.pos[0] ?? (doc.contents as Node | null)?.range?.[0];
      if (offset === undefined) return null;
      const { line, col } = file.lines.linePos(offset);
      return { line, column: col };
    },
    fixedText(result: AuditResult) {
      const before = readText(result.manifest.file);
      if (before === null || !result.patch) return null;
      return { before, after: applyToText(before, result.manifest, result.patch) };
    },
  };
}

/** The text with one object's patch applied, changing only that object's document (as `--fix` does). */
function applyToText(text: string, manifest: ManifestObject, patch: Operation[]): string {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return text;
  if (/\.json$/i.test(manifest.file) && documents.length === 1) {
    // JSON has no comments to keep: re-serialise with the file's indentation, as --fix does.
    applyPatchToDocument(documents[0]!, manifest.itemIndex === null ? [] : ["items", manifest.itemIndex], patch);
    const indent = /^[ \t]+/m.exec(text)?.[0] ?? "  ";
    return JSON.stringify(documents[0]!.toJS(), null, indent) + (text.endsWith("\n") ? "\n" : "");
  }
  const doc = documents[manifest.documentIndex];
  if (!doc?.range) return text;
  applyPatchToDocument(doc, manifest.itemIndex === null ? [] : ["items", manifest.itemIndex], patch);
  const start = manifest.documentIndex === 0 ? 0 : doc.range[0];
  const end = doc.range[2];
  let rendered = doc.toString(STRINGIFY);
  if (!text.slice(start, end).endsWith("\n")) rendered = rendered.replace(/\n$/, "");
  return text.slice(0, start) + rendered + text.slice(end);
}
