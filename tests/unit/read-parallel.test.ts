/**
 * The parallel reader (src/audit/read-parallel.ts) against the reference
 * (readManifests): the same objects, values, lines, locations, skips, errors,
 * files and bytes, with worker threads and without, for any job size: on the
 * shapes that make splitting a stream hard (`---` in block scalars, unclosed
 * quotes and flows, directives, document-end markers, BOM and CRLF, a bad
 * document in the middle), on generated fleets and on ../shared/corpus.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fastReadDocument } from "../../src/audit/fast-yaml.js";
import { defaultReaderThreads, firstDocument, type ParallelReadOptions, readManifestBytes, readManifestsParallel, splitDocuments } from "../../src/audit/read-parallel.js";
import { firstYamlDocument, kustomizePatchFiles, type ManifestObject, type ManifestSet, manifestFiles, parseManifestText, readingFailure, readManifests } from "../../src/audit/read.js";
import { keptOf, type WholeObjects } from "../../src/audit/selection.js";
import { fleetYaml } from "../../src/bench/fleet.js";
import { ROOT } from "../helpers.js";
import { snapshot } from "./manifest-yaml.js";

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: &labels
    app: ${name}
spec:
  selector:
    matchLabels: *labels
  template:
    metadata:
      labels: *labels
    spec:
      containers:
      - name: app
        image: example/${name}:1
        args: ["--listen-address=127.0.0.1:8080"]
        livenessProbe:
          httpGet: {path: /healthz, port: 8080}
`;
const configMap = (name: string, body: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
  config.yaml: |
${body}`;

/** Files that make splitting a stream at its document markers hard. */
const EDGE_CASES: Record<string, string> = {
  // `---` lines inside a block scalar are content, not markers (they are indented).
  "block-scalar-dashes.yaml": `${configMap("dashes", "    a: 1\n    ---\n    b: 2\n     ---\n    ...\n")}---\n${deployment("after-dashes")}`,
  // A top-level block scalar with unindented content ends at a marker.
  "top-level-block-scalar.yaml": `--- |\nfoo\n--- bar\n---\n${deployment("after-scalar")}--- >\n folded\n`,
  // An unclosed quote ends at the next marker when a quote character follows somewhere...
  "unclosed-quote.yaml": `${deployment("before")}---\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: 'x\n  b: y\n---\n${deployment("middle")}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: 'quoted'}\n`,
  // ...and runs over every marker to the end of the file when none does.
  "unclosed-quote-to-eof.yaml": `${deployment("before")}---\na: "x\n---\n${deployment("swallowed").replace(/"/g, "")}`,
  "unclosed-flow.yaml": `apiVersion: v1\nkind: ConfigMap\ndata: [1,\n  2\n---\n${deployment("after-flow")}---\n{a: [\n`,
  "bom-crlf.yaml": `\uFEFF# exported\r\n---\r\n${deployment("crlf-1").replace(/\n/g, "\r\n")}---\r\n${deployment("crlf-2").replace(/\n/g, "\r\n")}`,
  "bad-in-the-middle.yaml": [
    deployment("good-1"),
    "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n  - c\n",
    `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n",
    "- just\n- a\n- list\n",
    "plain scalar\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s}\n- 42\n- kind: ConfigMap\n  apiVersion: v1\n  metadata:\n    name: c\n    $patch: delete\n",
    deployment("good-2"),
  ].join("---\n"),
  "typed-list.yaml": `apiVersion: apps/v1\nkind: StatefulSetList\nitems:\n  - metadata:\n      name: s1\n    spec:\n      template:\n        spec:\n          containers: []\n  -\n    metadata: {name: s2}\n`,
  "prelude-comments.yaml": `# generated\n\n# do not edit\n---\n${deployment("p1")}---\n# only a comment\n---\n---\n${deployment("p2")}---\n`,
  "directives.yaml": `%YAML 1.1\n---\n${deployment("d1")}...\n---\n${deployment("d2")}`,
  "doc-end.yaml": `${deployment("e1")}...\n${deployment("e2")}...\n`,
  "no-final-newline.yaml": `${deployment("n1")}---\n${configMap("n2", "    last line")}`,
  "marker-lookalikes.yaml": `${configMap("look", "    x\n")}---x: 1\n----: 2\n--- # a marker\n${deployment("l1")}---\t\n${deployment("l2")}`,
  "deep.yaml": `apiVersion: v1\nkind: ConfigMap\ndata:\n${Array.from({ length: 150 }, (_, i) => `${" ".repeat(i + 1)}k${i}:`).join("\n")}\n${" ".repeat(151)}end\n---\n${deployment("after-deep")}`,
  "too-deep.yaml": `${deployment("before-too-deep")}---\napiVersion: v1\nkind: ConfigMap\ndata: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n---\n${deployment("after-too-deep")}`,
  "empty.yaml": "",
  "only-comments.yaml": "# nothing here\n",
  "list.json": JSON.stringify({ apiVersion: "v1", kind: "List", items: [JSON.parse(JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "j" } }))] }, null, 2),
  "patch.yaml": `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: patched\n`,
  "kustomization.yaml": "resources: []\npatches:\n- path: patch.yaml\n",
};

