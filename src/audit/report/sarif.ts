/** `audit --format sarif`: SARIF 2.1.0 for code scanning, with positions, related bind locations and `--diff` fixes. */
import type { AuditResult } from "../evaluate.js";
import { type AuditReport, locateFindings, objectLabel, type Position } from "./common.js";

interface RuleText {
  id: string;
  name: string;
  short: string;
  full: string;
  level: "error" | "warning" | "note";
  /** Markdown help; the plain-text help is derived from it. */
  help: string;
}

const SARIF_RULES: readonly RuleText[] = [
  {
    id: "loopback-only-listener",
    name: "LoopbackOnlyListener",
    short: "Probe targets a port bound only on loopback",
    full: "A liveness, readiness or startup probe (httpGet, tcpSocket or grpc) targets a port the pod binds only on a loopback address. The kubelet dials the pod IP, so the probe can never succeed.",
    level: "error",
    help: [
      "The kubelet runs `httpGet`, `tcpSocket` and `grpc` probes from the node against the **pod IP**. A process that listens only on `127.0.0.1`, `::1` or `localhost` never answers there: readiness never passes and liveness restarts the container forever.",
      "",
      "**Fix** (either):",
      "- make the process listen on all interfaces (`0.0.0.0:PORT` or `:PORT`), or on the pod IP, if exposing the port is acceptable;",
      "- or probe from inside the container: an `exec` probe running `curl`/`wget` (httpGet) or `nc -z` (tcpSocket) against the loopback address. `loopback-probes audit --fix` (the rewrite-loopback-probes policy) writes exactly that.",
      "",
      "Typical case: prometheus-operator before v0.75 with `listenLocal: true` and config-reloader probes (prometheus-operator#6682); upgrade the operator to v0.75.0 or later.",
    ].join("\n"),
  },
  {
    id: "loopback-host-without-host-network",
    name: "LoopbackHostWithoutHostNetwork",
    short: "Probe sets a loopback host without hostNetwork",
    full: "The probe's host is a loopback address but the pod does not use the host network: the kubelet dials the node's own loopback, not the pod.",
    level: "error",
    help: [
      "`httpGet.host` / `tcpSocket.host` is dialled **from the node**. `127.0.0.1` there is the node's loopback, not the pod's, unless the pod runs with `hostNetwork: true`.",
      "",
      "**Fix:** remove `host` (the kubelet then dials the pod IP) and make the process listen there, or replace the probe by an `exec` probe that checks the loopback address inside the container.",
    ].join("\n"),
  },
  {
    id: "unresolvable-port-name",
    name: "UnresolvablePortName",
    short: "Probe names a port the container does not declare",
    full: "The probe's port is a name that none of the container's ports declares, so the kubelet cannot resolve it and the probe fails.",
    level: "error",
    help: ["A probe's `port` may be a name only if the **same container** declares a port with that name in `ports[].name`.", "", "**Fix:** declare the port name on the container, or use the port number."].join("\n"),
  },
  {
    id: "unreachable-probe",
    name: "UnreachableProbe",
    short: "Probe can never succeed",
    full: "The policy rejected the object because a probe can never succeed; the message says why.",
    level: "error",
    help: "The policy rejected the object without a structured finding. Read the message: it names the container, the probe and the reason.",
  },
  {
    id: "policy-error",
    name: "PolicyError",
    short: "The policy could not evaluate the object",
    full: "The validating policy answered with an internal error (code 500) for this object. In a cluster the request would fail the same way.",
    level: "warning",
    help: "The policy answered with an error instead of a verdict. Check the message; if the object is valid Kubernetes, please report the message as a bug.",
  },
  {
    id: "rewrite-warning",
    name: "RewriteWarning",
    short: "The rewrite changed or could not change a probe",
    full: "rewrite-loopback-probes (run with --diff or --fix) reported a warning about an object without findings, e.g. one it could not rewrite. Warnings about failing objects are in their results' properties.rewriteWarnings and fix descriptions.",
    level: "warning",
    help: "The rewrite policy's warnings say what it did beyond the plain `exec` rewrite (for example removing a `grpc` probe it cannot express as `exec`) or why it left an object alone. Review the change before committing it.",
  },
  {
    id: "unreadable-document",
    name: "UnreadableDocument",
    short: "A document could not be read as a Kubernetes object",
    full: "A YAML/JSON document is malformed, or is not a Kubernetes object (a mapping with apiVersion and kind); the other documents of the file are still checked.",
    level: "error",
    help: "The document is not valid YAML/JSON, or not a Kubernetes object (a mapping with `apiVersion` and `kind`). Fix the syntax at the reported line and column. Templates (Helm, Kustomize patches) must be rendered before they are audited.",
  },
];

