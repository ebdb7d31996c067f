/**
 * Reading Kubernetes manifests the way kubectl reads them: multi-document YAML
 * (go-yaml semantics: YAML 1.1 scalars and merge keys, quoted scalars and flow
 * collections whose continuation lines ignore indentation), JSON, folders
 * (recursively), stdin, `List` objects (kubectl get -o json) and typed Lists.
 *
 * Every document ends up in exactly one place: an object to evaluate, a
 * skipped document (with the reason), or an error (with line and column).
 * One bad file never hides another.
 */
import { closeSync, type Dirent, fstatSync, lstatSync, openSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { Composer, type CST, visit, isAlias, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, Scalar, YAMLParseError, type Document, type Node, type ParsedNode } from "yaml";

type Token = CST.Token;

/** 1-based line and column in a file. */
export interface SourcePosition {
  line: number;
  column: number;
}

export type JsonPath = readonly (string | number)[];

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
  /**
   * Where the value at `path` (JSON path segments from this object's root, e.g.
   * ["spec", "template", "spec", "containers", 1, "livenessProbe"]) is written:
   * the key's position for a mapping entry, the item's for a sequence entry.
   * Follows aliases and merge keys to where the value is really written.
   * null when the path does not exist in the source.
   */
  locate(path: JsonPath): SourcePosition | null;
}

export type ManifestErrorKind = "yaml" | "alias-limit" | "unreadable";

export interface ManifestError {
  file: string;
  documentIndex: number | null;
  kind: ManifestErrorKind;
  message: string;
  /** Where the problem is, when known (1-based). */
  line?: number;
  column?: number;
}

export type SkipReason =
  /** Helm chart metadata, values, kustomization files: not objects kubectl would apply. */
  | "not-a-manifest"
  /** A document that is not a Kubernetes object (no apiVersion/kind, a list, a scalar). */
  | "not-an-object"
  /** A kustomize patch (strategic-merge directives, or listed as a patch by a kustomization). */
  | "kustomize-patch"
  /** A Helm template that was not rendered. */
  | "unrendered-template"
  /** A folder entry that cannot be followed (dangling symlink, symlink loop). */
  | "unreadable-entry";

export interface ManifestSkip {
  file: string;
  documentIndex: number | null;
  reason: SkipReason;
  message: string;
  line?: number;
}

/** The exact bytes a file had when it was read: `--fix` patches these, and only these. */
export interface ManifestSource {
  /** The path that was opened. */
  path: string;
  bytes: Buffer;
  /** The file that was read (device and inode of the open file): `--fix` writes only that same file. */
  identity?: FileIdentity;
}

export interface FileIdentity {
  dev: number;
  ino: number;
}

/** A file's bytes and the identity of the very file they came from (fstat of the open descriptor). */
export function readManifestFile(path: string): { bytes: Buffer; identity: FileIdentity } {
  const fd = openSync(path, "r");
  try {
    const { dev, ino } = fstatSync(fd);
    return { bytes: readFileSync(fd), identity: { dev, ino } };
  } finally {
    closeSync(fd);
  }
}

export interface ManifestSet {
  objects: ManifestObject[];
  errors: ManifestError[];
  skipped: ManifestSkip[];
  /** Paths given on the command line that do not exist or cannot be read: a usage-level failure. */
  unreadable: ManifestError[];
  /** Display names of the files read, in order. */
  files: string[];
  /** Display name → exact bytes read (not for stdin). */
  sources: Map<string, ManifestSource>;
}

export interface ReadOptions {
  readStdin?: () => Buffer;
  /** Alias expansions allowed per document (the YAML "billion laughs" guard). */
  maxAliasCount?: number;
  /**
   * How one file's bytes become objects (default: parseManifestText, the
   * reference). read-parallel.ts's readManifestBytes gives the same with the
   * fast readers, without the locations a report needs.
   */
  readBytes?: (bytes: Buffer, file: string, options: { maxAliasCount?: number; kustomizePatch?: boolean }) => Pick<ParsedFile, "objects" | "errors" | "skipped">;
}

