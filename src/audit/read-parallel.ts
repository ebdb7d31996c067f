/**
 * Reading manifests on every core, with the same results as `readManifests`
 * (read.ts, the reference): the same objects, skips and errors in the same
 * order, the same lines and columns, the same `locate` answers.
 *
 * How:
 * - A file's bytes are split at its document markers (`---` at the start of a
 *   line, followed by a space, a tab or the line's end). The yaml lexer ends
 *   whatever is open at such a line — block and quoted scalars, flow
 *   collections — and starts a document, so each piece ("segment") is one
 *   document, the first one possibly preceded by comments (or made only of them).
 *   Files with directives (`%`) or document-end markers (`...`) are not split.
 * - A file no bigger than `chunkBytes` is named to a reader thread (in groups of
 *   up to 64 files or `chunkBytes`), which opens, reads and parses it in one job
 *   and sends its bytes back moved, not copied: this thread only walks and names.
 * - A bigger file is read here, and its segments grouped into jobs of about
 *   `chunkBytes` read by the threads from a SharedArrayBuffer holding the
 *   file (a fleet in one file is read on every core): each segment by the fast
 *   reader (fast-yaml.ts) when it is sure, else by the yaml package, the
 *   segment followed by a `---` when another document follows (so an unclosed
 *   scalar ends exactly as in the whole stream), with its lines shifted to the
 *   segment's place in the file. Both end in read.ts' `classifyDocument`.
 * - Results are put back in file order as they arrive (`onObjects` streams
 *   them, so evaluation can start before reading ends). A job that fails in a
 *   worker (an exception, a value that cannot cross threads) makes that file be
 *   read again here by the reference reader, which says what went wrong in the
 *   same words as before.
 * - With `keep` (selection.ts), an object the audit does not need whole is
 *   reduced to its identity in the thread that read it: most of a repository's
 *   bytes (CRDs and the like) never cross threads nor stay in memory as objects.
 * - `locate` is lazy: it reads the object's document again (only reports
 *   ask, for the objects they show), by the fast reader noting where keys and
 *   items start (fastLocator), else with the yaml package, so no syntax trees
 *   are kept: memory holds the bytes once and the objects.
 *
 * Small inputs (below `inlineBelow` bytes so far) are read on this thread with
 * the same code, without starting workers; so is every input when there are no
 * reader threads (`threads: 0`, the default on up to 2 cores), each file opened
 * when its turn comes, the reading giving way every few milliseconds.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { relative, resolve } from "node:path";
import type { Worker } from "node:worker_threads";
import { type Document, LineCounter } from "yaml";
import { startWorker, workerEntry } from "../toolchain/evaluation-pool.js";
import {
  DEFAULT_MAX_ALIAS_COUNT,
  EMPTY_STDIN,
  type FileIdentity,
  firstYamlDocument,
  type JsonPath,
  kustomizePatchFiles,
  locateIn,
  type ManifestError,
  type ManifestObject,
  manifestFiles,
  markTemplateValues,
  type ManifestSet,
  type ManifestSkip,
  notAManifestFile,
  parseManifestText,
  parseYamlDocuments,
  type ReadOptions,
  readManifestFile,
  readingFailure,
  rootNode,
  type SourcePosition,
} from "./read.js";
import { type FastLocator, fastLocator, fastReadDocument } from "./fast-yaml.js";
import { type DocumentSource, type FileAnswer, type FilesJob, type JobAnswer, type JobMessage, planJobs, readSegments, type SegmentJob, type SegmentResult, splitDocuments } from "./read-segments.js";
import { keptOf, type WholeObjects } from "./selection.js";

export { type Segment, splitDocuments } from "./read-segments.js";

/** Worker threads reading jobs; each job's answer comes back through its promise. */
class ReaderPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, { resolve: (answer: JobAnswer | null) => void; worker: { busy: number } }>();
  private readonly queue: JobMessage[] = [];
  private nextId = 0;

  constructor(readonly threads: number) {}

  /** Start every thread now: each boots (loads its code) while this thread still has work before the first job. */
  warm(): void {
    while (this.workers.length < this.threads) this.spawn();
  }

  /** The job's result, or null when the worker could not read it. */
  async run(buffer: SharedArrayBuffer, job: SegmentJob): Promise<SegmentResult | null> {
    const answer = await this.post((id) => ({ id, buffer, job }));
    return answer && "result" in answer ? answer.result : null;
  }

  /** Each file's answer, or null when the worker could not answer for them (the main thread reads them). */
  async readFiles(files: FilesJob): Promise<FileAnswer[] | null> {
    const answer = await this.post((id) => ({ id, files }));
    return answer && "files" in answer ? answer.files : null;
  }

  private post(message: (id: number) => JobMessage): Promise<JobAnswer | null> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.queue.push(message(id));
      this.waiting.set(id, { resolve, worker: { busy: 0 } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      // Up to two jobs per worker: one being read, one waiting in its port.
      let slot = this.workers.find((w) => w.busy === 0);
      if (!slot && this.workers.length < this.threads) slot = this.spawn();
      slot ??= this.workers.find((w) => w.busy < 2);
      if (!slot) return;
      const message = this.queue.shift()!;
      this.waiting.get(message.id)!.worker = slot;
      slot.busy++;
      slot.worker.postMessage(message);
    }
  }

  private spawn(): { worker: Worker; busy: number } {
    // No more stack than the main thread has (V8's default, under 1 MiB): a document too deep
    // for it fails here too and is then read by the main thread (see readSegments).
    const worker = startWorker(workerEntry(import.meta.url, "reader-worker"), null, { resourceLimits: { stackSizeMb: 1 } });
    const slot = { worker, busy: 0 };
    worker.on("message", (answer: JobAnswer) => {
      const pending = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      slot.busy--;
      pending?.resolve(answer);
      this.pump();
    });
    const lost = () => {
      // Whatever it was reading is read again on the main thread.
      const at = this.workers.indexOf(slot);
      if (at < 0) return; // "error", then "exit"
      this.workers.splice(at, 1);
      for (const [id, pending] of this.waiting)
        if (pending.worker === slot) {
          this.waiting.delete(id);
          pending.resolve(null);
        }
      // Workers that keep dying (none can start?): the main thread reads the rest.
      if (++this.lost > this.threads)
        for (const message of this.queue.splice(0)) {
          this.waiting.get(message.id)?.resolve(null);
          this.waiting.delete(message.id);
        }
      this.pump();
    };
    worker.on("error", lost);
    worker.on("exit", () => {
      if (!this.closing) lost();
    });
    this.workers.push(slot);
    return slot;
  }

  private lost = 0;
  private closing = false;

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }
}

