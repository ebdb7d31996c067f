/**
 * The fast YAML reader (src/audit/fast-yaml.ts) gives the yaml package's
 * answer or none: through the parallel reader's engine (readManifestBytes),
 * every object, value (key order, -0, NaN, prototypes), line, location,
 * skip and error equals the reference reader's (parseManifestText), on random
 * streams, every YAML 1.1 plain scalar, alias limits and the bench fleet.
 * Quick profile in `npm test`; `npm run fuzz` style runs with FUZZ_RUNS.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Document, LineCounter } from "yaml";
import { FIRST_CHARACTER_DECIDES, fastLocator, fastReadDocument, unsure } from "../../src/audit/fast-yaml.js";
import { readManifestBytes, splitDocuments } from "../../src/audit/read-parallel.js";
import { locateIn, parseManifestText, parseYamlDocuments, readingFailure, rootNode, YAML_OPTIONS } from "../../src/audit/read.js";
import { keptOf, type WholeObjects } from "../../src/audit/selection.js";
import { fleetYaml } from "../../src/bench/fleet.js";
import { RUNS, SEED } from "../generators.js";
import { canonical, jsonManifestStream, manifestYamlStream, pathsOf, type Reading, snapshot, TRICKY_SCALARS, wildYamlStream } from "./manifest-yaml.js";

const params = { numRuns: RUNS, seed: SEED };

/** The reference: what readManifests makes of one file's bytes. */
function reference(bytes: Buffer, file = "g.yaml", options: { maxAliasCount?: number } = {}): Reading {
  try {
    return parseManifestText(bytes.toString("utf8"), file, options);
  } catch (e) {
    return { objects: [], errors: [{ file, documentIndex: null, kind: "yaml", message: readingFailure(e) }], skipped: [] };
  }
}

/** How many documents of `bytes` the fast reader reads itself, of how many. */
function fastShare(bytes: Buffer): { fast: number; documents: number } {
  const segments = splitDocuments(bytes) ?? [];
  let fast = 0;
  segments.forEach((s, k) => {
    const r = fastReadDocument(bytes.toString("utf8", s.start, s.end), { prelude: k === 0, maxAliasCount: 100 });
    if (r !== undefined && r !== null) fast++;
  });
  return { fast, documents: segments.length };
}