export const DEFAULT_MAX_ALIAS_COUNT = 100;
const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

// ---------- YAML as go-yaml reads it ----------

/** The lexer's private parts this module adjusts (yaml is pinned to an exact version). */
interface LexerInternals {
  indentNext: number;
  continueScalar(offset: number): number;
  parseQuotedScalar(): Generator<string, string>;
  parseFlowCollection(): Generator<string, string>;
}

/**
 * The yaml package ends a quoted scalar or flow collection at a continuation
 * line that is not indented more than its parent (YAML 1.2 says so); go-yaml,
 * and so kubectl, ignores indentation inside them (argo-workflows examples:
 * `args: ['` … `']` with the closing line at the key's indentation). Line
 * folding drops a continuation line's leading spaces, so ignoring indentation
 * there changes no value: it only accepts what go-yaml accepts. Document
 * markers (`---`, `...` at column 1) still end them, as in go-yaml.
 */
function goYamlLexer(): Lexer {
  const lexer = new Lexer();
  const internals = lexer as unknown as LexerInternals;
  const continueScalar = internals.continueScalar;
  const parseQuotedScalar = internals.parseQuotedScalar;
  const parseFlowCollection = internals.parseFlowCollection;
  let inQuoted = false;
  internals.continueScalar = function (this: LexerInternals, offset: number) {
    if (!inQuoted) return continueScalar.call(this, offset);
    const saved = this.indentNext;
    this.indentNext = 0; // 0: "no indentation required", only document markers end the scalar
    try {
      return continueScalar.call(this, offset);
    } finally {
      this.indentNext = saved;
    }
  };
  internals.parseQuotedScalar = function* (this: LexerInternals) {
    inQuoted = true;
    try {
      return yield* parseQuotedScalar.call(this);
    } finally {
      inQuoted = false;
    }
  };
  internals.parseFlowCollection = function* (this: LexerInternals) {
    const saved = this.indentNext;
    this.indentNext = 0;
    try {
      return yield* parseFlowCollection.call(this);
    } finally {
      this.indentNext = saved;
    }
  };
  return lexer;
}

/** Options every read and every `--fix` rewrite use: YAML 1.1 as go-yaml (booleans, octal, `<<` merge keys). */
export const YAML_OPTIONS = { version: "1.1", uniqueKeys: false, prettyErrors: false, keepSourceTokens: false, logLevel: "error" } as const;

/**
 * Flow collections (`[ ]`, `{ }`) nested deeper than this in a document make it
 * "nested too deep", as the yaml package says of a document its stack cannot
 * hold — but before it composes it: its composer recurses once per level, and
 * on Node 20 about 850 levels of `[` abort the whole process (a V8 fatal error
 * compiling a regular expression that deep, which nobody can catch): a 2 KB
 * file took the audit down. Manifests nest a few levels; the worst-case
 * requests of `bench --worst-case`, about 410.
 */
export const MAX_FLOW_NESTING = 512;

/** parseAllDocuments with the go-yaml lexer; `observe` sees the parser's tokens (CST) as the composer gets them. */
export function parseYamlDocuments(text: string, lineCounter?: LineCounter, observe?: (token: Token) => void): Document.Parsed[] {
  const parser = new Parser(lineCounter?.addNewLine);
  const lexer = goYamlLexer();
  const composer = new Composer(YAML_OPTIONS);
  lineCounter?.addNewLine(0); // Parser.parse() does this for its own lexer; next() does not
  // Flow nesting, counted on the lexer's tokens (a bracket in a quoted scalar or a comment is none of
  // them); the parser hands a document over whole, after all its tokens: one too deep is given to the
  // composer without its contents, and marked.
  let flowDepth = 0;
  let tooDeep = false;
  /** Where the documents given over without their contents start (a composed document's range starts there too). */
  const tooDeepDocuments = new Set<number>();
  const handOver = (token: Token): Token => {
    if (token.type !== "document") return token;
    if (tooDeep) {
      tooDeepDocuments.add(token.offset);
      token.value = undefined;
    }
    flowDepth = 0;
    tooDeep = false;
    return token;
  };
  function* tokens() {
    for (const lexeme of lexer.lex(text, false)) {
      if (lexeme === "[" || lexeme === "{") {
        if (++flowDepth > MAX_FLOW_NESTING) tooDeep = true;
      } else if ((lexeme === "]" || lexeme === "}") && flowDepth > 0) flowDepth--;
      for (const token of parser.next(lexeme)) {
        observe?.(token);
        yield handOver(token);
      }
    }
    for (const token of parser.end()) {
      observe?.(token);
      yield handOver(token);
    }
  }
  const docs = Array.from(composer.compose(tokens())) as Document.Parsed[];
  // readDocument reads this code as "nested too deep", placed at the document's start.
  for (const doc of docs)
    if (tooDeepDocuments.has(doc.range[0])) doc.errors.unshift(new YAMLParseError([doc.range[0], doc.range[0] + 1], "RESOURCE_EXHAUSTION", `flow collections nested more than ${MAX_FLOW_NESTING} levels deep`));
  return docs;
}

