/**
 * The reader threads' work (read-parallel.ts hands it out): a file's bytes cut
 * at its document markers into segments, segments read into objects, skips and
 * errors as the reference reader (read.ts) reads them, and small files opened
 * and read whole. Kept apart from read-parallel.ts so a reader thread loads
 * only this (reader-worker.ts is its entry).
 */
import { LineCounter } from "yaml";
import { fastReadDocument } from "./fast-yaml.js";
import {
  classifyDocument,
  type DocumentReading,
  type FileIdentity,
  type ManifestError,
  type ManifestSkip,
  parseYamlDocuments,
  type ReadObject,
  readDocument,
  readManifestFile,
  type SourcePosition,
} from "./read.js";
import { keptOf, type WholeObjects } from "./selection.js";


/** A byte range of a file holding one document (the first may hold none), and the 1-based line it starts on. */
export interface Segment {
  start: number;
  end: number;
  line: number;
}

const NL = 0x0a;
const isEmptyByte = (b: number | undefined) => b === undefined || b === 0x20 || b === NL || b === 0x0d || b === 0x09;

export function countNewlines(bytes: Uint8Array, from: number, to: number): number;
export function countNewlines(text: string): number;
export function countNewlines(source: Uint8Array | string, from = 0, to = source.length): number {
  let n = 0;
  if (typeof source === "string") for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) n++;
  else for (let i = source.indexOf(NL, from); i !== -1 && i < to; i = source.indexOf(NL, i + 1)) n++;
  return n;
}

/** Whether a line of `bytes` starts with `marker` followed by an empty character (anywhere, after a BOM for the first line). */
function hasLineStarting(bytes: Buffer, marker: string, needsEmpty: boolean): boolean {
  const at = (p: number) => {
    for (let k = 0; k < marker.length; k++) if (bytes[p + k] !== marker.charCodeAt(k)) return false;
    return !needsEmpty || isEmptyByte(bytes[p + marker.length]);
  };
  if (at(0) || (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf && at(3))) return true;
  for (let i = bytes.indexOf(`\n${marker}`); i !== -1; i = bytes.indexOf(`\n${marker}`, i + 1)) if (at(i + 1)) return true;
  return false;
}

/**
 * The segments of a file: one per document marker, the first from the file's
 * start. null when the file has directives or document-end markers (then it is
 * read in one piece).
 */
export function splitDocuments(bytes: Buffer): Segment[] | null {
  if (hasLineStarting(bytes, "%", false) || hasLineStarting(bytes, "...", true)) return null;
  const starts = [0];
  for (let i = bytes.indexOf("\n---"); i !== -1; i = bytes.indexOf("\n---", i + 1)) if (isEmptyByte(bytes[i + 4])) starts.push(i + 1);
  const segments: Segment[] = [];
  let line = 1;
  // The first segment runs from the file's start (a leading `---` included); an empty file has none.
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k]!;
    const end = k + 1 < starts.length ? starts[k + 1]! : bytes.length;
    if (end > start) segments.push({ start, end, line });
    line += countNewlines(bytes, start, end);
  }
  return segments;
}

// ---------- one job: some segments of one file ----------

export interface SegmentJob {
  file: string;
  segments: Segment[];
  /** segments[0] starts the file: it may hold only comments. */
  prelude: boolean;
  /** A document follows the last segment: its `---` ends the last document. */
  more: boolean;
  /** The file was not split: read all of it with the yaml package. */
  whole: boolean;
  maxAliasCount: number;
  kustomizePatch: boolean;
  /** Only these objects are kept whole; the others as their identity (see selection.ts). Absent: all whole. */
  keep?: WholeObjects;
}

/** Where an object's document is in its file, to parse it again for `locate`. */
export interface DocumentSource {
  start: number;
  end: number;
  line: number;
  /** Parse with a `---` appended (another document follows). */
  more: boolean;
  /** The document's index among what that text parses into. */
  index: number;
}

export interface SegmentObject extends ReadObject {
  source: DocumentSource;
}

export interface SegmentResult {
  /** Documents in these segments; documentIndex values below count from the job's first document. */
  documents: number;
  /**
   * Lines the yaml package counted in these segments minus the lines they have
   * (negative: it missed some). The reference reader's line numbers after such
   * a place are off by as much, for the rest of the file: so are these (lines
   * below count from the job's first segment as the reference would).
   */
  lineShift: number;
  objects: SegmentObject[];
  errors: ManifestError[];
  skipped: ManifestSkip[];
}