/** Plain text of the markdown help: drop emphasis and code marks. */
export function markdownToText(markdown: string): string {
  return markdown.replace(/\*\*|`/g, "");
}

export interface SarifOptions {
  version: string;
  informationUri: string;
  /**
   * Absolute path of the source root (the repository root): URIs of files under it
   * are relative to %SRCROOT%. Files outside it get absolute file: URIs.
   */
  sourceRoot: string;
  /** Current directory: the files' paths in the results are relative to it. */
  cwd: string;
  /** URI for objects read from stdin. */
  stdinUri: string;
  /** Attach `fixes` (the text --fix would write) to results of objects the rewrite changes: `--diff`. */
  fixes: boolean;
}

const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");

/** SARIF artifactLocation of a reported file name (relative to cwd, or "<stdin>"). */
export function artifactLocation(file: string, opts: Pick<SarifOptions, "sourceRoot" | "cwd" | "stdinUri">): { uri: string; uriBaseId?: string } {
  if (file === "<stdin>") return { uri: opts.stdinUri };
  const absolute = file.startsWith("/") ? file : `${opts.cwd.replace(/\/+$/, "")}/${file}`;
  const parts: string[] = [];
  for (const part of absolute.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  const normalized = `/${parts.join("/")}`;
  const root = opts.sourceRoot.replace(/\/+$/, "");
  if (normalized.startsWith(`${root}/`)) return { uri: encodePath(normalized.slice(root.length + 1)), uriBaseId: "%SRCROOT%" };
  return { uri: `file://${encodePath(normalized)}` };
}

/**
 * One replacement covering the lines that differ between `before` and `after`
 * (common leading and trailing lines kept), or null when they are equal.
 * Linear in the text: no general diff.
 */
export interface LineReplacement {
  /** The deleted region: from (startLine, 1) to just before (endLine, endColumn). */
  startLine: number;
  endLine: number;
  endColumn: number;
  charOffset: number;
  charLength: number;
  inserted: string;
}

export function lineReplacement(before: string, after: string): LineReplacement | null {
  if (before === after) return null;
  const a = before.split(/(?<=\n)/);
  const b = after.split(/(?<=\n)/);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const charOffset = a.slice(0, head).reduce((n, l) => n + l.length, 0);
  const deleted = a.slice(head, a.length - tail).join("");
  const lastDeleted = tail < a.length - head ? a[a.length - tail - 1]! : "\n";
  // Deleted text ends with a newline: the region ends at the start of the next line; else inside its last line.
  const end = lastDeleted.endsWith("\n") ? { endLine: a.length - tail + 1, endColumn: 1 } : { endLine: a.length - tail, endColumn: lastDeleted.length + 1 };
  return { startLine: head + 1, ...end, charOffset, charLength: deleted.length, inserted: b.slice(head, b.length - tail).join("") };
}

export function sarifLog(report: AuditReport, opts: SarifOptions): Record<string, unknown> {
  const results: Record<string, unknown>[] = [];
  const ruleIndex = new Map(SARIF_RULES.map((r, i) => [r.id, i]));
  const region = (at: Position) => ({ startLine: Math.max(1, at.line), startColumn: Math.max(1, at.column) });
  const physical = (file: string, at: Position) => ({ artifactLocation: artifactLocation(file, opts), region: region(at) });
  const loc = (file: string, at: Position, logical?: string) => ({
    physicalLocation: physical(file, at),
    ...(logical ? { logicalLocations: [{ fullyQualifiedName: logical, kind: "resource" }] } : {}),
  });
  const result = (ruleId: string, level: string, text: string, locations: unknown[], extra: Record<string, unknown> = {}) =>
    results.push({ ruleId, ruleIndex: ruleIndex.get(ruleId) ?? -1, level, message: { text }, locations, ...extra });
  const fixesOf = (r: AuditResult): Record<string, unknown>[] => {
    if (!opts.fixes || !r.patch) return [];
    const texts = report.source?.fixedText(r);
    const change = texts ? lineReplacement(texts.before, texts.after) : null;
    if (!change) return [];
    return [
      {
        description: { text: [`Apply rewrite-loopback-probes to ${objectLabel(r)} (what \`loopback-probes audit --fix\` writes).`, ...(r.rewriteWarnings ?? [])].join("\n") },
        artifactChanges: [
          {
            artifactLocation: artifactLocation(r.manifest.file, opts),
            replacements: [
              {
                deletedRegion: { startLine: change.startLine, startColumn: 1, endLine: change.endLine, endColumn: change.endColumn, charOffset: change.charOffset, charLength: change.charLength },
                insertedContent: { text: change.inserted },
              },
            ],
          },
        ],
      },
    ];
  };

  for (const r of report.results) {
    const first: Position = { line: r.manifest.line, column: 1 };
    // Every result names the policy that produced it (properties.policy).
    const by = (policy: string) => ({ policy });
    for (const v of r.verdicts)
      if (v.status === "error") result("policy-error", "warning", v.message || "policy error", [loc(r.manifest.file, first, objectLabel(r))], { properties: by(v.policy) });
    // Warnings of a failing object travel with its findings (and fix); others get results of their own.
    if (r.status !== "fail" || r.findings.length === 0) for (const w of r.rewriteWarnings ?? []) result("rewrite-warning", "warning", w, [loc(r.manifest.file, first, objectLabel(r))]);
    if (r.status !== "fail") continue;
    const fixes = fixesOf(r);
    const withFixes = fixes.length > 0 ? { fixes } : {};
    for (const v of r.verdicts)
      if (v.status === "fail" && v.findings.length === 0)
        result("unreachable-probe", "error", v.message || "a probe can never succeed", [loc(r.manifest.file, first, objectLabel(r))], { ...withFixes, properties: by(v.policy) });
    for (const { policy, finding: f, at, binds } of locateFindings(report, r)) {
      const logical = `${objectLabel(r)}/${f.container}/${f.probe}`;
      result(ruleIndex.has(f.reason) ? f.reason : "unreachable-probe", "error", `${objectLabel(r)}: ${f.message}. Fix: ${f.fix}.`, [loc(r.manifest.file, at, logical)], {
        ...(binds.length > 0 ? { relatedLocations: binds.map((b, id) => ({ id, physicalLocation: physical(r.manifest.file, b.at), message: { text: `binds the probed port: ${b.bind}` } })) } : {}),
        partialFingerprints: { "objectProbe/v1": logical },
        ...withFixes,
        properties: { ...by(policy), ...(r.rewriteWarnings ? { rewriteWarnings: r.rewriteWarnings } : {}) },
      });
    }
  }
  for (const e of report.errors) {
    const at = report.source?.locateError(e) ?? { line: 1, column: 1 };
    result("unreadable-document", "error", `${e.documentIndex === null ? "" : `document ${e.documentIndex + 1}: `}${e.message}`, [loc(e.file, at)]);
  }
  const root = opts.sourceRoot.replace(/\/+$/, "");
  return {
    version: "2.1.0",
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    runs: [
      {
        tool: {
          driver: {
            name: "loopback-probes",
            version: opts.version,
            informationUri: opts.informationUri,
            rules: SARIF_RULES.map((r) => ({
              id: r.id,
              name: r.name,
              shortDescription: { text: r.short },
              fullDescription: { text: r.full },
              help: { text: markdownToText(r.help), markdown: r.help },
              helpUri: `${opts.informationUri}#how-findings-map-to-fixes`,
              defaultConfiguration: { level: r.level },
              properties: { tags: ["kubernetes", "reliability", "probes"], precision: "very-high", "problem.severity": r.level === "note" ? "recommendation" : r.level },
            })),
          },
        },
        // A path that could not be read means the scan is incomplete: say so where code scanning shows tool problems.
        invocations: [
          {
            executionSuccessful: (report.unreadable ?? []).length === 0,
            toolExecutionNotifications: (report.unreadable ?? []).map((u) => ({ level: "error", message: { text: `cannot read ${u.file}: ${u.message}` } })),
          },
        ],
        originalUriBaseIds: { "%SRCROOT%": { uri: `file://${encodePath(root)}/` } },
        columnKind: "utf16CodeUnits",
        results,
      },
    ],
  };
}