// ---------- locating JSON paths in the source ----------

/** `<<` (YAML 1.1 resolves it to a symbol). */
export function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const v = key.value;
  return v === "<<" || (typeof v === "symbol" && v.description === "<<");
}

/** The node a merge key (`<<: *a` or `<<: [*a, *b]`) brings in, for a key not written locally. */
function mergedPair(doc: Document, map: Node, key: string, depth: number): { key: Node | null; value: Node | null } | undefined {
  if (!isMap(map) || depth > 32) return undefined;
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const target = isAlias(source) ? source.resolve(doc) : source;
      const found = target ? findPair(doc, target as Node, key, depth + 1) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

function findPair(doc: Document, map: Node, key: string, depth = 0): { key: Node | null; value: Node | null } | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key) return { key: pair.key as Node, value: (pair.value as Node | null) ?? null };
  }
  return mergedPair(doc, map, key, depth);
}

function resolveAlias(doc: Document, node: Node | null): Node | null {
  for (let hops = 0; node && isAlias(node) && hops < 32; hops++) node = (node.resolve(doc) as Node | undefined) ?? null;
  return node;
}

/** Offsets → 1-based line and column (a LineCounter, or one shifted to where a document starts in its file). */
export interface LinePositions {
  linePos(offset: number): { line: number; col: number };
}

export function locateIn(doc: Document, root: Node | null, path: JsonPath, lineCounter: LinePositions): SourcePosition | null {
  let node = resolveAlias(doc, root);
  let at: Node | null = node;
  for (const segment of path) {
    if (!node) return null;
    if (isMap(node)) {
      const pair = findPair(doc, node, String(segment));
      if (!pair) return null;
      at = pair.key ?? pair.value;
      node = resolveAlias(doc, pair.value);
    } else if (isSeq(node) && typeof segment === "number") {
      const item = (node.items[segment] as Node | undefined) ?? null;
      if (!item) return null;
      at = item;
      node = resolveAlias(doc, item);
    } else return null;
  }
  if (!at?.range) return null;
  const { line, col } = lineCounter.linePos(at.range[0]);
  return { line, column: col };
}

// ---------- classification ----------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `List` (kubectl get -o json) and typed lists (`StatefulSetList`). */
export function isListObject(v: Record<string, unknown>): boolean {
  return Array.isArray(v.items) && typeof v.kind === "string" && v.kind.endsWith("List");
}

/** Files that are not manifests by name: Helm chart metadata and values, kustomizations. */
export function notAManifestFile(file: string): string | null {
  const name = basename(file);
  if (/^Chart\.(ya?ml|lock)$/.test(name)) return "a Helm chart's metadata (Chart.yaml), not a Kubernetes object";
  if (/^values([.-].*)?\.(ya?ml|json)$/.test(name) || name === "values.schema.json") return "Helm values, not a Kubernetes object: render the chart and audit the output";
  if (/^(kustomization\.ya?ml|Kustomization)$/.test(name)) return "a kustomization: audit the output of `kustomize build`";
  return null;
}