/** Equal sets, with what differs in positions left to `snapshot` (too-deep: where the stack ran out is not a position). */
function comparable(set: Pick<ManifestSet, "objects" | "errors" | "skipped">, pathLimit = 60) {
  const s = snapshot(set, pathLimit);
  return { ...s, errors: s.errors.map((e) => (e.message.includes("Maximum call stack") ? { ...e, line: "any", column: "any" } : e)) };
}

function sameSets(parallel: ManifestSet, reference: ManifestSet, pathLimit = 60): void {
  expect(comparable(parallel, pathLimit)).toEqual(comparable(reference, pathLimit));
  expect(parallel.unreadable).toEqual(reference.unreadable);
  expect(parallel.files).toEqual(reference.files);
  expect([...parallel.sources.keys()]).toEqual([...reference.sources.keys()]);
  for (const [name, source] of reference.sources) expect(Buffer.compare(parallel.sources.get(name)!.bytes, source.bytes), name).toBe(0);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lpp-read-parallel-"));
  mkdirSync(join(dir, "edge"));
  for (const [name, text] of Object.entries(EDGE_CASES)) writeFileSync(join(dir, "edge", name), text);
  writeFileSync(join(dir, "fleet.yaml"), fleetYaml(600).text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("splitting a stream at its document markers", () => {
  it("cuts at `---` at the start of a line followed by a space, a tab or the line's end; not inside block scalars; not with directives or `...`", () => {
    const segments = (text: string) => splitDocuments(Buffer.from(text))?.map((s) => [s.line, Buffer.from(text).toString("utf8", s.start, s.end).split("\n")[0]]);
    expect(segments(EDGE_CASES["block-scalar-dashes.yaml"]!)).toEqual([[1, "apiVersion: v1"], [12, "---"]]);
    expect(segments(EDGE_CASES["marker-lookalikes.yaml"]!)).toEqual([[1, "apiVersion: v1"], [10, "--- # a marker"], [30, "---\t"]]);
    expect(segments("---\na: 1\n---\r\nb: 2\n")).toEqual([[1, "---"], [3, "---\r"]]);
    expect(segments(EDGE_CASES["directives.yaml"]!)).toBeUndefined();
    expect(segments(EDGE_CASES["doc-end.yaml"]!)).toBeUndefined();
    expect(segments("")).toEqual([]);
  });
});

describe("the parallel reader reads as readManifests does", () => {
  it("each hard case, for any job size, on this thread", () => {
    for (const [name, text] of Object.entries(EDGE_CASES))
      for (const chunkBytes of [1, 50, 4096, 1 << 20]) {
        const bytes = Buffer.from(text);
        let reference: ReturnType<typeof parseManifestText> | { objects: ManifestObject[]; errors: ManifestSet["errors"]; skipped: [] };
        try {
          reference = parseManifestText(bytes.toString("utf8"), name);
        } catch (e) {
          reference = { objects: [], errors: [{ file: name, documentIndex: null, kind: "yaml", message: readingFailure(e) }], skipped: [] };
        }
        expect(comparable(readManifestBytes(bytes, name, { chunkBytes })), `${name}, jobs of ${chunkBytes} bytes`).toEqual(comparable(reference));
      }
  });

  it("a folder of them and a fleet, on worker threads with small jobs, streaming objects in order", async () => {
    const batches: ManifestObject[][] = [];
    const progress: { parsedBytes: number; totalBytes: number }[] = [];
    let threads = 0;
    const paths = [join(dir, "edge"), join(dir, "fleet.yaml"), join(dir, "missing.yaml")];
    const options: ParallelReadOptions = {
      inlineBelow: 0,
      chunkBytes: 2048,
      threads: 2,
      onObjects: (objects) => batches.push([...objects]),
      onProgress: (p) => progress.push(p),
      onThreads: (n) => (threads = n),
    };
    const parallel = await readManifestsParallel(paths, options);
    sameSets(parallel, readManifests(paths));
    expect(threads).toBe(2);
    // Every object was streamed, in order; too-deep.yaml was read again on the main thread,
    // so its first object came twice (the one from the worker is not in the set)...
    const streamed = batches.flat();
    expect(streamed.filter((o) => parallel.objects.includes(o))).toEqual(parallel.objects);
    expect(streamed.filter((o) => !parallel.objects.includes(o)).map((o) => (o.object.metadata as { name: string }).name)).toEqual(["before-too-deep"]);
    expect(batches.length).toBeGreaterThan(10);
    // ...and the progress ends with everything parsed.
    expect(progress.at(-1)).toMatchObject({ parsedBytes: progress.at(-1)!.totalBytes });
    expect(progress.every((p, i) => i === 0 || p.parsedBytes >= progress[i - 1]!.parsedBytes)).toBe(true);
  });

  it("with no reader threads (the default on up to 2 cores), this thread reads any input, handing objects on in order and giving way to other work as it goes", async () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultReaderThreads(cores))).toEqual([0, 0, 2, 3, 15]);
    const batches: ManifestObject[][] = [];
    const paths = [join(dir, "edge"), join(dir, "fleet.yaml")];
    // Work queued while reading (an evaluation's answer, say) runs before the reading ends: each turn
    // it has, this notes how many batches had been handed on.
    const turns: number[] = [];
    let reading = true;
    const turn = () => {
      turns.push(batches.length);
      if (reading) setImmediate(turn);
    };
    setImmediate(turn);
    const progress: number[] = [];
    const parallel = await readManifestsParallel(paths, {
      threads: 0,
      chunkBytes: 2048,
      pauseEveryMs: 0,
      onThreads: () => {
        throw new Error("no thread should start");
      },
      onObjects: (o) => batches.push([...o]),
      onProgress: (p) => progress.push(p.parsedBytes),
    });
    reading = false;
    sameSets(parallel, readManifests(paths));
    expect(batches.flat().filter((o) => parallel.objects.includes(o))).toEqual(parallel.objects);
    expect(turns.some((n) => n > 0 && n < batches.length)).toBe(true);

    // Each file is opened when its turn comes: one removed once the first objects were handed on is
    // unreadable, said as for any file, in its place.
    const lazy = join(dir, "lazy");
    mkdirSync(lazy);
    for (const n of ["a", "b", "c"]) writeFileSync(join(lazy, `${n}.yaml`), deployment(n));
    const read = await readManifestsParallel([lazy], { threads: 0, onObjects: () => rmSync(join(lazy, "b.yaml"), { force: true }) });
    expect(read.objects.map((o) => (o.object.metadata as { name: string }).name)).toEqual(["a", "c"]);
    expect(read.unreadable.map((u) => [u.file.endsWith("b.yaml"), u.message])).toEqual([[true, expect.stringMatching(/^ENOENT: no such file or directory, open /)]]);
    expect(progress.at(-1)).toBeGreaterThan(progress[0]!);
  });

  it("kustomizations: the fast reader's first document is the yaml package's (firstYamlDocument), on hard cases and every kustomization of ../shared/corpus", () => {
    const texts = [
      "resources: []\npatches:\n- path: patch.yaml\n",
      "# a comment first\n\n---\npatchesStrategicMerge:\n- a.yaml\n- 'b.yaml'\n---\npatches: [c.yaml]\n",
      "\uFEFFpatches:\n  - path: \"p.yaml\"\n    target:\n      kind: Deployment\n",
      "patches:\n- path: {{ .Values.p }}\n", // a template action: the yaml package reads it as it is
      "patches:\n- &p\n  path: x.yaml\n- *p\n",
      "patches:\n\t- bad\n", // a tab: yaml's (and an error)
      "# only a comment\n",
      "",
      "---\n",
      "patchesJson6902:\n- path: j.yaml\n  target: {kind: Service, name: s}\npatches: 1\n",
    ];
    for (const text of texts) expect(firstDocument(text), JSON.stringify(text)).toEqual(firstYamlDocument(text));
    // The fast reader does read the plain ones.
    expect(fastReadDocument(texts[0]!, { prelude: true, maxAliasCount: 100 })?.value).toEqual({ resources: [], patches: [{ path: "patch.yaml" }] });
    const corpus = join(ROOT, "..", "shared", "corpus");
    if (!existsSync(corpus)) return;
    const kustomizations = manifestFiles([corpus], [], []).kustomizations;
    expect(kustomizations.length).toBeGreaterThan(20);
    for (const k of kustomizations) expect(kustomizePatchFiles(k, firstDocument), k).toEqual(kustomizePatchFiles(k));
  });

  it("stdin, read once, on worker threads", async () => {
    const text = `${EDGE_CASES["bad-in-the-middle.yaml"]}---\n${fleetYaml(40).text}`;
    let reads = 0;
    const readStdin = () => (reads++, Buffer.from(text));
    sameSets(await readManifestsParallel(["-"], { readStdin, inlineBelow: 0, threads: 1, chunkBytes: 1000 }), readManifests(["-"], { readStdin }));
    expect(reads).toBe(2);
  });

  it("a file a worker cannot read (nested too deep for its stack) is read again on the main thread, and the objects of the file given again", async () => {
    const batches: ManifestObject[][] = [];
    const file = join(dir, "edge", "too-deep.yaml");
    const parallel = await readManifestsParallel([file], { inlineBelow: 0, threads: 1, chunkBytes: 1, onObjects: (o) => batches.push([...o]) });
    sameSets(parallel, readManifests([file]));
    expect(parallel.errors.map((e) => e.message)).toEqual(["nested too deep to read (hundreds of levels of lists or mappings, or more): not read"]);
    // The first document came from a worker, then the whole file again from the reference reader.
    expect(batches.flat().map((o) => (o.object.metadata as { name: string }).name)).toEqual(["before-too-deep", "before-too-deep", "after-too-deep"]);
    expect(parallel.objects).not.toContain(batches[0]![0]);
  });

  it("small files are opened and read by the threads themselves, in groups: the same sets, the same bytes and file identities, an unreadable file said as the main thread says it", async () => {
    const batches: ManifestObject[][] = [];
    const paths = [join(dir, "edge"), join(dir, "fleet.yaml")];
    const reference = readManifests(paths);
    // Every file is below the job size, so every one goes to a thread by name.
    const parallel = await readManifestsParallel(paths, { inlineBelow: 0, chunkBytes: 4 << 20, threads: 2, onObjects: (o) => batches.push([...o]) });
    sameSets(parallel, reference);
    for (const [name, source] of reference.sources) expect(parallel.sources.get(name)!.identity, name).toEqual(source.identity);
    // too-deep.yaml failed in its thread (its stack) as a whole, and was read here instead: each object streamed once.
    expect(parallel.errors.map((e) => e.message)).toContain("nested too deep to read (hundreds of levels of lists or mappings, or more): not read");
    expect(batches.flat()).toEqual(parallel.objects);

    // A file gone between the walk and its reading (the threads start after the walk).
    const gone = join(dir, "gone");
    mkdirSync(gone);
    writeFileSync(join(gone, "a.yaml"), deployment("a"));
    writeFileSync(join(gone, "b.yaml"), deployment("b"));
    const withGone = await readManifestsParallel([gone], { inlineBelow: 0, threads: 1, onThreads: () => rmSync(join(gone, "a.yaml")) });
    expect(withGone.unreadable.map((u) => [u.file.endsWith("a.yaml"), u.message])).toEqual([[true, expect.stringMatching(/^ENOENT: no such file or directory, open /)]]);
    expect(withGone.objects.map((o) => (o.object.metadata as { name: string }).name)).toEqual(["b"]);
  });

  it("with `keep`, objects no policy selects arrive as their identity (apiVersion, kind, metadata), the others whole, from threads and from this thread alike", async () => {
    const keep: WholeObjects = { rules: [{ apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments", "statefulsets"], operations: ["CREATE"] }], kinds: ["Service"] };
    const paths = [join(dir, "edge"), join(dir, "fleet.yaml")];
    const reference = readManifests(paths);
    const expected = reference.objects.map((o) => keptOf(o.object, keep));
    for (const options of [{ inlineBelow: 0, threads: 1, chunkBytes: 4 << 20 }, { inlineBelow: 0, threads: 2, chunkBytes: 2048 }, { inlineBelow: 1 << 30 }, { threads: 0, chunkBytes: 2048 }] as ParallelReadOptions[]) {
      const parallel = await readManifestsParallel(paths, { ...options, keep });
      expect(parallel.objects.map((o) => o.object)).toEqual(expected);
      expect(parallel.objects.map(({ file, documentIndex, itemIndex, line }) => ({ file, documentIndex, itemIndex, line }))).toEqual(reference.objects.map(({ file, documentIndex, itemIndex, line }) => ({ file, documentIndex, itemIndex, line })));
    }
    // What that keeps: Deployments (and the fleet's StatefulSets) whole, Services whole (a kind a policy reads), the rest by identity.
    const kinds = (whole: boolean) => [...new Set(expected.filter((o, i) => (o === reference.objects[i]!.object) === whole).map((o) => o.kind))].sort();
    expect(kinds(true)).toEqual(["Deployment", "Service", "StatefulSet"]);
    expect(kinds(false)).toEqual(expect.arrayContaining(["ConfigMap", "Pod"]));
    const configMap = expected.find((o) => o.kind === "ConfigMap")!;
    expect(Object.keys(configMap)).toEqual(["apiVersion", "kind", "metadata"]);
  });

  it("stops when its signal aborts: the promise rejects with the signal's reason, no object after it", async () => {
    const stop = new AbortController();
    const objects: ManifestObject[] = [];
    const reading = readManifestsParallel([join(dir, "edge"), join(dir, "fleet.yaml")], { inlineBelow: 0, threads: 1, signal: stop.signal, onThreads: () => stop.abort(new Error("stopped")), onObjects: (o) => objects.push(...o) });
    await expect(reading).rejects.toThrow("stopped");
    expect(objects).toEqual([]);
  });

  const corpus = join(ROOT, "..", "shared", "corpus");
  it.runIf(existsSync(corpus))("every file of ../shared/corpus, with the default jobs and threads", async () => {
    sameSets(await readManifestsParallel([corpus], { inlineBelow: 0, threads: 1 }), readManifests([corpus]), 25);
  });
});