// ---------- the whole read ----------

export interface ParallelReadOptions extends ReadOptions {
  /**
   * Reader threads (default: none on up to 2 cores, else one fewer than the
   * cores). 0: this thread reads everything, handing objects on as it goes (it
   * yields every few milliseconds, so what it hands on is evaluated meanwhile).
   * On 2 cores the main thread reading costs ~0.5 s less CPU on the corpus than
   * one reader thread (no thread to boot and warm, no object crossing threads)
   * for the same wall time; a second reader cost more than it saved.
   */
  threads?: number;
  /** Read on this thread, without workers, until this many bytes have been read (default 1 MiB; with `threads: 0`, all). */
  inlineBelow?: number;
  /** Bytes per job (default 256 KiB; a document is never split). */
  chunkBytes?: number;
  /** Reading on this thread gives way to other work (setImmediate) after this many milliseconds of it (default 4). */
  pauseEveryMs?: number;
  /**
   * Objects as they are read, in order. When a worker fails on a file, the file
   * is read again on this thread and its objects are given again (new objects):
   * the returned set is what counts.
   */
  onObjects?: (objects: readonly ManifestObject[]) => void;
  /**
   * The objects to keep whole (see selection.ts); every other object is kept as
   * its identity (apiVersion, kind, metadata). Absent: every object whole.
   */
  keep?: WholeObjects;
  /** Stops reading (the threads are ended; the promise rejects with the signal's reason) once aborted. */
  signal?: AbortSignal;
  /** Called once when reader threads are started (not for inputs read on this thread), with their number. */
  onThreads?: (threads: number) => void;
  /** Bytes read and parsed so far, bytes read from files so far, objects so far. */
  onProgress?: (progress: { parsedBytes: number; totalBytes: number; objects: number }) => void;
}