describe("the fast YAML reader answers as the yaml package does, or leaves the document to it", () => {
  it("random manifest-like streams, any job size: the same objects, values, lines, locations, skips and errors", () => {
    let fast = 0;
    let documents = 0;
    fc.assert(
      fc.property(manifestYamlStream, fc.constantFrom(1, 300, 1 << 20), (text, chunkBytes) => {
        const bytes = Buffer.from(text);
        const share = fastShare(bytes);
        fast += share.fast;
        documents += share.documents;
        expect(snapshot(readManifestBytes(bytes, "g.yaml", { chunkBytes }))).toEqual(snapshot(reference(bytes)));
      }),
      params,
    );
    // Not vacuous: most of these documents take the fast way.
    expect(fast / documents).toBeGreaterThan(0.3);
  });

  it("random manifest-like streams with CRLF line ends (a Windows checkout): the same objects, values, lines, locations, skips and errors as the reference reads from the same bytes, mostly by the fast reader", () => {
    let fast = 0;
    let documents = 0;
    fc.assert(
      fc.property(manifestYamlStream, (text) => {
        const bytes = Buffer.from(text.replace(/\n/g, "\r\n"));
        const share = fastShare(bytes);
        fast += share.fast;
        documents += share.documents;
        expect(snapshot(readManifestBytes(bytes, "g.yaml"))).toEqual(snapshot(reference(bytes)));
      }),
      params,
    );
    // Not vacuous: CRLF documents take the fast way as LF ones do.
    expect(fast / documents).toBeGreaterThan(0.3);
  });

  it("with `keep`, random streams read as the reference reader's objects reduced by keptOf: the same identities, whole objects, lines, skips and errors, whichever reader read them", () => {
    // Deployments (apps/v1) are selected and Pods read by a context-aware policy; ConfigMaps, Lists and the rest are kept by identity.
    const keep: WholeObjects = { rules: [{ apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"], operations: ["CREATE"] }], kinds: ["Pod"] };
    const kept = (r: Reading): Reading => ({ ...r, objects: r.objects.map((o) => ({ ...o, object: keptOf(o.object, keep) })) });
    let identities = 0;
    fc.assert(
      fc.property(fc.oneof(manifestYamlStream, wildYamlStream), fc.constantFrom(1, 300, 1 << 20), (text, chunkBytes) => {
        const bytes = Buffer.from(text);
        const read = readManifestBytes(bytes, "g.yaml", { chunkBytes, keep });
        identities += read.objects.filter((o) => keptOf(o.object, keep) !== o.object).length;
        expect(snapshot(read)).toEqual(snapshot(kept(reference(bytes))));
      }),
      params,
    );
    // Not vacuous: objects were kept by identity.
    expect(identities).toBeGreaterThan(10);
  });

  it("JSON documents (kubectl get -o json, .json manifests): read by JSON.parse where the yaml package reads the same — values, lines, List items, every location — else left to it", () => {
    let byJson = 0;
    let byYaml = 0;
    fc.assert(
      fc.property(jsonManifestStream, fc.constantFrom(1, 1 << 20), (text, chunkBytes) => {
        const bytes = Buffer.from(text);
        expect(snapshot(readManifestBytes(bytes, "j.json", { chunkBytes })), text).toEqual(snapshot(reference(bytes, "j.json")));
        if (fastReadDocument(text.split("\n---\n")[0]!, { prelude: true, maxAliasCount: 100 }) === undefined) byYaml++;
        else byJson++;
      }),
      params,
    );
    // Not vacuous: both readings were compared, most documents by JSON.parse.
    expect(byJson).toBeGreaterThan(byYaml);
    expect(byYaml).toBeGreaterThan(0);
    // A kubectl List: read by JSON.parse, its items' lines and the places of their fields as the yaml package gives them.
    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: fleetYaml(6).text.split("---\n").filter((d) => d.trim()).map((d) => parseManifestText(d, "d.yaml").objects[0]!.object) }, null, 4);
    const fast = fastReadDocument(list, { prelude: true, maxAliasCount: 100 });
    expect(fast?.itemLines).toHaveLength(6);
    const bytes = Buffer.from(`${list}\n`);
    expect(snapshot(readManifestBytes(bytes, "list.json"), 1000)).toEqual(snapshot(reference(bytes, "list.json"), 1000));
    // Numbers: as the yaml package's YAML 1.1 tags read them (each checked while scanning).
    expect(fastReadDocument(`{"a": 1e3, "b": -0, "c": 1E400, "d": 9007199254740993, "e": "1e3"}`, { prelude: true, maxAliasCount: 100 })?.value).toEqual({ a: 1000, b: -0, c: Infinity, d: 9007199254740992, e: "1e3" });
    // A `<<` key merges in YAML 1.1 (fast-check found this one): the yaml package's, and its reading.
    const merge = '{\n    "apiVersion":"v1",\n    "kind":"StatefulSetList",\n    "\\u0069tems":[\n        {\n            "<<":{\n                "apiVersion":"true"\n            }\n        }\n    ]\n}\n';
    expect(snapshot(readManifestBytes(Buffer.from(merge), "m.json"))).toEqual(snapshot(reference(Buffer.from(merge), "m.json")));
    // Left to the yaml package: a tab, a comment, nesting deeper than it is let read, a line separator, text after the object, `items` twice, `<<` written or escaped.
    for (const text of ['{"a": {"<<": {"b": 1}}}', '{"a": {"\\u003c\\u003C": {"b": 1}}}', '{"a":\t1}', '{"a": 1} # c', `{"a": ${"[".repeat(512)}${"]".repeat(512)}}`, '{"a": "x\u2028y"}', '{"a": 1} {}', '{"items": [], "items": [{}]}'])
      expect(fastReadDocument(text, { prelude: true, maxAliasCount: 100 }), text).toBeUndefined();
  });

  it("random streams of anything (invalid YAML, BOM, CRLF, tabs, no final newline)", () => {
    fc.assert(
      fc.property(wildYamlStream, fc.constantFrom(1, 1 << 20), (text, chunkBytes) => {
        const bytes = Buffer.from(text);
        expect(snapshot(readManifestBytes(bytes, "g.yaml", { chunkBytes }))).toEqual(snapshot(reference(bytes)));
      }),
      params,
    );
  });

  it("every YAML 1.1 plain scalar as a value, a key and an item resolves as the yaml package resolves it", () => {
    for (const s of TRICKY_SCALARS)
      for (const text of [
        `apiVersion: v1\nkind: ConfigMap\ndata:\n  v: ${s}\n`,
        `apiVersion: v1\nkind: ConfigMap\ndata:\n  ${s}: 1\n`,
        `apiVersion: v1\nkind: ConfigMap\ndata:\n- ${s}\n- x\n`,
        `apiVersion: v1\nkind: ConfigMap\ndata:\n  - k: ${s} # c\n    ${s}: v\n`,
      ]) {
        const bytes = Buffer.from(text);
        expect(snapshot(readManifestBytes(bytes, "s.yaml")), text).toEqual(snapshot(reference(bytes, "s.yaml")));
      }
    // The common ones really are read by the fast reader (true, 0x1F, .inf, 2001-12-14 is not: a Date).
    const value = (s: string) => (fastReadDocument(`a: ${s}\n`, { prelude: true, maxAliasCount: 100 }) as { value: Record<string, unknown> } | undefined)?.value.a;
    expect([value("yes"), value("0x1F"), value("-.inf"), value("017"), value("~"), value("1_000"), value("190:20:30")]).toEqual([true, 31, -Infinity, 15, null, 1000, 685230]);
    expect(value("2001-12-14")).toBeUndefined();
  });

  it("a plain scalar starting with a character no default tag accepts first is a string without trying the tags (FIRST_CHARACTER_DECIDES)", () => {
    // The shortcut is on with the pinned yaml package (its YAML 1.1 tag tests are the ones the reader knows).
    expect(FIRST_CHARACTER_DECIDES).toBe(true);
    const tests = (new Document(null, YAML_OPTIONS).schema.tags as unknown as { default?: unknown; test?: RegExp }[]).filter((t) => t.default && t.test).map((t) => t.test!);
    const mayResolve = new Set("~NnYyTtOoFfEe-+.0123456789<");
    // No tag test accepts a string starting elsewhere: every printable ASCII first character and non-ASCII
    // ones, followed by what would make it a number, a boolean, a date or a merge key after that character.
    const tails = ["", "0", "1", "es", "rue", "ull", ".5", "e3", "E3", "x1F", ":20", "001-12-14", "<", "_1", "inf", "ff", ".inf"];
    for (let code = 0; code < 0x250; code++) {
      const c = String.fromCharCode(code);
      if (mayResolve.has(c)) continue;
      for (const tail of tails) for (const t of tests) expect(t.test(c + tail), JSON.stringify(c + tail)).toBe(false);
    }
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }), (s) => {
        if (mayResolve.has(s[0]!)) return;
        for (const t of tests) expect(t.test(s)).toBe(false);
      }),
      params,
    );
    // And the strings it decides read as the yaml package reads them, at a value, a key and an item.
    for (const s of ["Ñull", "étrue", "_1", "a:b", "Sequence", "e0", "E3", "x1F", "é0"])
      for (const text of [`apiVersion: v1\nkind: ConfigMap\ndata:\n  v: ${s}\n  ${s}: 1\n  l:\n  - ${s}\n`]) {
        const bytes = Buffer.from(text);
        expect(snapshot(readManifestBytes(bytes, "s.yaml")), text).toEqual(snapshot(reference(bytes, "s.yaml")));
      }
  });

  it("documents holding a character the reader does not model (a lone \\r, NEL, BOM, U+2028, U+2029) are left to yaml, in one-byte and two-byte text alike; CRLF line ends are read as the reference reads them", () => {
    const modelled = /[\r\uFEFF\u0085\u2028\u2029]/;
    // Every character past ASCII as \uXXXX: a terminal shows U+2029 as a line break or a space.
    const escape = (t: string) => [...t].map((c) => (c.charCodeAt(0) < 0x7f && c !== "\r" && c !== "\n" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)).join("");
    // Those characters, their neighbours, and text that makes a string one-byte or two-byte.
    const alphabet = fc.constantFrom("a", " ", "\n", ":", "\r", "\u0084", "\u0085", "\u0086", "\u00ff", "\ufeff", "\ufefe", "\u2027", "\u2028", "\u2029", "\u202a", "é", "日");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (chars) => {
        const text = chars.join("");
        expect(unsure(text), escape(text)).toBe(modelled.test(text));
        const doc = `a: b\nc: ${text}\n`;
        // CRLF line ends are LF ones to YAML (lineFeedsOnly); a CR alone, and the others, are yaml's.
        if (/[\uFEFF\u0085\u2028\u2029]|\r(?!\n)/.test(doc)) expect(fastReadDocument(doc, { prelude: true, maxAliasCount: 100 }), escape(doc)).toBeUndefined();
        else if (doc.includes("\r")) {
          const bytes = Buffer.from(doc);
          expect(snapshot(readManifestBytes(bytes, "f.yaml")), escape(doc)).toEqual(snapshot(reference(bytes, "f.yaml")));
        }
      }),
      params,
    );
  });

  it("folded plain scalars (CRD descriptions), flow collections (nested, over lines), `- - x`, values on the line below their key, no final newline: read by the fast reader, as the yaml package reads them", () => {
    const texts = [
      "apiVersion: v1\nkind: CustomResourceDefinition\nspec:\n  description: APIVersion defines the versioned schema\n    of this representation   \n\n      of an object.\n\n\n    Servers should convert\n  type: string\n",
      `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - args: ["--listen-address=127.0.0.1:8080", '--a=''b''', -v, 0x1F, ~, a:b]\n    command: [ sh , -c ]   # shell\n    livenessProbe:\n      httpGet: {path: /healthz, port: 8080, yes: on}\n    env: []\n    x: { }\n`,
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: last-line-without-newline",
      "apiVersion: v1\nkind: Pod\nitems:\n- a\n- b\n  c\n-   d\n\n    e\n",
      // a plain scalar goes on with lines that start with an indicator: text there
      "apiVersion: v1\nkind: CustomResourceDefinition\ndescription: one of\n  - `a`, 'b' or \"c\"\n  [d] {e} *f &g !h |i >j ?k :l %m @n ---\n  -\nlist:\n- item\n  - more\n",
      // Helm template values in strings (quoted, plain, in a literal script, in a one-line flow), and text that only looks like one
      "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: \"{{ .Values.image }}:{{ .Chart.AppVersion }}\"\n        args: ['{{ include \"x\" . }}', \"{{ $labels.cluster }}\"]\n        workingDir: --port={{ .Values.port }}\n        command:\n        - sh\n        - -c\n        - |\n          exec app --listen={{ .Values.listen }}\n        env:\n        - name: __proto__\n          value: '{{ toYaml .Values.env }}'\n        - value: x{{ not-helm }}\n",
      // double-quoted with escapes (Grafana dashboards, JSONPath columns, scripts), on one line, in a flow and over lines
      [
        "apiVersion: v1",
        "kind: ConfigMap",
        "data:",
        String.raw`  d.json: "{\"a\":[1,\"b\\\\c\"]}\n\t\x41\u00e9\/\ \0\_"   # c`,
        String.raw`  j: [".a[?(@.t==\"R\")]", "\u2028", "\U0001F510"]`,
        "  lines: \"first \\",
        "    second  ",
        "",
        "     third\\",
        "",
        String.raw`    fourth\ `,
        `    end"`,
        "  items:",
        String.raw`  - "x\"y"`,
        "",
      ].join("\n"),
      // nested one-line flows (label selectors' matchExpressions), nested sequences on one line (Argo's steps)
      "apiVersion: v1\nkind: Pod\nspec:\n  selector:\n    matchExpressions:\n    - {key: app, operator: In, values: [node-exporter, example-app]}\n    - {key: tier, operator: NotIn, values: []}\n  nested: [[1, [2, {a: [3]}]], {}, [ ]]   # c\n  steps:\n  - - name: build\n      template: build\n    - name: test\n  - - name: deploy\n  - -\n      - a\n    - b\n",
      // a value on the line below its key: a flow collection (Helm's toYaml of an empty map), a plain scalar going on over lines, quoted scalars
      "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    {}\nspec:\n  volumes:\n  - name: data\n    emptyDir:\n      {}\n  containers:\n  - env:\n    - name: ADDRESS\n      value: \n        kubernetes://apis/apps/v1/namespaces/istio-system\n        /deployments/gateway\n    - name: B\n      value:   # why\n        'one'\n    - name: C\n      value:\n\n        \"two\"\n    args:\n      [a, [b]]\n",
      // flow collections over lines (Kubeflow's and Argo's args), quoted scalars folded inside them, comments, the closing bracket at the key's indentation
      'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - args: ["--grpc_port=$(PORT)",\n          "--config_type=postgresql"]\n    command: [ # why\n      sh, -c,\n\n      "apk update &&\n        apk add curl\\\n        ; echo done  ",\n      {k: [a,\n        b]}\n    ]\n  - name: x\n    args: [\n      a,\n      ]\n    env: [{name: a, value: b, }, [1], ]\nlist:\n- [x,\n y]\n',
      // keep chomping (config files in ConfigMaps): the blank lines after the text are its line breaks too, up to what ends it
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: |+\n    x\n\n  b: |+\n\n    y\n  \n\n# c\n  c: |2+\n      indented\n    z\n\n  d: |+\n    w\n\n\n",
      // a literal block scalar with an indentation indicator (text more indented than it kept), a plain scalar starting with ':'
      "apiVersion: v1\nkind: CustomResourceDefinition\nspec:\n  description: |2-\n\n\n      indented text\n    at the indicator\n\n    more\n  other: |-4\n       x\n  implicit: |\n\n  \n    y\n  record: :node_memory_MemAvailable_bytes:sum\n  host: ::1\n  list:\n  - |2\n     a\n    b\n",
      // single-quoted over lines, as controller-gen writes descriptions: spaces either side, blank lines, '' at a line's end
      "apiVersion: v1\nkind: CustomResourceDefinition\nspec:\n  description: 'APIVersion defines: the versioned   \n    schema of this ''representation''\n\n       of an object.''\n  \n\n    Servers #1 should convert  '   # why\n  type: string\n  list:\n  - 'an item\n    over lines'\n  - '\n     starts on the next line '\n",
    ];
    for (const text of texts) {
      expect(fastReadDocument(text, { prelude: true, maxAliasCount: 100 }), text).toBeDefined();
      const bytes = Buffer.from(text);
      expect(snapshot(readManifestBytes(bytes, "f.yaml")), text).toEqual(snapshot(reference(bytes, "f.yaml")));
    }
    // What only the yaml package says: an unquoted template action, a template line, a template value with anchors or in a key; a quoted scalar continued at its key's indentation, with text after its end or without one; flows over lines with a line at the key's indentation or less, a plain or single-quoted scalar over lines, or not closed; a key that is a collection, an empty entry; `: ` or a comment in a continuation.
    for (const text of ["a: {{ .Values.a }}\n", "{{- if .Values.a }}\na: b\n{{- end }}\n", "a: &x '{{ .Values.a }}'\nb: *x\n", "a: {'{{ .Values.k }}': 1}\n", "a: 'b\nc'\n", "a:\n  b: 'c\n  d'\n", "a: 'b\n  c' d\n", "a: 'b\n  c\n", "a: [1,\n2]\n", "b:\n  a: [\n    x\n ]\n", "a:\n  - [x,\n  y]\n", "a: [x\n  y]\n", "a: ['x\n  y']\n", "a: [x, # c]\n", "a: [x,#c\n  y]\n", "a: [[\n  x\n]]\n", "a: [1,\n  2]x\n", "a: [1,\n  2\n", "a: [1,, 2]\n", "a: [, 1]\n", "a: &x\n  {}\nb: *x\n", "a:\n  {}\n  b\n", "a: [[1]x]\n", "a: {[1]: b}\n", "a: {b: [1]: c}\n", "a: [{b: c}, {d}]\n", "a: b\n  c: d\n", "a: b\n  # c\n  d\n", "a: b\n  : c\n", 'a: "\\UFFFFFFFF"\n', 'a: "\\U0011000"\n', "a: |\n\n    b\n  c\n", 'a: "\\q"\n', 'a: "\\x4"\n', 'a: "b\nc"\n', 'a:\n  b: "c\n  d"\n', 'a: "b\n  c" d\n', "a: |4\n  b\n", "a: |2\n    b\n c\n", "a: :\n", "a: : b\n"])
      expect(fastReadDocument(text, { prelude: true, maxAliasCount: 100 }), text).toBeUndefined();
  });

  it("quoted keys on one line and tabs in literal block scalars' text: read by the fast reader as the yaml package reads them; tabs anywhere else and other key spellings left to it", () => {
    const read = (t: string) => fastReadDocument(t, { prelude: true, maxAliasCount: 100 })?.value;
    const fast = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    "kubernetes.io/os": linux\n    \'it\'\'s\': "x"\n    "a\\tb\\u00e9": 1\n    "": empty\n    "$patch": k\n',
      '"apiVersion": v1\n\'kind\': Pod\nspec:\n  containers:\n  - "name": c\n    "@type": type.googleapis.com/x\n  - \'image\':\n      nested: 1\n',
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  conf: |\n    [log]\n    \tlevel  = "info"\n\n    \t\tdeep\n  after: x\n',
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  conf: |-\n      \tindented more\n      x\n',
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  "<<": not a merge key\n  "__proto__": own\n',
    ];
    const unsure = [
      "apiVersion: v1\nkind: ConfigMap\ndata:\n\tconf: x\n", // a tab as indentation
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  conf:\tx\n", // a tab as separation
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  conf: x # a\tcomment\n",
      "apiVersion: v1\nkind: ConfigMap\n# a\tcomment line\ndata: {}\n",
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  conf: a plain\n    line\twith a tab\n",
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  conf: |\n    x\n  \ty\n", // less indented than the text
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  "k" : v\n', // a space before the colon
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  "k":v\n', // no space after it
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  "k\n  l": v\n', // over two lines
      'apiVersion: v1\nkind: ConfigMap\ndata:\n  "\\q": v\n', // an escape yaml rejects
    ];
    for (const text of [...fast, ...unsure]) {
      const bytes = Buffer.from(text);
      expect(snapshot(readManifestBytes(bytes, "q.yaml")), text).toEqual(snapshot(reference(bytes, "q.yaml")));
    }
    for (const text of fast) expect(read(text), text).toBeDefined();
    for (const text of unsure) expect(read(text), text).toBeUndefined();
    expect(read(fast[0]!)).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: { labels: { "kubernetes.io/os": "linux", "it's": "x", "a\tb\u00e9": 1, "": "empty", $patch: "k" } } });
    expect((read(fast[2]!) as { data: { conf: string } }).data.conf).toBe('[log]\n\tlevel  = "info"\n\n\t\tdeep\n');
  });

  it("a __proto__ key is an own property, the prototype stays Object's", () => {
    const r = fastReadDocument("apiVersion: v1\n__proto__:\n  polluted: true\nkind: X\n", { prelude: true, maxAliasCount: 100 });
    const value = r!.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["apiVersion", "__proto__", "kind"]);
    expect(canonical(value)).toBe('{"apiVersion":"v1","__proto__":{"polluted":true},"kind":"X"}');
    const bytes = Buffer.from("apiVersion: v1\n__proto__:\n  polluted: true\nkind: X\n");
    expect(snapshot(readManifestBytes(bytes, "p.yaml"))).toEqual(snapshot(reference(bytes, "p.yaml")));
  });

  it("keys named as Object.prototype's members, and repeated keys: own properties, the last value, the first key's place, as the yaml package", () => {
    const text = "apiVersion: v1\nkind: X\ntoString: a\nconstructor:\n  hasOwnProperty: b\nvalueOf: [c]\nisPrototypeOf: d\ntoString: e\n";
    const value = fastReadDocument(text, { prelude: true, maxAliasCount: 100 })!.value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["apiVersion", "kind", "toString", "constructor", "valueOf", "isPrototypeOf"]);
    expect(Object.getOwnPropertyDescriptor(value, "toString")).toEqual({ value: "e", writable: true, enumerable: true, configurable: true });
    const bytes = Buffer.from(text);
    expect(snapshot(readManifestBytes(bytes, "k.yaml"))).toEqual(snapshot(reference(bytes, "k.yaml")));
    expect(JSON.stringify(value)).toBe(JSON.stringify(reference(bytes, "k.yaml").objects[0]!.object));
  });

  it("anchors and aliases: the same value, and the alias-bomb guard exactly where the yaml package puts it", () => {
    const doc = (aliases: number, anchored: string) =>
      `apiVersion: v1\nkind: ConfigMap\nbase: &b\n${anchored}\nuses:\n${Array.from({ length: aliases }, () => "- *b").join("\n")}\n`;
    for (const anchored of ["  k: v", "  k: {}", "  - {}\n  - []", "  - []"])
      for (const n of [0, 1, 49, 50, 99, 100, 101, 150]) {
        const bytes = Buffer.from(doc(n, anchored));
        for (const maxAliasCount of [100, 50])
          expect(snapshot(readManifestBytes(bytes, "a.yaml", { maxAliasCount })), `${n} aliases of ${JSON.stringify(anchored)}, limit ${maxAliasCount}`).toEqual(snapshot(reference(bytes, "a.yaml", { maxAliasCount })));
      }
    // The fast reader takes the ones under the limit itself, and shares the anchored value.
    const r = fastReadDocument(doc(3, "  k: v"), { prelude: true, maxAliasCount: 100 })!;
    const value = r.value as { base: unknown; uses: unknown[] };
    expect(value.uses[2]).toBe(value.base);
    expect(fastReadDocument(doc(101, "  k: v"), { prelude: true, maxAliasCount: 100 })).toBeUndefined();
  });

  it("the bench fleet is read entirely by the fast reader, with the reference reader's results", () => {
    const bytes = Buffer.from(fleetYaml(400).text);
    expect(fastShare(bytes)).toEqual({ fast: 400, documents: 400 });
    expect(snapshot(readManifestBytes(bytes, "fleet.yaml", { chunkBytes: 8192 }), 40)).toEqual(snapshot(reference(bytes, "fleet.yaml"), 40));
  });

  it("locations of reports come from the fast reader where it can place them, as locateIn on the yaml package's document; the rest is left to it", () => {
    /** locateIn's answer for one document's text, as the report's `locate` would give it without the fast reader. */
    const yamlLocate = (text: string, itemIndex: number | null, path: readonly (string | number)[]) => {
      const lines = new LineCounter();
      const doc = parseYamlDocuments(text, lines)[0]!;
      const at = locateIn(doc, rootNode(doc, itemIndex), [...path], lines);
      return at && { line: at.line, column: at.column };
    };
    // The bench fleet (what reports locate most: probes, args, env): every path placed by the fast reader.
    const bytes = Buffer.from(fleetYaml(60).text);
    let placed = 0;
    for (const [k, s] of (splitDocuments(bytes) ?? []).entries()) {
      const text = bytes.toString("utf8", s.start, s.end);
      const locate = fastLocator(text, k === 0);
      expect(locate, `fleet document ${k}`).toBeDefined();
      for (const path of pathsOf(fastReadDocument(text, { prelude: k === 0, maxAliasCount: 100 })!.value, 400)) {
        if (path.length === 0) continue;
        expect(locate!(null, path), path.join("/")).toEqual(yamlLocate(text, null, path));
        placed++;
      }
    }
    expect(placed).toBeGreaterThan(3000);
    // Keys as locateIn compares them (a plain key resolving to null is "null" there), List items, compact and indented sequences.
    const list = 'apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  spec:\n    containers:\n      -   name: a\n          args:\n          - |\n            x\n          - # the next item\n            k: v\nnull: 1\n"": 2\n1.0: 3\n';
    const locate = fastLocator(list, true)!;
    for (const [itemIndex, path] of [[null, ["null"]], [null, [""]], [null, ["1"]], [null, ["1.0"]], [0, ["spec", "containers", 0, "name"]], [0, ["spec", "containers", 0, "args", 0]], [0, ["spec", "containers", 0, "args", 1]], [0, ["spec", "containers", 0, "args", 1, "k"]], [0, ["spec", "containers", 0, "args", 2]], [1, ["kind"]], [0, ["kind", 0]]] as const)
      expect(locate(itemIndex, [...path]), `${itemIndex} ${path.join("/")}`).toEqual(yamlLocate(list, itemIndex, [...path]));
    expect(locate(null, ["null"])).toEqual({ line: 13, column: 1 });
    expect(locate(0, ["spec", "containers", 0, "args", 1])).toEqual({ line: 12, column: 13 });
    // An alias leads into its anchored node (locateIn's resolveAlias); an anchored item starts at its first key or dash.
    const anchored = "a: &x\n  k: v\nb: *x\nc:\n- &y\n  - v\n- *y\n";
    for (const path of [["b"], ["b", "k"], ["c", 0], ["c", 0, 0], ["c", 1], ["c", 1, 0]])
      expect(fastLocator(anchored, true)!(null, path), path.join("/")).toEqual(yamlLocate(anchored, null, path));
    expect(fastLocator(anchored, true)!(null, ["c", 0])).toEqual({ line: 6, column: 3 });
    // Flow collections and a byte order mark: the yaml package places them.
    expect(fastLocator("a: [x, y]\nb: 1\n", true)!(null, ["a", 1])).toBeUndefined();
    expect(fastLocator("a: [x, y]\nb: 1\n", true)!(null, ["b"])).toEqual({ line: 2, column: 1 });
    expect(fastLocator("\ufeffa: 1\n", true)).toBeUndefined();
    expect(fastLocator("a: 1\n", true)!(null, [])).toBeUndefined();
  });
});