/**
 * Helm template actions that a rendered manifest never contains. Go templates
 * in values (alert annotations like `{{ $labels.instance }}`) do not match.
 * Linear: one alternation after a fixed prefix, no nested quantifiers.
 */
const HELM_ACTION = /\{\{-?\s*(?:\.Values\b|\.Release\b|\.Chart\b|\.Capabilities\b|\.Files\b|\.Template\b|include\s|template\s|toYaml\s|tpl\s|if\s|else\b|end\b|range\s|with\s|define\s|\$\.)/;
/**
 * Helm's own objects and functions: in a scalar they mean an unrendered chart.
 * Control actions alone (`{{ with $labels.cluster }}`) do not: Prometheus alert
 * templates use them in rendered manifests.
 */
const HELM_OBJECT = /\.(?:Values|Release|Chart|Capabilities|Files)\b|\binclude\s|\btoYaml\b|\btpl\s/;
/** A string holding a template action that names Helm's objects: an unrendered chart's value (markTemplateValues). */
export function isTemplateValue(value: string): boolean {
  return value.includes("{{") && HELM_OBJECT.test(value);
}

export const UNRENDERED_TEMPLATE = "unrendered template: render it first (helm template …)";

/**
 * What a template value becomes in the object the policies judge: a Kubernetes
 * variable reference that no container can define (env names never contain
 * `=`), which the analysis reads as unknown text — `$(…)` is how it spells
 * "unknown", never a finding — in flags, hosts and shell scripts alike.
 */
export const TEMPLATE_VALUE = "$(unrendered=template)";

/** `text` with every `{{ … }}` action replaced by TEMPLATE_VALUE (one indexOf pass: linear). */
export function replaceTemplateActions(text: string): string {
  let out = "";
  let at = 0;
  for (let open = text.indexOf("{{"); open >= 0; open = text.indexOf("{{", at)) {
    const close = text.indexOf("}}", open + 2);
    out += text.slice(at, open) + TEMPLATE_VALUE;
    at = close < 0 ? text.length : close + 2;
    if (close < 0) break;
  }
  return out + text.slice(at);
}

/**
 * A Helm template YAML cannot read (template actions that break its structure:
 * `{{- if … }}` lines, …): the document is skipped as an unrendered template.
 */
function unreadableTemplate(doc: Document.Parsed, text: string): boolean {
  if (doc.errors.length === 0) return false;
  const docText = text.slice(doc.range[0], doc.range[2]);
  return docText.includes("{{") && HELM_ACTION.test(docText);
}

/**
 * Template values in a document YAML reads: a scalar naming Helm's objects
 * (`--port={{ .Values.port }}`, in any quoting style) has each action replaced by
 * TEMPLATE_VALUE; a flow mapping opened by `{{` (`port: {{ .Values.port }}`,
 * YAML's reading of an unquoted action) becomes TEMPLATE_VALUE. The document
 * is changed in place (positions kept); returns how many values were replaced.
 * Templates in strings that name none of Helm's objects (alert annotations,
 * injection templates) are data and stay as written.
 */
export function markTemplateValues(doc: Document.Parsed, text: string): number {
  if (!text.slice(doc.range[0], doc.range[2]).includes("{{")) return 0;
  let count = 0;
  const marked = (node: Node, value: string) => {
    count++;
    const scalar = new Scalar(value);
    scalar.range = node.range;
    return scalar;
  };
  visit(doc, (_key, node) => {
    if (isScalar(node) && typeof node.value === "string" && isTemplateValue(node.value)) return marked(node, replaceTemplateActions(node.value));
    if (isMap(node) && node.flow && node.range && text.startsWith("{{", node.range[0])) return marked(node, TEMPLATE_VALUE);
    return undefined;
  });
  return count;
}

/** Strategic-merge-patch directives: only kustomize patches carry them. */
function patchDirective(value: unknown): string | null {
  const stack: unknown[] = [value];
  let visited = 0;
  while (stack.length > 0 && visited++ < 1_000_000) {
    const v = stack.pop();
    if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (isRecord(v))
      for (const key of Object.keys(v)) {
        if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/") || key.startsWith("$deleteFromPrimitiveList/")) return key;
        stack.push(v[key]);
      }
  }
  return null;
}

/** The first document of a YAML stream as the yaml package reads it (toJS, kubectl's alias limit); undefined when there is none. */
export function firstYamlDocument(text: string): unknown {
  return parseYamlDocuments(text)[0]?.toJS({ maxAliasCount: DEFAULT_MAX_ALIAS_COUNT });
}

/** Paths of the files a kustomization uses as patches (they are partial objects, not manifests), its first document read by `firstDocument`. */
export function kustomizePatchFiles(kustomization: string, firstDocument: (text: string) => unknown = firstYamlDocument): string[] {
  let value: unknown;
  try {
    value = firstDocument(readFileSync(kustomization, "utf8"));
  } catch {
    return [];
  }
  if (!isRecord(value)) return [];
  const dir = dirname(kustomization);
  const out: string[] = [];
  const add = (p: unknown) => {
    if (typeof p === "string" && !p.includes("\n")) out.push(resolve(dir, p));
  };
  for (const key of ["patchesStrategicMerge", "patches", "patchesJson6902"]) {
    const list = value[key];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      if (typeof entry === "string") add(entry);
      else if (isRecord(entry)) add(entry.path);
    }
  }
  return out;
}

// ---------- files and folders ----------

interface WalkResult {
  files: string[];
  /** Real paths of the kustomizations found, to learn which files are patches. */
  kustomizations: string[];
  /** The files' sizes added up as the walk saw them (stdin counts 0): whether reading is worth threads. */
  bytes: number;
  /** Each file's size as the walk saw it (-1 for stdin): which files a reader thread may open itself. */
  sizes: number[];
}

/** Expand paths: folders recursively (manifest files only, sorted), files as given. */
export function manifestFiles(paths: string[], unreadable: ManifestError[], skipped: ManifestSkip[]): WalkResult {
  const out: WalkResult = { files: [], kustomizations: [], bytes: 0, sizes: [] };
  const visitedDirs = new Set<string>();
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code;
  const entryProblem = (e: unknown) => (code(e) === "ENOENT" ? "dangling symbolic link" : code(e) === "ELOOP" ? "symbolic link loop" : (e as Error).message);
  // A folder or file that exists but cannot be read (permissions, I/O) leaves the audit
  // incomplete: it is unreadable (exit 2), wherever it is. Dangling symlinks and loops
  // inside folders point at nothing to read: skipped, with the reason.
  const cannotRead = (path: string, e: unknown) => unreadable.push({ file: path, documentIndex: null, kind: "unreadable", message: (e as Error).message });
  const walk = (dir: string) => {
    let real: string;
    try {
      real = realpathSync.native(dir);
    } catch (e) {
      if (code(e) === "ENOENT" || code(e) === "ELOOP") skipped.push({ file: dir, documentIndex: null, reason: "unreadable-entry", message: entryProblem(e) });
      else cannotRead(dir, e);
      return;
    }
    if (visitedDirs.has(real)) {
      skipped.push({ file: dir, documentIndex: null, reason: "unreadable-entry", message: "symbolic link loop: this folder was already read" });
      return;
    }
    visitedDirs.add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      cannotRead(dir, e);
      return;
    }
    for (const entry of entries) {
      const name = entry.name;
      if (name.startsWith(".") || name === "node_modules") continue;
      const p = join(dir, name);
      // The entry's type, when the folder says it, spares a stat: folders are walked, and regular
      // files that are not manifests are passed by (a quarter of a real repository's entries).
      if (entry.isDirectory()) {
        walk(p);
        continue;
      }
      const manifestName = MANIFEST_EXTENSIONS.test(name) || name === "Kustomization";
      if (entry.isFile() && !manifestName) continue;
      let isDir: boolean;
      let size: number;
      try {
        const stat = statSync(p); // follows symlinks
        isDir = stat.isDirectory();
        size = stat.size;
      } catch (e) {
        if (code(e) !== "ENOENT" && code(e) !== "ELOOP") cannotRead(p, e);
        else if (lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() || MANIFEST_EXTENSIONS.test(name))
          skipped.push({ file: p, documentIndex: null, reason: "unreadable-entry", message: entryProblem(e) });
        continue;
      }
      if (isDir) walk(p);
      else if (manifestName) {
        out.files.push(p);
        out.sizes.push(size);
        out.bytes += size;
        if (/^(kustomization\.ya?ml|Kustomization)$/.test(name)) out.kustomizations.push(p);
      }
    }
  };
  for (const p of paths) {
    if (p === "-") {
      out.files.push(p);
      out.sizes.push(-1);
      continue;
    }
    try {
      const stat = statSync(p);
      if (stat.isDirectory()) {
        const before = out.files.length + skipped.length + unreadable.length;
        walk(p);
        // A folder with nothing to read is a wrong path more often than an empty render: say so (exit 2).
        if (out.files.length + skipped.length + unreadable.length === before)
          unreadable.push({ file: p, documentIndex: null, kind: "unreadable", message: "no *.yaml, *.yml or *.json file in this folder or below" });
      } else {
        out.files.push(p);
        out.sizes.push(stat.size);
        out.bytes += stat.size;
      }
    } catch (e) {
      unreadable.push({ file: p, documentIndex: null, kind: "unreadable", message: code(e) === "ENOENT" ? "no such file or directory" : code(e) === "ELOOP" ? "symbolic link loop" : (e as Error).message });
    }
  }
  return out;
}