/** A document read again for `locate`: by the fast reader when it can place the path, else by the yaml package (on first need). */
interface Located {
  text: string;
  fast: FastLocator | undefined;
  yaml: { doc: Document; lines: LineCounter } | null;
}

/** Lazy `locate`: the document read again when a report first asks, shared by the objects of that document. */
function lazyLocator(bytes: Buffer, source: DocumentSource, itemIndex: number | null, cache: Map<string, Located>): (path: JsonPath) => SourcePosition | null {
  return (path) => {
    const key = `${source.start}:${source.index}`;
    let located = cache.get(key);
    if (!located) {
      const text = bytes.toString("utf8", source.start, source.end);
      // Segments are split at document markers: the first of a file starts at 0 (comments may come first).
      located = { text, fast: source.index === 0 ? fastLocator(text, source.start === 0) : undefined, yaml: null };
      if (cache.size >= 64) cache.delete(cache.keys().next().value!);
      cache.set(key, located);
    }
    const fast = located.fast?.(itemIndex, path);
    if (fast !== undefined) return fast && { line: fast.line + source.line - 1, column: fast.column };
    if (!located.yaml) {
      const lines = new LineCounter();
      const parsedText = source.more ? `${located.text}---` : located.text;
      const doc = parseYamlDocuments(parsedText, lines)[source.index]!;
      markTemplateValues(doc, parsedText); // as the reference reader's document is, so keys that are templates are found
      located.yaml = { doc, lines };
    }
    const { doc, lines } = located.yaml;
    const shifted = { linePos: (offset: number) => ({ line: lines.linePos(offset).line + source.line - 1, col: lines.linePos(offset).col }) };
    return locateIn(doc, rootNode(doc, itemIndex), path, shifted);
  };
}

interface Collected {
  objects: ManifestObject[];
  errors: ManifestError[];
  skipped: ManifestSkip[];
}

/** One file's job answers put together in order: document indexes counted on, `locate` attached. */
class FileAssembly {
  private documents = 0;
  /** The yaml package's miscount of lines so far in this file (see SegmentResult.lineShift). */
  private lineShift = 0;
  private failed = false;
  private readonly mark: { objects: number; errors: number; skipped: number };
  private readonly cache = new Map<string, Located>();

  constructor(
    private readonly out: Collected,
    private readonly name: string,
    private readonly bytes: Buffer,
    private readonly options: { maxAliasCount: number; kustomizePatch: boolean; keep?: WholeObjects },
  ) {
    this.mark = { objects: out.objects.length, errors: out.errors.length, skipped: out.skipped.length };
  }

  /** The next job's answer (null: it could not be read there); the objects it adds. */
  add(r: SegmentResult | null): ManifestObject[] {
    if (this.failed) return [];
    if (r === null) {
      this.failed = true;
      return [];
    }
    const added: ManifestObject[] = [];
    const documents = this.documents;
    const shift = this.lineShift;
    const shifted = <T extends { line?: number }>(x: T): T => (shift === 0 || x.line === undefined ? x : { ...x, line: x.line + shift });
    for (const { source, ...o } of r.objects) {
      const at = shift === 0 ? source : { ...source, line: source.line + shift };
      const object: ManifestObject = { ...shifted(o), documentIndex: o.documentIndex + documents, locate: lazyLocator(this.bytes, at, o.itemIndex, this.cache) };
      this.out.objects.push(object);
      added.push(object);
    }
    for (const e of r.errors) this.out.errors.push({ ...shifted(e), documentIndex: e.documentIndex === null ? null : e.documentIndex + documents });
    for (const s of r.skipped) this.out.skipped.push({ ...shifted(s), documentIndex: s.documentIndex === null ? null : s.documentIndex + documents });
    this.documents += r.documents;
    this.lineShift += r.lineShift;
    return added;
  }

