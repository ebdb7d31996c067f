/**
 * Helpers for the reader tests: a canonical form of what a reader returns
 * (values with key order, -0, NaN and prototypes; every location `locate`
 * gives), and random multi-document YAML built from the constructs manifests
 * use plus the ones that trip readers up.
 */
import fc from "fast-check";
import type { JsonPath, ManifestError, ManifestObject, ManifestSkip } from "../../src/audit/read.js";
import { rng } from "../../src/bench/fleet.js";

/** A value as text that tells apart what toEqual might not: key order, -0, NaN, prototypes, shared vs copied is ignored. */
export function canonical(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v) === Object.prototype ? "" : `<${Object.prototype.toString.call(v)}>`;
    return `${proto}{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return `<${typeof v}:${String(v)}>`;
}

/** Every JSON path in a value (up to `limit`), and a few that are not there. */
export function pathsOf(v: unknown, limit = 200): JsonPath[] {
  const out: JsonPath[] = [[], ["nope"], ["spec", "nope", 0]];
  const walk = (x: unknown, path: (string | number)[]) => {
    if (out.length >= limit) return;
    if (Array.isArray(x)) x.forEach((item, i) => (out.push([...path, i]), walk(item, [...path, i])));
    else if (typeof x === "object" && x !== null)
      for (const k of Object.keys(x)) {
        out.push([...path, k]);
        walk((x as Record<string, unknown>)[k], [...path, k]);
      }
  };
  walk(v, []);
  return out;
}

export interface Reading {
  objects: ManifestObject[];
  errors: ManifestError[];
  skipped: ManifestSkip[];
}

/** What a reader returned, comparable with toEqual (locations included). */
export function snapshot(r: Reading, pathLimit = 200) {
  return {
    objects: r.objects.map((o) => ({
      file: o.file,
      documentIndex: o.documentIndex,
      itemIndex: o.itemIndex,
      line: o.line,
      object: canonical(o.object),
      at: pathsOf(o.object, pathLimit).map((p) => `${p.join("/")} ${JSON.stringify(o.locate(p))}`),
    })),
    errors: r.errors,
    skipped: r.skipped,
  };
}

// ---------- random YAML ----------

/** Plain scalars YAML 1.1 resolves in every way (and some that are not plain at all). */
export const TRICKY_SCALARS = [
  "true", "True", "TRUE", "false", "yes", "Yes", "no", "NO", "on", "On", "off", "y", "Y", "n", "N", "~", "null", "Null", "NULL", "",
  "0", "-0", "+0", "+1", "-1", "007", "0o17", "017", "08", "0x1F", "0X1f", "-0x1F", "0b101", "-0b1", "1_000", "1__0", "0x_1",
  "1e3", "1E3", "1.5e3", "1.5e+3", "1.0e-3", "1.0", "3.", ".5", "+.5", "-.5e-3", "1.2.3", ".inf", "-.inf", "+.Inf", ".INF", ".nan", ".NaN",
  "190:20:30", "-190:20:30", "1:2", "12:30", "1:2.5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2002-12-14 21:59:43.10 -5",
  "<<", "=", "foo", "foo bar", "a:b", "http://x:80/y", "-x", "--flag=:80", "a #b", "a#b", "ünïcödé ✓", "😀", "0.", "._",
  "{}", "[]", "[a, b]", "{a: 1}", "'q'", '"dq"', "x: y", "x:", ":x", "?x", "? x", "-", "- x", "!x", "!!str x", "&a", "*a", "%x", "@x", "`x",
  "|", ">", "#x", " lead", "trail ", "a  b", "\\n", "tab\there", "a\u00a0b", "line\nbreak", "{{ .Values.x }}", "---", "...", "--- x",
];
const TRICKY_KEYS = ["a", "b", "apiVersion", "kind", "items", "metadata", "__proto__", "constructor", "toString", "1", "0x10", "1.0", ".inf", "true", "yes", "null", "~", "a.b/c-d", "$patch", "<<", "a b", "-a", "'q'", '"dq"', "", "x:y", "ö", "8080"];

type YNode =
  | { t: "scalar"; s: string }
  | { t: "map"; pairs: [string, YNode][] }
  | { t: "seq"; items: YNode[] };

/** Trees whose scalars and keys come from these. */
function trees(scalars: fc.Arbitrary<string>, keys: fc.Arbitrary<string>) {
  const scalar = scalars.map((s): YNode => ({ t: "scalar", s }));
  return fc.letrec<{ node: YNode; map: YNode; seq: YNode }>((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("map"), tie("seq")),
    map: fc.array(fc.tuple(keys, tie("node")), { maxLength: 5 }).map((pairs): YNode => ({ t: "map", pairs })),
    seq: fc.array(tie("node"), { maxLength: 4 }).map((items): YNode => ({ t: "seq", items })),
  })).node;
}

