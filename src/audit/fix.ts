/**
 * `audit --fix`: apply the rewrite policy's JSON Patches to the YAML (or JSON)
 * files in place. Edits go through the yaml Document model, so comments and the
 * formatting of untouched parts survive; documents without changes are copied
 * byte for byte.
 */
import type { Operation } from "fast-json-patch";
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments, type Document } from "yaml";
import type { AuditResult } from "./evaluate.js";

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

export function applyPatchToDocument(doc: Document, base: (string | number)[], patch: Operation[]): void {
  for (const op of patch) {
    const path = [...base, ...pointerSegments(op.path)];
    if (op.op === "remove") doc.deleteIn(path);
    else if (op.op === "add" || op.op === "replace") doc.setIn(path, doc.createNode(op.value));
    else throw new Error(`unsupported JSON Patch operation ${op.op} at ${op.path}`);
  }
}

export interface FixOutcome {
  file: string;
  objects: number;
}

/** Rewrite each file that has patched results; returns what changed. */
export function fixFiles(results: AuditResult[]): FixOutcome[] {
  const byFile = new Map<string, AuditResult[]>();
  for (const r of results) {
    if (!r.patch || r.manifest.file === "<stdin>") continue;
    byFile.set(r.manifest.file, [...(byFile.get(r.manifest.file) ?? []), r]);
  }
  const outcomes: FixOutcome[] = [];
  for (const [file, fileResults] of byFile) {
    const text = readFileSync(file, "utf8");
    if (/\.json$/i.test(file)) {
      outcomes.push({ file, objects: fixJsonFile(file, text, fileResults) });
      continue;
    }
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) continue;
    const changed = new Set<number>();
    for (const r of fileResults) {
      const doc = docs[r.manifest.documentIndex];
      if (!doc) continue;
      applyPatchToDocument(doc, r.manifest.itemIndex === null ? [] : ["items", r.manifest.itemIndex], r.patch!);
      changed.add(r.manifest.documentIndex);
    }
    writeFileSync(file, spliceDocuments(text, docs, changed));
    outcomes.push({ file, objects: fileResults.length });
  }
  return outcomes;
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
    out += text.slice(at, start);
    let rendered = doc.toString(STRINGIFY);
    if (!text.slice(start, end).endsWith("\n")) rendered = rendered.replace(/\n$/, "");
    out += rendered;
    at = end;
  });
  return out + text.slice(at);
}

function fixJsonFile(file: string, text: string, results: AuditResult[]): number {
  // JSON has no comments to keep: apply the patches to the parsed value and keep the indentation.
  const indent = /^[ \t]+/m.exec(text)?.[0] ?? "  ";
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.length !== 1) return 0;
  for (const r of results) applyPatchToDocument(docs[0]!, r.manifest.itemIndex === null ? [] : ["items", r.manifest.itemIndex], r.patch!);
  writeFileSync(file, JSON.stringify(docs[0]!.toJS(), null, indent) + (text.endsWith("\n") ? "\n" : ""));
  return results.length;
}