  /** After the last answer: when one failed, the file is read again here, in one piece, by the reference reader (what it says counts); the objects that adds. */
  finish(): ManifestObject[] {
    if (!this.failed) return [];
    this.out.objects.length = this.mark.objects;
    this.out.errors.length = this.mark.errors;
    this.out.skipped.length = this.mark.skipped;
    try {
      const parsed = parseManifestText(this.bytes.toString("utf8"), this.name, this.options);
      // Kept as the threads keep them (keptOf), so `keep` holds for every object whichever reader read it.
      const keep = this.options.keep;
      for (const o of parsed.objects) this.out.objects.push(keep ? { ...o, object: keptOf(o.object, keep) } : o);
      for (const e of parsed.errors) this.out.errors.push(e);
      for (const s of parsed.skipped) this.out.skipped.push(s);
    } catch (e) {
      this.out.errors.push({ file: this.name, documentIndex: null, kind: "yaml", message: readingFailure(e) });
    }
    return this.out.objects.slice(this.mark.objects);
  }
}

function readInline(job: SegmentJob, bytes: Buffer): SegmentResult | null {
  try {
    return readSegments(job, bytes);
  } catch {
    return null;
  }
}

/**
 * One file's bytes read on this thread the parallel reader's way (split,
 * fast reader, lazy `locate`), in jobs of `chunkBytes`: what the workers do,
 * without workers (tests compare it with parseManifestText).
 */