/** Read one job's segments of `bytes` (the whole file). Throws on what the reference reader would call the file's error. */
export function readSegments(job: SegmentJob, bytes: Buffer): SegmentResult {
  const out: SegmentResult = { documents: 0, lineShift: 0, objects: [], errors: [], skipped: [] };
  const options = { maxAliasCount: job.maxAliasCount, ...(job.kustomizePatch ? { kustomizePatch: true } : {}) };
  const add = (reading: DocumentReading, source: DocumentSource) => {
    classifyDocument(reading, job.file, out.documents++, options, {
      object: (o) => out.objects.push({ ...o, ...(job.keep ? { object: keptOf(o.object, job.keep) } : {}), source }),
      error: (e) => out.errors.push(e),
      skip: (s) => out.skipped.push(s),
    });
  };
  const slow = (text: string, segment: Segment, more: boolean, expect: "one" | "prelude" | "any") => {
    const lineCounter = new LineCounter();
    const parsed = more ? `${text}---` : text;
    // An error the parser gives before it hands over the document ("Unexpected … token in YAML
    // document" at its start) goes to the document before it in a whole stream: that is the
    // reference reader's to say (the whole file is read again on the main thread).
    let started = false;
    let early = false;
    const docs = parseYamlDocuments(parsed, lineCounter, (token) => {
      if (token.type === "document") started = true;
      else if (token.type === "error" && !started) early = true;
    });
    if (early && expect === "one") throw new Error(`${job.file}: an error at a document's start belongs to the one before`);
    // The appended marker must start a document of its own, at its place: an unclosed quote
    // with no quote character after it runs to the end of the text, over any marker (and in
    // the whole file, over the documents after it): then the whole file is read as one.
    if (more && docs.pop()?.range[0] !== text.length) throw new Error(`${job.file}: a document runs past its end marker`);
    // The yaml package reports running out of stack as the document's error, at whatever
    // depth the stack ran out: how deep is too deep is the reference reader's to say (read
    // the file again on the main thread, whose stack is at least as large as a reader's).
    if (docs.some((d) => d.errors.some((e) => e.code === "RESOURCE_EXHAUSTION"))) throw new Error(`${job.file}: nested too deep for a reader thread`);
    if ((expect === "one" && docs.length !== 1) || (expect === "prelude" && docs.length > 1)) throw new Error(`internal: a segment of ${job.file} held ${docs.length} documents`);
    const base = segment.line + out.lineShift;
    const position = (offset: number): SourcePosition => {
      const { line, col } = lineCounter.linePos(offset);
      return { line: line + base - 1, column: col };
    };
    docs.forEach((doc, index) => add(readDocument(doc, parsed, position, job.maxAliasCount), { start: segment.start, end: segment.end, line: base, more, index }));
    // Tokens the parser rejects outside a document (after a broken one) have their newlines
    // left uncounted: the reference reader's lines are short by as many from there on.
    out.lineShift += lineCounter.lineStarts.length - 1 - countNewlines(text);
  };
  if (job.whole) {
    slow(bytes.toString("utf8", job.segments[0]!.start, job.segments[0]!.end), job.segments[0]!, false, "any");
    return out;
  }
  job.segments.forEach((segment, k) => {
    const text = bytes.toString("utf8", segment.start, segment.end);
    const prelude = job.prelude && k === 0;
    const more = k < job.segments.length - 1 || job.more;
    const fast = fastReadDocument(text, { prelude, maxAliasCount: job.maxAliasCount });
    if (fast === null) return; // comments only
    if (fast === undefined) return slow(text, segment, more, prelude ? "prelude" : "one");
    const base = segment.line + out.lineShift;
    const line = base + Math.max(0, fast.contentsLine);
    const items = fast.itemLines;
    add({ kind: "value", value: fast.value, line, itemLine: (i) => (items && i < items.length ? base + items[i]! : line), ...(fast.dollarKeys ? {} : { noDollarKeys: true as const }) }, { start: segment.start, end: segment.end, line: base, more, index: 0 });
  });
  return out;
}

/** Jobs of about `chunkBytes` (whole documents) for a file's bytes. */
export function planJobs(bytes: Buffer, base: { file: string; maxAliasCount: number; kustomizePatch: boolean; keep?: WholeObjects }, chunkBytes: number): SegmentJob[] {
  const segments = splitDocuments(bytes);
  if (segments === null) return [{ ...base, segments: [{ start: 0, end: bytes.length, line: 1 }], prelude: true, more: false, whole: true }];
  const jobs: SegmentJob[] = [];
  for (let k = 0; k < segments.length; ) {
    let end = k + 1;
    while (end < segments.length && segments[end]!.end - segments[k]!.start <= chunkBytes) end++;
    jobs.push({ ...base, segments: segments.slice(k, end), prelude: k === 0, more: end < segments.length, whole: false });
    k = end;
  }
  return jobs;
}


/** Small files a reader thread opens and reads itself, in the walk's order: the main thread only names them. */
export interface FilesJob {
  files: { path: string; name: string; kustomizePatch: boolean }[];
  maxAliasCount: number;
  keep?: WholeObjects;
}

/** One file of a FilesJob: its exact bytes and identity, and what they read as (null: read it again on the main thread), or why it could not be read. */
export type FileAnswer = { bytes: ArrayBuffer; identity: FileIdentity; result: SegmentResult | null } | { unreadable: string };

export type JobMessage = { id: number; buffer: SharedArrayBuffer; job: SegmentJob } | { id: number; files: FilesJob };
export type JobAnswer = { id: number; result: SegmentResult } | { id: number; files: FileAnswer[] } | { id: number; failed: string };

/** A FilesJob, done where it runs: each file read as readManifestsParallel reads a small file (one job, the whole file). */
export function readFiles(job: FilesJob): { answers: FileAnswer[]; transfer: ArrayBuffer[] } {
  const answers: FileAnswer[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const file of job.files) {
    let read: Buffer;
    let identity: FileIdentity;
    try {
      ({ bytes: read, identity } = readManifestFile(file.path));
    } catch (e) {
      answers.push({ unreadable: (e as Error).message });
      continue;
    }
    // The bytes go back to the main thread (reports, --fix) moved, not copied: a buffer of their own.
    const own = read.byteOffset === 0 && read.byteLength === read.buffer.byteLength && read.buffer instanceof ArrayBuffer ? read.buffer : new Uint8Array(read).buffer;
    const bytes = Buffer.from(own);
    // Jobs without a size limit: one for the whole file (none for an empty one).
    const [whole] = planJobs(bytes, { file: file.name, maxAliasCount: job.maxAliasCount, kustomizePatch: file.kustomizePatch, ...(job.keep ? { keep: job.keep } : {}) }, Infinity);
    let result: SegmentResult | null;
    try {
      result = whole ? readSegments(whole, bytes) : { documents: 0, lineShift: 0, objects: [], errors: [], skipped: [] };
    } catch {
      result = null;
    }
    answers.push({ bytes: own, identity, result });
    transfer.push(own);
  }
  return { answers, transfer };
}