const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
/** Anything: YAML that is often invalid or beyond the fast reader. */
const wild = {
  node: trees(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...TRICKY_SCALARS) },
      { weight: 3, arbitrary: word },
      { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
      { weight: 1, arbitrary: fc.integer().map(String) },
      { weight: 1, arbitrary: fc.double().map(String) },
    ),
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TRICKY_KEYS) }, { weight: 5, arbitrary: fc.stringMatching(/^[a-z][a-zA-Z0-9.-]{0,6}$/) }),
  ),
  keys: fc.constantFrom(...TRICKY_KEYS),
};
/** Manifest-like YAML: what the fast reader is for (still every YAML 1.1 plain scalar). */
const PLAIN_SCALARS = TRICKY_SCALARS.filter((s) => /^[A-Za-z0-9_.~+<=$/-][^#:]*$/.test(s) && !/[ \t]$/.test(s) && !s.startsWith("- ") && s !== "-");
const clean = {
  node: trees(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...PLAIN_SCALARS, "a b c", "x-y_z", "100m", "512Mi", "/healthz", "--listen=:8080", "::1", ":node_memory:sum", 'say "hi"\\now', "tab\tand\u0085next\u00e9") }, { weight: 3, arbitrary: word }), fc.oneof(word, fc.constantFrom("a.b/c-d", "$patch", "1", "true", "__proto__", "8080"))),
  keys: word,
};