/** Stdin that held no document at all: an empty render, or a pipeline whose first command failed. */
export const EMPTY_STDIN: ManifestError = { file: "<stdin>", documentIndex: null, kind: "unreadable", message: "it held no YAML or JSON document (did the command before the pipe fail?)" };

// ---------- one document ----------

/** A document's object as the reader found it, before `locate` is attached. */
export interface ReadObject {
  file: string;
  documentIndex: number;
  itemIndex: number | null;
  line: number;
  object: Record<string, unknown>;
}

/**
 * What one YAML document holds, as far as classifying it goes: every reader
 * (the sequential one below, the parallel one in read-parallel.ts) reduces a
 * document to this, and `classifyDocument` turns it into objects, skips and
 * errors the same way for all of them.
 */
export type DocumentReading =
  | { kind: "unrendered-template"; line: number }
  | { kind: "yaml-error"; message: string; line: number; column: number }
  | { kind: "alias-limit"; line: number }
  | {
      kind: "value";
      /** toJS of the document (null: an empty document). */
      value: unknown;
      /** The reader saw no key starting with "$" anywhere: no strategic-merge directive to look for. */
      noDollarKeys?: true;
      /** Line of the document's contents (of the document itself when it has none). */
      line: number;
      /** Line of the node of `items[i]` (a List's item), `line` when the source has none. */
      itemLine(itemIndex: number): number;
    };

