/**
 * Reading Kubernetes manifests the way users have them: multi-document YAML,
 * JSON, folders (recursively), stdin, and `List` objects (kubectl get -o json).
 * Every object keeps its file, document index and line for reports.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";

export interface ManifestObject {
  /** File path as given (or "<stdin>"). */
  file: string;
  /** 0-based index of the YAML document in the file. */
  documentIndex: number;
  /** 0-based index within a List's items, or null for a top-level object. */
  itemIndex: number | null;
  /** 1-based line where the object starts. */
  line: number;
  object: Record<string, unknown>;
}

export interface ManifestError {
  file: string;
  documentIndex: number | null;
  message: string;
}

export interface ManifestSet {
  objects: ManifestObject[];
  errors: ManifestError[];
  /** Files that could not be read at all (missing, permissions): a usage-level failure. */
  unreadable: ManifestError[];
  files: string[];
}

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

/** Expand paths: folders recursively (manifest files only, sorted), files as given. */
export function manifestFiles(paths: string[], unreadable: ManifestError[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (MANIFEST_EXTENSIONS.test(name)) out.push(p);
    }
  };
  for (const p of paths) {
    if (p === "-") {
      out.push(p);
      continue;
    }
    try {
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    } catch (e) {
      unreadable.push({ file: p, documentIndex: null, message: (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message });
    }
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isListObject(v: Record<string, unknown>): boolean {
  return Array.isArray(v.items) && typeof v.kind === "string" && (v.kind === "List" || v.kind.endsWith("List"));
}

/** Parse one file's text into objects and per-document errors. */
export function parseManifestText(text: string, file: string): { objects: ManifestObject[]; errors: ManifestError[]; documents: Document[] } {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const objects: ManifestObject[] = [];
  const errors: ManifestError[] = [];
  const docs = Array.isArray(documents) ? documents : [];
  const lineOf = (node: Node | null | undefined, fallback: number) => (node?.range ? lineCounter.linePos(node.range[0]).line : fallback);
  docs.forEach((doc, documentIndex) => {
    if (doc.errors.length > 0) {
      errors.push({ file, documentIndex, message: `not valid YAML/JSON: ${doc.errors[0]!.message.split("\n")[0]}` });
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
    const line = lineOf(doc.contents as Node | null, 1);
    if (!isRecord(value)) {
      errors.push({ file, documentIndex, message: `expected a Kubernetes object (a mapping), got ${Array.isArray(value) ? "a list" : typeof value}` });
      return;
    }
    if (isListObject(value)) {
      const itemsNode = isMap(doc.contents) ? doc.contents.get("items", true) : undefined;
      (value.items as unknown[]).forEach((item, itemIndex) => {
        const itemNode = isSeq(itemsNode) ? (itemsNode.items[itemIndex] as Node | undefined) : undefined;
        if (isRecord(item)) objects.push({ file, documentIndex, itemIndex, line: lineOf(itemNode, line), object: item });
        else errors.push({ file, documentIndex, message: `items[${itemIndex}] is not an object` });
      });
      return;
    }
    if (typeof value.kind !== "string" || typeof value.apiVersion !== "string") {
      errors.push({ file, documentIndex, message: "not a Kubernetes object: apiVersion and kind are required" });
      return;
    }
    objects.push({ file, documentIndex, itemIndex: null, line, object: value });
  });
  return { objects, errors, documents: docs };
}

export function readManifests(paths: string[], readStdin: () => string = () => readFileSync(0, "utf8")): ManifestSet {
  const unreadable: ManifestError[] = [];
  const files = manifestFiles(paths.length === 0 ? ["-"] : paths, unreadable);
  const set: ManifestSet = { objects: [], errors: [], unreadable, files: [] };
  for (const file of files) {
    let text: string;
    try {
      text = file === "-" ? readStdin() : readFileSync(file, "utf8");
    } catch (e) {
      unreadable.push({ file, documentIndex: null, message: (e as Error).message });
      continue;
    }
    const name = file === "-" ? "<stdin>" : relative(process.cwd(), file) || file;
    const parsed = parseManifestText(text, name);
    set.files.push(name);
    set.objects.push(...parsed.objects);
    set.errors.push(...parsed.errors);
  }
  return set;
}