/** Render a tree as block YAML with random layout: indentation, compact sequences, quoting, comments, anchors and aliases, blank lines. */
function render(root: YNode, seed: number, clean: boolean): string {
  const random = rng(seed);
  const chance = (p: number) => random() < p;
  const step = 1 + Math.floor(random() * 4);
  const compactSeqs = chance(0.5);
  const anchors: string[] = [];
  const lines: string[] = [];
  const comment = (indent: number) => {
    if (chance(0.08)) lines.push(`${" ".repeat(Math.floor(random() * (indent + 3)))}# c${Math.floor(random() * 9)}`);
    if (chance(0.05)) lines.push(chance(0.5) ? "" : " ".repeat(Math.floor(random() * 6)));
  };
  const trail = () => (chance(0.1) ? " ".repeat(1 + Math.floor(random() * 2)) : "") + (chance(0.08) ? " # t" : "");
  /**
   * A quoted scalar folded over lines indented more than its key: blank lines, spaces at a
   * line's end, for double quotes a line break escaped with "\\" now and then; in wild streams,
   * now and then a line at the key's indentation (yaml's error).
   */
  const overLines = (quoted: string, indent: number, escapedBreaks: boolean): string[] => {
    const words = quoted.split(" ");
    const lines = [words[0]!];
    for (const w of words.slice(1)) {
      if (chance(0.5)) lines[lines.length - 1] += ` ${w}`;
      else {
        if (chance(0.1)) lines[lines.length - 1] += "  ";
        if (escapedBreaks && chance(0.15)) lines[lines.length - 1] += "\\";
        if (chance(0.2)) lines.push(chance(0.5) ? "" : " ".repeat(Math.floor(random() * 8)));
        const under = !clean && chance(0.05);
        lines.push(`${" ".repeat(under ? indent : indent + 1 + Math.floor(random() * (step + 2)))}${w}`);
      }
    }
    return lines;
  };
  const scalarText = (s: string, indent: number): string[] => {
    const lines = scalarLines(s, indent);
    // Now and then a scalar that is not a block scalar starts on the line below its key or dash.
    if (chance(0.08) && lines[0] !== "" && !/^[|>]/.test(lines[0]!)) return ["", `${" ".repeat(indent + 1 + Math.floor(random() * (step + 1)))}${lines[0]}`, ...lines.slice(1)];
    return lines;
  };
  const scalarLines = (s: string, indent: number): string[] => {
    const r = random();
    if (r < 0.45) return [s]; // plain: whatever it is
    if (r < 0.55) {
      // plain, folded over lines indented more than the key (blank lines and extra spaces too)
      const words = s.split(" ");
      const lines = [words[0]!];
      for (const w of words.slice(1)) {
        if (chance(0.5)) lines[lines.length - 1] += ` ${w}`;
        else {
          if (chance(0.2)) lines.push(chance(0.5) ? "" : " ".repeat(Math.floor(random() * 8)));
          lines.push(`${" ".repeat(indent + 1 + Math.floor(random() * (step + 2)))}${w}`);
        }
      }
      return lines;
    }
    if (r < 0.7) {
      const quoted = `'${s.replaceAll("'", "''")}'`;
      if (s.includes("\n") || s.includes("\r") || chance(0.5)) return [quoted];
      return overLines(quoted, indent, false);
    }
    if (r < 0.82) {
      const quoted = JSON.stringify(s);
      if (chance(0.5)) return [quoted];
      return overLines(quoted, indent, true);
    }
    if (s.trim() === "" || s.includes("\r")) return [JSON.stringify(s)];
    // An indentation indicator as wide as the layout's step is right; in wild streams any digit.
    const headers = clean ? ["|", "|-", `|${step}`, `|${step}-`, `|-${step}`] : ["|", "|-", "|+", ">", "|2", `|${1 + Math.floor(random() * 9)}-`];
    const header = headers[Math.floor(random() * headers.length)]!;
    return [header, ...s.split("\n").map((l) => (l === "" && chance(0.5) ? "" : `${" ".repeat(indent + step)}${l}`))];
  };
  const pad = (i: number) => " ".repeat(i);
  // Emit `prefix` + the node: prefix is "key:" or "-" (with its indentation), `indent` its column.
  const emit = (n: YNode, prefix: string, indent: number, inMap: boolean): void => {
    if (n.t === "scalar") {
      if (anchors.length > 0 && chance(0.08)) {
        lines.push(`${prefix} *${anchors[Math.floor(random() * anchors.length)]}${trail()}`);
        return;
      }
      const [first, ...rest] = scalarText(n.s, indent);
      lines.push(`${prefix}${first === "" ? "" : " "}${first}${rest.length === 0 ? trail() : ""}`);
      lines.push(...rest);
      return;
    }
    const anchor = chance(0.15) ? `a${anchors.length}` : null;
    const size = n.t === "map" ? n.pairs.length : n.items.length;
    const scalarsOnly = (n.t === "map" ? n.pairs.map(([, v]) => v) : n.items).every((v) => v.t === "scalar");
    if (size === 0 || (!clean && chance(0.05)) || (clean && (scalarsOnly ? chance(0.15) : chance(0.05)))) {
      // Nested collections as flows too (`{key: app, values: [a, b]}`), now and then a placeholder scalar.
      const flowText = (v: YNode): string =>
        v.t === "scalar"
          ? v.s
          : chance(0.2)
            ? v.t === "map"
              ? "x"
              : "y"
            : v.t === "map"
              ? `{${v.pairs.map(([k, x]) => `${k}: ${flowText(x)}`).join(", ")}}`
              : `[${v.items.map(flowText).join(", ")}]`;
      let flow = flowText(n);
      // Now and then over lines (Kubeflow's `args: ["--a",` then `"--b"]`): breaks after commas and
      // brackets, a comment or a blank line there, the closing bracket on a line of its own (at the key's
      // indentation or more, after a trailing comma now and then); in wild streams now and then a line at
      // the key's indentation or less.
      if (chance(0.2)) {
        const under = () => (!clean && chance(0.05) ? Math.floor(random() * (indent + 1)) : indent + 1 + Math.floor(random() * (step + 1)));
        const brk = () => `${chance(0.1) ? " # c" : ""}\n${chance(0.1) ? "\n" : ""}${pad(under())}`;
        flow = flow.replace(/([[{,]) ?/g, (m, c: string) => (chance(0.3) ? `${c}${brk()}` : m));
        if (chance(0.3)) flow = `${flow.slice(0, -1)}${chance(0.3) ? "," : ""}\n${pad(chance(0.5) ? indent : under())}${flow.slice(-1)}`;
      }
      // Now and then on the line below its key (`emptyDir:` then `{}`, as Helm's toYaml writes).
      if (chance(0.15)) lines.push(`${prefix}${anchor ? ` &${anchor}` : ""}${trail()}`, `${pad(indent + 1 + Math.floor(random() * (step + 1)))}${flow}${trail()}`);
      else lines.push(`${prefix}${anchor ? ` &${anchor}` : ""} ${flow}${trail()}`);
      if (anchor) anchors.push(anchor);
      return;
    }
    // After "-", the collection may start on the dash's line (`- key: v`, `- - x`).
    const sameLine = prefix.trimStart().startsWith("-") && prefix.trimEnd().endsWith("-") && !anchor && chance(0.7);
    let column: number;
    let firstPrefix: string | null = null;
    if (sameLine) {
      column = prefix.length + 1;
      firstPrefix = `${prefix} `;
    } else {
      lines.push(`${prefix}${anchor ? ` &${anchor}` : ""}${trail()}`);
      column = n.t === "seq" && inMap && compactSeqs ? indent : indent + step;
    }
    const entries: [string, YNode][] = n.t === "map" ? n.pairs : n.items.map((v) => ["-", v]);
    entries.forEach(([k, v], i) => {
      if (i > 0 || !sameLine) comment(column);
      const head = n.t === "map" ? `${k}:` : "-";
      emit(v, i === 0 && firstPrefix !== null ? `${firstPrefix}${head}` : `${pad(column)}${head}`, column, n.t === "map");
    });
    if (anchor) anchors.push(anchor);
  };
  if (root.t === "map" && root.pairs.length > 0) {
    let firstKey = true;
    for (const [k, v] of root.pairs) {
      if (!firstKey) comment(0);
      firstKey = false;
      emit(v, `${k}:`, 0, true);
    }
  } else emit(root, "--- !!doc", 0, false); // rarely valid: a top-level sequence or scalar after a tag
  return lines.join("\n");
}

/** A manifest-like document: apiVersion and kind first (usually), sometimes a List; now and then anything. */
function documentTree(from: { node: fc.Arbitrary<YNode>; keys: fc.Arbitrary<string> }): fc.Arbitrary<YNode> {
  const manifest = fc
    .tuple(fc.constantFrom("v1", "apps/v1", "batch/v1"), fc.constantFrom("Deployment", "ConfigMap", "List", "StatefulSetList", "Pod"), fc.array(fc.tuple(from.keys, from.node), { maxLength: 4 }), fc.array(from.node, { maxLength: 3 }), fc.nat(9))
    .map(([apiVersion, kind, pairs, items, typed]): YNode => {
      const head: [string, YNode][] = typed > 0 ? [["apiVersion", { t: "scalar", s: apiVersion }], ["kind", { t: "scalar", s: kind }]] : [];
      if (kind.endsWith("List")) head.push(["items", { t: "seq", items: items.map((i): YNode => (i.t === "map" ? i : { t: "map", pairs: [["name", i]] })) }]);
      return { t: "map", pairs: [...head, ...pairs] };
    });
  return fc.oneof({ weight: 9, arbitrary: manifest }, { weight: 1, arbitrary: from.node });
}

/** A multi-document stream with random separators, prelude, BOM, CRLF and final newline. */
function stream(from: { node: fc.Arbitrary<YNode>; keys: fc.Arbitrary<string> }, oddities: boolean): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(fc.tuple(documentTree(from), fc.nat()), { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(9), fc.nat(9), fc.nat(9), fc.boolean())
    .map(([docs, seed, bom, crlf, finalNewline, leadingComment]) => {
      const random = rng(seed);
      const separators = ["---\n", "--- \n", "--- # next\n", "---\n# a comment\n", "---\n\n", "\n---\n"];
      let text = (oddities && bom === 0 ? "\uFEFF" : "") + (leadingComment ? "# leading comment\n" : "") + (random() < 0.3 ? "---\n" : "");
      docs.forEach(([tree, s], i) => {
        if (i > 0) text += separators[Math.floor(random() * separators.length)]!;
        text += `${render(tree, s, !oddities)}\n`;
      });
      if (random() < 0.15) text += "---\n";
      if (finalNewline === 0) text = text.replace(/\n+$/, "");
      return oddities && crlf === 0 ? text.replace(/\n/g, "\r\n") : text;
    });
}

/** Streams of anything (often invalid, BOM, CRLF, no final newline). */
export const wildYamlStream = stream(wild, true);
/** Streams of manifest-like YAML, mostly within the fast reader's reach. */
export const manifestYamlStream = stream(clean, false);

// ---------- random JSON (kubectl get -o json, .json manifests) ----------

type JNode =
  | { t: "str"; s: string }
  | { t: "num"; text: string }
  | { t: "lit"; text: "true" | "false" | "null" }
  | { t: "obj"; pairs: [string, JNode][] }
  | { t: "arr"; items: JNode[] };

/** Number texts JSON and YAML 1.1 may read differently (exponents, -0, beyond 2^53, beyond a double). */
const NUMBER_TEXTS = ["0", "-0", "1", "-1", "42", "8080", "1.5", "-0.0", "1.0", "0.1", "1e3", "1E3", "1e+3", "1.5e-3", "2.5E+10", "1E400", "-1e400", "9007199254740993", "123456789012345678901", "100000000000000"];

const jsonTree = fc.letrec<{ node: JNode; obj: JNode; arr: JNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.constantFrom(...TRICKY_SCALARS), word, fc.string({ maxLength: 8, unit: "grapheme" })).map((s): JNode => ({ t: "str", s })),
    fc.oneof(fc.constantFrom(...NUMBER_TEXTS), fc.integer().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d))).map((text): JNode => ({ t: "num", text })),
    fc.constantFrom("true", "false", "null").map((text): JNode => ({ t: "lit", text: text as "true" | "false" | "null" })),
    tie("obj"),
    tie("arr"),
  ),
  // Keys may repeat (JSON.parse and the yaml package keep the last value, locations the first key).
  obj: fc.array(fc.tuple(fc.oneof(word, fc.constantFrom(...TRICKY_KEYS)), tie("node")), { maxLength: 5 }).map((pairs): JNode => ({ t: "obj", pairs })),
  arr: fc.array(tie("node"), { maxLength: 4 }).map((items): JNode => ({ t: "arr", items })),
})).node;