/** A document of the yaml package reduced to what classification needs (`text` is what `doc` was parsed from). */
export function readDocument(doc: Document.Parsed, text: string, position: (offset: number) => SourcePosition, maxAliasCount: number): DocumentReading {
  const docLine = position(doc.range[0]).line;
  if (unreadableTemplate(doc, text)) return { kind: "unrendered-template", line: docLine };
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    // Where the stack ran out depends on the reader's stack: a document nested too deep is placed at its start.
    if (first.code === "RESOURCE_EXHAUSTION") return { kind: "yaml-error", message: NESTED_TOO_DEEP, ...position(doc.range[0]) };
    return { kind: "yaml-error", message: `not valid YAML: ${first.message.split("\n")[0]}`, ...position(first.pos[0]) };
  }
  markTemplateValues(doc, text);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    return { kind: "alias-limit", line: docLine };
  }
  const contents = doc.contents as ParsedNode | null;
  const lineOf = (node: Node | null | undefined, fallback: number) => (node?.range ? position(node.range[0]).line : fallback);
  const line = lineOf(contents, docLine);
  return { kind: "value", value, line, itemLine: (itemIndex) => lineOf(listItemNode(doc, itemIndex), line) };
}

/** The node of a List document's `items[itemIndex]`, or the contents for null: what `locate` starts from. */
export function rootNode(doc: Document, itemIndex: number | null): Node | null {
  return itemIndex === null ? ((doc.contents as Node | null) ?? null) : listItemNode(doc, itemIndex);
}