export function readManifestBytes(bytes: Buffer, file: string, options: { maxAliasCount?: number; kustomizePatch?: boolean; chunkBytes?: number; keep?: WholeObjects } = {}): Collected {
  const out: Collected = { objects: [], errors: [], skipped: [] };
  const settings = { maxAliasCount: options.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT, kustomizePatch: options.kustomizePatch ?? false, ...(options.keep ? { keep: options.keep } : {}) };
  const assembly = new FileAssembly(out, file, bytes, settings);
  for (const job of planJobs(bytes, { file, ...settings }, options.chunkBytes ?? DEFAULT_CHUNK_BYTES)) assembly.add(readInline(job, bytes));
  assembly.finish();
  return out;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;

/** What one file turned into, waiting to be put in order. */
type FileEntry =
  | { kind: "skip"; skip: ManifestSkip }
  | { kind: "unreadable"; error: ManifestError }
  | { kind: "file"; name: string; path: string; identity?: FileIdentity; stdin: boolean; bytes: Buffer; jobs: { job: SegmentJob; result: Promise<SegmentResult | null> | null }[]; kustomizePatch: boolean }
  /** A small file a reader thread opens itself (null: the main thread reads it after all). */
  | { kind: "remote"; name: string; path: string; kustomizePatch: boolean; answer: Promise<FileAnswer | null> }
  /** A file this thread reads when its turn comes (no reader threads, or one could not answer for it). */
  | { kind: "later"; name: string; path: string; kustomizePatch: boolean };

/** Small files named to a reader thread together: up to this many in one message. */
const FILES_PER_JOB = 64;

/**
 * The first document of a YAML stream as firstYamlDocument (read.ts) reads it:
 * by the fast reader when it is sure (and no template action is in the text,
 * which it would replace), else by the yaml package. Kustomizations are read so
 * before any manifest: the yaml package, cold, took ~85 ms for the corpus' 51.
 */
export function firstDocument(text: string): unknown {
  if (!text.includes("{{")) {
    const bytes = Buffer.from(text);
    const segments = splitDocuments(bytes);
    for (let k = 0; segments !== null && k < segments.length; k++) {
      const fast = fastReadDocument(bytes.toString("utf8", segments[k]!.start, segments[k]!.end), { prelude: k === 0, maxAliasCount: DEFAULT_MAX_ALIAS_COUNT });
      if (fast === null) continue; // comments before the first document
      if (fast !== undefined) return fast.value;
      break;
    }
  }
  return firstYamlDocument(text);
}

/** Reading on the main thread gives way to other work this often (milliseconds). */
const PAUSE_EVERY_MS = 4;

/**
 * Reader threads when not told: none on up to 2 cores (the main thread reads;
 * see ParallelReadOptions.threads), else one fewer than the cores (more cores
 * were not measured here: the earlier default holds for them).
 */
export function defaultReaderThreads(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : cores - 1;
}

export async function readManifestsParallel(paths: string[], options: ParallelReadOptions = {}): Promise<ManifestSet> {
  const readStdin = options.readStdin ?? (() => readFileSync(0));
  const maxAliasCount = options.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const readers = options.threads ?? defaultReaderThreads();
  const inlineBelow = readers === 0 ? Number.POSITIVE_INFINITY : (options.inlineBelow ?? 1024 * 1024);
  const keep = options.keep ? { keep: options.keep } : {};
  const set: ManifestSet = { objects: [], errors: [], skipped: [], unreadable: [], files: [], sources: new Map() };
  const walked = manifestFiles(paths.length === 0 ? ["-"] : paths, set.unreadable, set.skipped);

  const startPool = () => {
    const started = new ReaderPool(Math.max(1, readers));
    started.warm();
    options.onThreads?.(started.threads);
    return started;
  };
  // Files that add up to more than inlineBelow: threads from the start (they boot while the kustomizations
  // are read and the walk's files are named to them).
  let pool: ReaderPool | null = walked.bytes > inlineBelow ? startPool() : null;
  const patches = new Set<string>();
  for (const k of walked.kustomizations) for (const p of kustomizePatchFiles(k, firstDocument)) patches.add(p);
  let totalBytes = 0;
  let parsedBytes = 0;
  const progress = () => options.onProgress?.({ parsedBytes, totalBytes, objects: set.objects.length });

  // Small files, when threads read: named to a thread in groups (it opens, reads and parses them), so this
  // thread neither reads their bytes nor sends a message per file. Their bytes come back moved, not copied.
  // A group's files get their answers once it is sent (when full, or after the walk).
  let group: { files: FilesJob["files"]; bytes: number; answers: Promise<FileAnswer[] | null>; send: () => void } | null = null;
  const openGroup = () => {
    let sent!: (answers: Promise<FileAnswer[] | null>) => void;
    const files: FilesJob["files"] = [];
    return { files, bytes: 0, answers: new Promise<FileAnswer[] | null>((done) => (sent = done)), send: () => sent(pool!.readFiles({ files, maxAliasCount, ...keep })) };
  };
  const entries: FileEntry[] = [];
  for (let f = 0; f < walked.files.length; f++) {
    const file = walked.files[f]!;
    const name = file === "-" ? "<stdin>" : relative(process.cwd(), file) || file;
    const notManifest = file === "-" ? null : notAManifestFile(file);
    if (notManifest) {
      entries.push({ kind: "skip", skip: { file: name, documentIndex: null, reason: "not-a-manifest", message: notManifest } });
      continue;
    }
    const kustomizePatch = file !== "-" && patches.has(resolve(file));
    const size = walked.sizes[f]!;
    if (pool !== null && file !== "-" && size >= 0 && size <= chunkBytes) {
      group ??= openGroup();
      const at = group.files.length;
      group.files.push({ path: file, name, kustomizePatch });
      group.bytes += size;
      totalBytes += size;
      entries.push({ kind: "remote", name, path: file, kustomizePatch, answer: group.answers.then((answers) => (answers === null ? null : answers[at]!)) });
      if (group.files.length >= FILES_PER_JOB || group.bytes >= chunkBytes) {
        group.send();
        group = null;
      }
      continue;
    }
    if (pool === null && inlineBelow === Number.POSITIVE_INFINITY && file !== "-") {
      // Everything is read on this thread: each file when its turn comes, so objects flow (and
      // progress shows, and a failed settings check stops it) from the first file on.
      entries.push({ kind: "later", name, path: file, kustomizePatch });
      totalBytes += Math.max(0, size);
      continue;
    }
    let read: Buffer;
    let identity: FileIdentity | undefined;
    try {
      if (file === "-") read = readStdin();
      else ({ bytes: read, identity } = readManifestFile(file));
    } catch (e) {
      entries.push({ kind: "unreadable", error: { file: name, documentIndex: null, kind: "unreadable", message: (e as Error).message } });
      continue;
    }
    totalBytes += read.length;
    // Small inputs are read here; stdin, whose size is known only now, may still start the threads.
    const inline = pool === null && totalBytes <= inlineBelow;
    if (!inline && !pool) pool = startPool();
    // Shared with the workers: they read their segments from it, no copies.
    let shared: SharedArrayBuffer | null = null;
    let bytes = read;
    if (!inline) {
      shared = new SharedArrayBuffer(read.length);
      bytes = Buffer.from(shared);
      read.copy(bytes);
    }
    const jobs = planJobs(bytes, { file: name, maxAliasCount, kustomizePatch, ...keep }, chunkBytes);
    entries.push({
      kind: "file",
      name,
      path: file,
      ...(identity ? { identity } : {}),
      stdin: file === "-",
      bytes,
      kustomizePatch,
      // Read here when its turn comes (below), so what comes before it is handed on first.
      jobs: jobs.map((job) => ({ job, result: shared === null ? null : pool!.run(shared, job) })),
    });
  }
  group?.send();

  // Reading on this thread: now and then let what waits for it run (answers of evaluations, progress).
  let lastPause = performance.now();
  const pause = async () => {
    if (performance.now() - lastPause < (options.pauseEveryMs ?? PAUSE_EVERY_MS)) return;
    await new Promise<void>((resume) => setImmediate(resume));
    lastPause = performance.now();
  };
  try {
    for (let entry of entries) {
      options.signal?.throwIfAborted();
      if (entry.kind === "remote") {
        const answer = await entry.answer;
        options.signal?.throwIfAborted();
        if (answer === null) {
          // The thread could not answer for this file: it is read here, as any file this thread reads.
          entry = { kind: "later", name: entry.name, path: entry.path, kustomizePatch: entry.kustomizePatch };
        } else if ("unreadable" in answer) {
          set.unreadable.push({ file: entry.name, documentIndex: null, kind: "unreadable", message: answer.unreadable });
          continue;
        } else {
          const bytes = Buffer.from(answer.bytes);
          set.files.push(entry.name);
          set.sources.set(entry.name, { path: entry.path, bytes, identity: answer.identity });
          const assembly = new FileAssembly(set, entry.name, bytes, { maxAliasCount, kustomizePatch: entry.kustomizePatch, ...keep });
          const added = assembly.add(answer.result);
          if (added.length > 0) options.onObjects?.(added);
          const again = assembly.finish();
          if (again.length > 0) options.onObjects?.(again);
          parsedBytes += bytes.length;
          progress();
          continue;
        }
      }
      if (entry.kind === "later") {
        let read: Buffer;
        let identity: FileIdentity;
        try {
          ({ bytes: read, identity } = readManifestFile(entry.path));
        } catch (e) {
          set.unreadable.push({ file: entry.name, documentIndex: null, kind: "unreadable", message: (e as Error).message });
          continue;
        }
        const jobs = planJobs(read, { file: entry.name, maxAliasCount, kustomizePatch: entry.kustomizePatch, ...keep }, chunkBytes);
        // Read below, job by job, giving way between them.
        entry = { kind: "file", name: entry.name, path: entry.path, identity, stdin: false, bytes: read, kustomizePatch: entry.kustomizePatch, jobs: jobs.map((job) => ({ job, result: null })) };
      }
      if (entry.kind === "skip") {
        set.skipped.push(entry.skip);
        continue;
      }
      if (entry.kind === "unreadable") {
        set.unreadable.push(entry.error);
        continue;
      }
      set.files.push(entry.name);
      if (!entry.stdin) set.sources.set(entry.name, { path: entry.path, bytes: entry.bytes, ...(entry.identity ? { identity: entry.identity } : {}) });
      const before = set.objects.length + set.errors.length + set.skipped.length;
      const assembly = new FileAssembly(set, entry.name, entry.bytes, { maxAliasCount, kustomizePatch: entry.kustomizePatch, ...keep });
      for (const { job, result } of entry.jobs) {
        if (result === null) await pause();
        const answer = result === null ? readInline(job, entry.bytes) : await result;
        options.signal?.throwIfAborted();
        const added = assembly.add(answer);
        parsedBytes += job.segments.at(-1)!.end - job.segments[0]!.start;
        if (added.length > 0) options.onObjects?.(added);
        progress();
      }
      const again = assembly.finish();
      if (again.length > 0) options.onObjects?.(again);
      if (entry.stdin && set.objects.length + set.errors.length + set.skipped.length === before) set.unreadable.push(EMPTY_STDIN);
    }
    progress();
  } finally {
    await pool?.close();
  }
  return set;
}