/** A JSON string token, now and then with characters written as \u escapes. */
function jsonString(s: string, random: () => number): string {
  const token = JSON.stringify(s);
  return random() < 0.15 ? token.replace(/[a-z]/, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : token;
}

function renderJson(root: JNode, random: () => number, indent: number, depthOffset = 0): string {
  const colon = random() < 0.5 ? ": " : ":";
  const emit = (node: JNode, depth: number): string => {
    const pad = (d: number) => (indent === 0 ? "" : `\n${" ".repeat(indent * d)}`);
    switch (node.t) {
      case "str":
        return jsonString(node.s, random);
      case "num":
      case "lit":
        return node.text;
      case "obj":
        return node.pairs.length === 0 ? "{}" : `{${node.pairs.map(([k, v]) => `${pad(depth + 1)}${jsonString(k, random)}${colon}${emit(v, depth + 1)}`).join(",")}${pad(depth)}}`;
      case "arr":
        return node.items.length === 0 ? "[]" : `[${node.items.map((v) => `${pad(depth + 1)}${emit(v, depth + 1)}`).join(",")}${pad(depth)}]`;
    }
  };
  return emit(root, depthOffset);
}

/** A manifest-like JSON object: apiVersion and kind (usually), sometimes a List of such objects. */
const jsonManifest = fc
  .tuple(fc.constantFrom("v1", "apps/v1"), fc.constantFrom("Deployment", "ConfigMap", "List", "StatefulSetList", "Pod"), fc.array(fc.tuple(fc.oneof(word, fc.constantFrom(...TRICKY_KEYS)), jsonTree), { maxLength: 4 }), fc.array(jsonTree, { maxLength: 3 }), fc.nat(9))
  .map(([apiVersion, kind, pairs, items, typed]): JNode => {
    const head: [string, JNode][] = typed > 0 ? [["apiVersion", { t: "str", s: apiVersion }], ["kind", { t: "str", s: kind }]] : [];
    if (kind.endsWith("List")) head.push(["items", { t: "arr", items: items.map((i): JNode => (i.t === "obj" ? i : { t: "obj", pairs: [["name", i]] })) }]);
    return { t: "obj", pairs: [...head, ...pairs] };
  });

/**
 * Streams of JSON documents as kubectl and editors write them (compact, 2 or
 * 4 spaces; several documents after `---` lines), and now and then what the
 * JSON reading must leave to the yaml package: a tab, a comment, nesting
 * deeper than the yaml package is let read, a line separator in a string, text
 * after the object.
 */
export const jsonManifestStream = fc
  .tuple(fc.array(jsonManifest, { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(19))
  .map(([docs, seed, oddity]) => {
    const random = rng(seed);
    const texts = docs.map((d) => renderJson(d, random, [0, 2, 4][Math.floor(random() * 3)]!));
    if (oddity === 0) texts[0] = texts[0]!.replace(/: /, ":\t");
    if (oddity === 1) texts[0] = `${texts[0]} # a comment`;
    if (oddity === 2) {
      // Past the fast YAML reader's 100 levels (JSON.parse reads it), or past the 512 the yaml package is let read.
      const depth = random() < 0.5 ? 150 : 520;
      texts[0] = texts[0]!.replace(/^\{/, `{"deep": ${"[".repeat(depth)}${"]".repeat(depth)},`);
    }
    if (oddity === 3) texts[0] = texts[0]!.replace(/^\{/, '{"sep": "a\u2028b",');
    if (oddity === 4) texts[0] = `${texts[0]} {}`;
    return `${random() < 0.3 ? "\n" : ""}${texts.join("\n---\n")}${random() < 0.8 ? "\n" : ""}`;
  });