function listItemNode(doc: Document, itemIndex: number): Node | null {
  const contents = doc.contents as Node | null;
  const itemsNode = resolveAlias(doc, isMap(contents) ? ((contents.get("items", true) as Node | undefined) ?? null) : null);
  return isSeq(itemsNode) ? ((itemsNode.items[itemIndex] as Node | undefined) ?? null) : null;
}

/** What running out of stack while reading a document means, in plain words (not "Maximum call stack size exceeded"). */
export const NESTED_TOO_DEEP = "nested too deep to read (hundreds of levels of lists or mappings, or more): not read";

/** A file's reading error in plain words. */
export function readingFailure(e: unknown): string {
  return e instanceof RangeError && /call stack/i.test(e.message) ? NESTED_TOO_DEEP : `cannot read: ${(e as Error).message}`;
}

/** The message of an alias-limit error (the "billion laughs" guard). */
const aliasLimitMessage = (maxAliasCount: number) =>
  `too many YAML alias expansions (more than ${maxAliasCount} for this document, the guard against "billion laughs" alias bombs): not read`;

export interface DocumentSink {
  object(o: ReadObject, itemIndex: number | null): void;
  error(e: ManifestError): void;
  skip(s: ManifestSkip): void;
}

/** One document's reading → objects (a List gives one per item), skips and errors. */
export function classifyDocument(reading: DocumentReading, file: string, documentIndex: number, options: { maxAliasCount: number; kustomizePatch?: boolean }, out: DocumentSink): void {
  if (reading.kind === "unrendered-template") {
    out.skip({ file, documentIndex, reason: "unrendered-template", message: UNRENDERED_TEMPLATE, line: reading.line });
    return;
  }
  if (reading.kind === "yaml-error") {
    out.error({ file, documentIndex, kind: "yaml", message: reading.message, line: reading.line, column: reading.column });
    return;
  }
  if (reading.kind === "alias-limit") {
    out.error({ file, documentIndex, kind: "alias-limit", message: aliasLimitMessage(options.maxAliasCount), line: reading.line, column: 1 });
    return;
  }
  const value = reading.value;
  if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
  const line = reading.line;
  if (!isRecord(value)) {
    out.skip({ file, documentIndex, reason: "not-an-object", message: `not a Kubernetes object: a ${Array.isArray(value) ? "list" : typeof value}`, line });
    return;
  }
  const accept = (object: Record<string, unknown>, itemIndex: number | null, objectLine: number) => {
    const directive = reading.noDollarKeys ? null : patchDirective(object);
    if (directive || options.kustomizePatch) {
      const why = directive ? `kustomize patch (${directive})` : "kustomize patch (listed in a kustomization)";
      out.skip({ file, documentIndex, reason: "kustomize-patch", message: `${why}: a partial object; audit the output of \`kustomize build\``, line: objectLine });
      return;
    }
    if (typeof object.kind !== "string" || typeof object.apiVersion !== "string") {
      out.skip({ file, documentIndex, reason: "not-an-object", message: "not a Kubernetes object: apiVersion and kind are required", line: objectLine });
      return;
    }
    out.object({ file, documentIndex, itemIndex, line: objectLine, object }, itemIndex);
  };
  if (isListObject(value)) {
    // A typed List (`StatefulSetList` from a client) may leave kind and apiVersion off its items.
    const listKind = value.kind as string;
    const itemKind = listKind === "List" ? undefined : listKind.slice(0, -"List".length);
    (value.items as unknown[]).forEach((item, itemIndex) => {
      const itemLine = reading.itemLine(itemIndex);
      if (!isRecord(item)) {
        out.skip({ file, documentIndex, reason: "not-an-object", message: `items[${itemIndex}] is not an object`, line: itemLine });
        return;
      }
      const typed = { ...item };
      if (itemKind && typed.kind === undefined) typed.kind = itemKind;
      if (itemKind && typed.apiVersion === undefined && typeof value.apiVersion === "string") typed.apiVersion = value.apiVersion;
      accept(typed, itemIndex, itemLine);
    });
    return;
  }
  accept(value, null, line);
}

// ---------- one file ----------

export interface ParsedFile {
  objects: ManifestObject[];
  errors: ManifestError[];
  skipped: ManifestSkip[];
  documents: Document.Parsed[];
}

/** Parse one file's text into objects, skipped documents and per-document errors. */
export function parseManifestText(text: string, file: string, options: { maxAliasCount?: number; kustomizePatch?: boolean } = {}): ParsedFile {
  const maxAliasCount = options.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT;
  const lineCounter = new LineCounter();
  const documents = parseYamlDocuments(text, lineCounter);
  const out: ParsedFile = { objects: [], errors: [], skipped: [], documents };
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  documents.forEach((doc, documentIndex) => {
    const sink: DocumentSink = {
      object: (o, itemIndex) => {
        const root = rootNode(doc, itemIndex);
        out.objects.push({ ...o, locate: (path: JsonPath) => locateIn(doc, root, path, lineCounter) });
      },
      error: (e) => out.errors.push(e),
      skip: (s) => out.skipped.push(s),
    };
    classifyDocument(readDocument(doc, text, position, maxAliasCount), file, documentIndex, { maxAliasCount, ...(options.kustomizePatch ? { kustomizePatch: true } : {}) }, sink);
  });
  return out;
}

export function readManifests(paths: string[], options: ReadOptions = {}): ManifestSet {
  const readStdin = options.readStdin ?? (() => readFileSync(0));
  const set: ManifestSet = { objects: [], errors: [], skipped: [], unreadable: [], files: [], sources: new Map() };
  const walked = manifestFiles(paths.length === 0 ? ["-"] : paths, set.unreadable, set.skipped);
  const patches = new Set<string>();
  for (const k of walked.kustomizations) for (const p of kustomizePatchFiles(k)) patches.add(p);
  for (const file of walked.files) {
    const name = file === "-" ? "<stdin>" : relative(process.cwd(), file) || file;
    const notManifest = file === "-" ? null : notAManifestFile(file);
    if (notManifest) {
      set.skipped.push({ file: name, documentIndex: null, reason: "not-a-manifest", message: notManifest });
      continue;
    }
    let bytes: Buffer;
    let identity: FileIdentity | undefined;
    try {
      if (file === "-") bytes = readStdin();
      else ({ bytes, identity } = readManifestFile(file));
    } catch (e) {
      set.unreadable.push({ file: name, documentIndex: null, kind: "unreadable", message: (e as Error).message });
      continue;
    }
    set.files.push(name);
    if (file !== "-") set.sources.set(name, { path: file, bytes, ...(identity ? { identity } : {}) });
    let parsed: Pick<ParsedFile, "objects" | "errors" | "skipped">;
    try {
      const fileOptions = { ...(options.maxAliasCount === undefined ? {} : { maxAliasCount: options.maxAliasCount }), kustomizePatch: file !== "-" && patches.has(resolve(file)) };
      parsed = options.readBytes ? options.readBytes(bytes, name, fileOptions) : parseManifestText(bytes.toString("utf8"), name, fileOptions);
    } catch (e) {
      // Whatever goes wrong in one file is that file's error; the others are still read.
      set.errors.push({ file: name, documentIndex: null, kind: "yaml", message: readingFailure(e) });
      continue;
    }
    for (const o of parsed.objects) set.objects.push(o);
    for (const e of parsed.errors) set.errors.push(e);
    for (const s of parsed.skipped) set.skipped.push(s);
    if (file === "-" && parsed.objects.length + parsed.errors.length + parsed.skipped.length === 0) set.unreadable.push(EMPTY_STDIN);
  }
  return set;
}
