/**
 * Output formats of `loopback-probes audit`: a table for people, JSON for
 * scripts, wgpolicyk8s.io PolicyReports (v2, as Kubewarden's audit scanner
 * writes them) for clusters, SARIF 2.1.0 for code scanning.
 *
 * Everything here is a pure function of the audit results. What needs the
 * source text (positions inside a file, the text `--fix` would write) comes in
 * through `SourceAccess`, so the formats do not care how the files were read.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { FindingRecord } from "../analysis/reachability.js";
import { runningContainers } from "../analysis/probes.js";
import { podTemplateOf } from "../analysis/workload.js";
import type { PolicyMetadata } from "../toolchain/metadata.js";
import type { AuditResult, AuditStatus } from "./evaluate.js";
import type { JsonPath, ManifestError, ManifestObject, ManifestSkip, SourcePosition } from "./read.js";

/** 1-based line and column (UTF-16 code units, as JavaScript strings count them). */
export type Position = SourcePosition;
export type { JsonPath };

/**
 * What the reports need from the source text. Every member may answer null
 * (unknown): the reports then fall back to the object's first line.
 */
export interface SourceAccess {
  /**
   * Where `path` (inside the object) is written in the object's file: for a
   * mapping entry the position of its key, for a sequence item the item's.
   */
  locate(manifest: ManifestObject, path: JsonPath): Position | null;
  /** Where the problem of an unreadable document is (the YAML error, or the document's start). */
  locateError(error: ManifestError): Position | null;
  /** The whole file's text before and after `--fix` applies this result's patch alone. */
  fixedText(result: AuditResult): { before: string; after: string } | null;
}

export interface AuditReport {
  results: AuditResult[];
  errors: ManifestError[];
  /** Documents that are not objects to evaluate (patches, templates, chart files…), with the reason. */
  skipped?: ManifestSkip[];
  files: string[];
  /** Paths that could not be read at all (missing, permissions). */
  unreadable?: ManifestError[];
  /** Positions and fix texts; without it every location is the object's first line. */
  source?: SourceAccess;
}

export interface Summary {
  files: number;
  objects: number;
  pass: number;
  fail: number;
  error: number;
  skip: number;
  /** Of `skip`: objects accepted while their own opt-out annotation left probes unchecked. */
  optedOut: number;
  findings: number;
  warnings: number;
  badDocuments: number;
}

export function summarize(report: AuditReport): Summary {
  const count = (s: AuditStatus) => report.results.filter((r) => r.status === s).length;
  return {
    files: report.files.length,
    objects: report.results.length,
    pass: count("pass"),
    fail: count("fail"),
    error: count("error"),
    skip: count("skip"),
    optedOut: report.results.filter((r) => r.skipReason === "opt-out").length,
    findings: report.results.reduce((n, r) => n + Math.max(r.findings.length, r.status === "fail" ? 1 : 0), 0),
    warnings: report.results.reduce((n, r) => n + (r.rewriteWarnings?.length ?? 0), 0),
    badDocuments: report.errors.length,
  };
}

interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}
const meta = (r: AuditResult): ObjectMeta => {
  const m = r.manifest.object.metadata;
  if (typeof m !== "object" || m === null || Array.isArray(m)) return {};
  const out: ObjectMeta = {};
  for (const key of ["name", "namespace", "uid", "resourceVersion"] as const) {
    const v: unknown = Object.hasOwn(m, key) ? (m as Record<string, unknown>)[key] : undefined;
    if (typeof v === "string" && v !== "") out[key] = v;
  }
  return out;
};
export const objectLabel = (r: AuditResult) => {
  const m = meta(r);
  return `${String(r.manifest.object.kind)}/${m.namespace ? `${m.namespace}/` : ""}${m.name ?? "?"}`;
};
export const location = (r: AuditResult) => `${r.manifest.file}:${r.manifest.line}`;

// ---------- where a finding is written ----------

/** JSON path of the probe a finding is about (`…/containers/1/livenessProbe`), or null. */
export function probePath(object: unknown, finding: Pick<FindingRecord, "container" | "probe">): JsonPath | null {
  const template = podTemplateOf(object);
  if (!template) return null;
  const hit = runningContainers(template.spec).find((c) => c.container.name === finding.container);
  return hit ? [...template.path, hit.list, hit.index, finding.probe] : null;
}

const isSpace = (c: string | undefined) => c === undefined || c === " " || c === "\t" || c === "\n" || c === '"' || c === "'";

/**
 * Does `word` (an args/command entry, maybe a whole `sh -c` script) pass `flag`
 * as a flag of its own: `--listen-address` in `--listen-address=…` but not in
 * `--cluster.listen-address=…`.
 */
export function mentionsFlag(word: string, flag: string): boolean {
  for (let at = word.indexOf(flag); at >= 0; at = word.indexOf(flag, at + 1)) {
    const after = word[at + flag.length];
    if (isSpace(word[at - 1]) && (after === "=" || isSpace(after))) return true;
  }
  return false;
}

/**
 * JSON paths of the settings that bind the probed port: the command/args word
 * that carries the flag, or the env entry. The probed container first, then
 * the pod's other containers (a sidecar may bind the port).
 */
export function bindPaths(object: unknown, finding: Pick<FindingRecord, "container" | "binds">): { bind: string; path: JsonPath }[] {
  const template = podTemplateOf(object);
  if (!template) return [];
  const containers = runningContainers(template.spec);
  containers.sort((a, b) => Number(b.container.name === finding.container) - Number(a.container.name === finding.container));
  const out: { bind: string; path: JsonPath }[] = [];
  for (const bind of finding.binds) {
    const eq = bind.indexOf("=");
    const setting = eq < 0 ? bind : bind.slice(0, eq);
    if (setting === "") continue;
    let found: JsonPath | null = null;
    for (const { list, index, container } of containers) {
      const base = [...template.path, list, index];
      if (!setting.startsWith("-")) {
        const env: unknown = container.env;
        const i = Array.isArray(env) ? env.findIndex((e: unknown) => typeof e === "object" && e !== null && (e as { name?: unknown }).name === setting) : -1;
        if (i >= 0) found = [...base, "env", i];
      } else {
        for (const field of ["args", "command"] as const) {
          const words: unknown = container[field];
          const i = Array.isArray(words) ? words.findIndex((w: unknown) => typeof w === "string" && mentionsFlag(w, setting)) : -1;
          if (i >= 0) {
            found = [...base, field, i];
            break;
          }
        }
      }
      if (found) break;
    }
    if (found) out.push({ bind, path: found });
  }
  return out;
}

interface LocatedFinding {
  finding: FindingRecord;
  at: Position;
  binds: { bind: string; at: Position }[];
}

function locateFindings(report: AuditReport, r: AuditResult): LocatedFinding[] {
  const first: Position = { line: r.manifest.line, column: 1 };
  const find = (path: JsonPath | null) => (path && report.source?.locate(r.manifest, path)) || null;
  return r.findings.map((finding) => ({
    finding,
    at: find(probePath(r.manifest.object, finding)) ?? first,
    binds: bindPaths(r.manifest.object, finding).flatMap(({ bind, path }) => {
      const at = find(path);
      return at ? [{ bind, at }] : [];
    }),
  }));
}

// ---------- table ----------

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;
type Style = keyof typeof ANSI;

const REASON_TEXT: Record<string, string> = {
  "loopback-only-listener": "bound only on loopback",
  "loopback-host-without-host-network": "loopback host, no hostNetwork",
  "unresolvable-port-name": "port name not declared",
};
const SHORT_FIX: Record<string, string> = {
  "loopback-only-listener/httpGet": "exec probe (curl/wget)",
  "loopback-only-listener/tcpSocket": "exec probe (nc -z)",
  "loopback-only-listener/grpc": "bind non-loopback",
  "loopback-host-without-host-network/httpGet": "drop host; exec probe",
  "loopback-host-without-host-network/tcpSocket": "drop host; exec probe",
  "unresolvable-port-name/httpGet": "declare the port name",
  "unresolvable-port-name/tcpSocket": "declare the port name",
  "unresolvable-port-name/grpc": "declare the port name",
};
const shortFix = (f: FindingRecord) => SHORT_FIX[`${f.reason}/${f.handler}`] ?? "see message";

export interface TableOptions {
  color: boolean;
  diff: boolean;
  /** Terminal width in columns; ignored with `wide`. */
  width: number;
  /** One row per finding with file and object on it, cells never cut. */
  wide: boolean;
}

interface Column {
  header: string;
  /** Lower gives way first when the table is too wide. */
  giveWay: number;
  /** The narrowest the column may be cut to. */
  min: number;
  /** Cells are cut at the start ("…tail") rather than the end. */
  keepEnd?: boolean;
}
const GAP = 2;

/** Cut `text` to `width` characters with an ellipsis, at the end or (keepEnd) the start. */
export function truncate(text: string, width: number, keepEnd = false): string {
  if (text.length <= width) return text;
  if (width <= 1) return "…".slice(0, Math.max(0, width));
  return keepEnd ? `…${text.slice(text.length - width + 1)}` : `${text.slice(0, width - 1)}…`;
}

/**
 * Column widths that fit `width`: columns give way in `order` (least important
 * first), each down to its minimum; the table may then still be wider than the terminal.
 */
export function fitWidths(natural: readonly number[], mins: readonly number[], width: number, order: readonly number[]): number[] {
  const widths = [...natural];
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - width;
  for (const i of order) {
    if (excess <= 0) break;
    const cut = Math.min(excess, Math.max(0, widths[i]! - mins[i]!));
    widths[i] = widths[i]! - cut;
    excess -= cut;
  }
  return widths;
}

/** Colour only on a terminal, and never with --no-color or a non-empty NO_COLOR (no-color.org). */
export function useColor(opts: { isTTY: boolean; noColorFlag: boolean; env: Record<string, string | undefined> }): boolean {
  return opts.isTTY && !opts.noColorFlag && !opts.env.NO_COLOR;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

interface TableRow {
  /** File and object, the group the row belongs to. */
  file: string;
  object: string;
  cells: { line: string; container: string; probe: string; port: string; bind: string; reason: string; fix: string };
  style: Style;
  /** Printed whole under the row: the policy's message when there is no structured finding. */
  note?: string;
}

function tableRows(report: AuditReport): TableRow[] {
  const rows: TableRow[] = [];
  for (const r of report.results.filter((x) => x.status === "fail" || x.status === "error")) {
    const base = { file: r.manifest.file, object: objectLabel(r) };
    if (r.status === "error" || r.findings.length === 0) {
      const error = r.status === "error";
      const cells = { line: `${r.manifest.line}`, container: "-", probe: "-", port: "-", bind: "-", reason: error ? "policy error" : "rejected", fix: "see message" };
      rows.push({ ...base, cells, style: error ? "yellow" : "red", note: r.message || (error ? "policy error" : "rejected without a message") });
      continue;
    }
    for (const { finding: f, at } of locateFindings(report, r))
      rows.push({
        ...base,
        cells: { line: `${at.line}:${at.column}`, container: f.container, probe: `${f.probe.replace(/Probe$/, "")} ${f.handler}`, port: String(f.port), bind: f.binds[0] ?? (f.host !== undefined ? `host: ${f.host}` : "-"), reason: REASON_TEXT[f.reason] ?? f.reason, fix: shortFix(f) },
        style: "red",
      });
  }
  return rows;
}

/**
 * Findings for people. By default grouped under a "file — object" line so the
 * rows fit the terminal; `wide` puts file:line and the object on every row
 * (grep- and editor-friendly) and never cuts a cell.
 */
export function formatTable(report: AuditReport, opts: TableOptions): string {
  const paint = (style: Style, text: string) => (opts.color && text !== "" ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text);
  const rows = tableRows(report);
  const lines: string[] = [];
  if (rows.length > 0) {
    const columns: (Column & { cell: (row: TableRow) => string; status?: boolean })[] = [
      ...(opts.wide
        ? [
            { header: "LOCATION", giveWay: 9, min: 0, cell: (row: TableRow) => `${row.file}:${row.cells.line}` },
            { header: "OBJECT", giveWay: 9, min: 0, cell: (row: TableRow) => row.object },
          ]
        : [{ header: "LINE", giveWay: 9, min: 4, cell: (row: TableRow) => row.cells.line }]),
      { header: "CONTAINER", giveWay: 3, min: 9, cell: (row) => row.cells.container },
      { header: "PROBE", giveWay: 4, min: 9, cell: (row) => row.cells.probe },
      { header: "PORT", giveWay: 9, min: 4, cell: (row) => row.cells.port },
      { header: "BOUND BY", giveWay: 5, min: 12, cell: (row) => row.cells.bind },
      { header: "REASON", giveWay: 2, min: 10, cell: (row) => row.cells.reason, status: true },
      { header: "FIX", giveWay: 1, min: 10, cell: (row) => row.cells.fix },
    ];
    const table = rows.map((row) => columns.map((c) => c.cell(row)));
    const natural = columns.map((c, i) => Math.max(c.header.length, ...table.map((cells) => cells[i]!.length)));
    const order = columns.map((_, i) => i).sort((a, b) => columns[a]!.giveWay - columns[b]!.giveWay);
    const widths = opts.wide ? natural : fitWidths(natural, columns.map((c, i) => Math.min(c.min, natural[i]!)), opts.width, order);
    const fmt = (cells: string[], styleOf: (i: number) => Style | null) =>
      cells
        .map((c, i) => {
          const cut = truncate(c, widths[i]!, columns[i]!.keepEnd);
          const pad = i === cells.length - 1 ? "" : " ".repeat(widths[i]! - cut.length);
          const style = styleOf(i);
          // Paint the text only, so the padding stays outside the escape codes.
          return (style ? paint(style, cut) : cut) + pad;
        })
        .join(" ".repeat(GAP))
        .trimEnd();
    lines.push(fmt(columns.map((c) => c.header), () => "bold"));
    let group = "";
    rows.forEach((row, n) => {
      if (!opts.wide && `${row.file}\u0000${row.object}` !== group) {
        group = `${row.file}\u0000${row.object}`;
        lines.push(paint("cyan", truncate(`${row.file} — ${row.object}`, opts.width, true)));
      }
      lines.push(fmt(table[n]!, (i) => (columns[i]!.status ? row.style : null)));
      if (row.note) lines.push(`  ↳ ${row.note}`);
    });
    lines.push("");
  }
  // The rewrite's warnings already name the object.
  for (const r of report.results) for (const w of r.rewriteWarnings ?? []) lines.push(paint("yellow", `warning: ${location(r)}: ${w}`));
  for (const r of report.results) if (r.skipReason === "opt-out") lines.push(`skipped: ${location(r)}: ${objectLabel(r)}: ${r.message ?? "opt-out annotation"}`);
  for (const e of report.errors) {
    const at = report.source?.locateError(e);
    lines.push(paint("yellow", `error: ${e.file}${at ? `:${at.line}:${at.column}` : ""}${e.documentIndex === null ? "" : ` (document ${e.documentIndex + 1})`}: ${e.message}`));
  }
  if (opts.diff) {
    for (const r of report.results.filter((x) => x.patch)) {
      lines.push(paint("cyan", `# ${objectLabel(r)} (${location(r)}): JSON Patch from rewrite-loopback-probes`));
      lines.push(stringify(r.patch, { lineWidth: 0 }).trimEnd());
      lines.push("");
    }
  }
  const s = summarize(report);
  const verdict = s.fail > 0 ? paint("red", `${plural(s.findings, "finding")} in ${plural(s.fail, "object")}`) : paint("green", "no findings");
  const counts = [
    paint("green", `${s.pass} passed`),
    paint(s.fail > 0 ? "red" : "dim", `${s.fail} failed`),
    paint(s.error > 0 ? "yellow" : "dim", `${s.error} errors`),
    paint("dim", `${s.skip - s.optedOut} not selected by the policy rules`),
    ...(s.optedOut ? [paint("dim", `${s.optedOut} skipped by their opt-out annotation`)] : []),
    ...(s.badDocuments ? [paint("yellow", plural(s.badDocuments, "unreadable document"))] : []),
    ...(s.warnings ? [paint("yellow", plural(s.warnings, "rewrite warning"))] : []),
  ];
  lines.push(`${verdict}; ${plural(s.objects, "object")} in ${plural(s.files, "file")}: ${counts.join(", ")}`);
  return lines.join("\n") + "\n";
}

// ---------- json ----------

export function formatJson(report: AuditReport): string {
  return (
    JSON.stringify(
      {
        summary: summarize(report),
        results: report.results.map((r) => ({
          file: r.manifest.file,
          line: r.manifest.line,
          documentIndex: r.manifest.documentIndex,
          itemIndex: r.manifest.itemIndex,
          apiVersion: r.manifest.object.apiVersion,
          kind: r.manifest.object.kind,
          namespace: meta(r).namespace ?? null,
          name: meta(r).name ?? null,
          status: r.status,
          ...(r.message ? { message: r.message } : {}),
          findings: locateFindings(report, r).map(({ finding, at, binds }) => ({ ...finding, line: at.line, column: at.column, bindLocations: binds.map((b) => ({ bind: b.bind, line: b.at.line, column: b.at.column })) })),
          ...(r.errorKind ? { errorKind: r.errorKind } : {}),
          ...(r.skipReason ? { skipReason: r.skipReason } : {}),
          ...(r.notes ? { notes: r.notes } : {}),
          ...(r.patch ? { patch: r.patch } : {}),
          ...(r.rewriteWarnings ? { rewriteWarnings: r.rewriteWarnings } : {}),
          ...(r.policyWarnings ? { policyWarnings: r.policyWarnings } : {}),
          ...(r.patchResolves === undefined ? {} : { patchResolves: r.patchResolves }),
        })),
        errors: report.errors.map((e) => {
          const at = report.source?.locateError(e);
          return { ...e, ...(at ? { line: at.line, column: at.column } : {}) };
        }),
        skipped: report.skipped ?? [],
      },
      null,
      2,
    ) + "\n"
  );
}

// ---------- PolicyReport (v2, as audit-scanner ≥ v1.11 writes them) ----------

/** Kinds that live outside namespaces (reported in a ClusterPolicyReport). */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "PriorityClass",
  "RuntimeClass",
  "IngressClass",
  "CSIDriver",
  "CSINode",
  "APIService",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "ClusterAdmissionPolicy",
  "ClusterAdmissionPolicyGroup",
  "PolicyServer",
]);

/** The label the audit scanner selects its own reports by (and deletes stale ones with). */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const REPORT_VERSION_LABEL = "kubewarden.io/policyreport-version";
/** Marks reports this command wrote, so `kubectl delete polr,cpolr -A -l …` finds exactly ours. */
export const CREATED_BY_LABEL = "app.kubernetes.io/created-by";
export const CREATED_BY_VALUE = "loopback-probes-audit";

export interface PolicyReportOptions {
  /** The ClusterAdmissionPolicy's (or AdmissionPolicy's) metadata.name. */
  policyName: string;
  /** Set for an AdmissionPolicy: results then name `namespaced-<ns>-<name>`. */
  policyNamespace?: string;
  metadata: PolicyMetadata | null;
  mode: "protect" | "monitor";
  /** Seconds since the epoch for result timestamps. */
  now: number;
  /** Value of app.kubernetes.io/managed-by: "kubewarden" (the scanner replaces these) or any other (it never touches them). */
  managedBy: string;
  /** Namespace for namespaced objects that name none (what `kubectl apply` would use). */
  defaultNamespace: string;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const shortHash = (...parts: string[]) => createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 10);

/**
 * The report's metadata.name. The scanner names a report by the resource's UID;
 * a manifest that carries one (exported from a cluster) gets exactly that name,
 * so our report and the scanner's are the same object. Otherwise
 * `<kind>-<name>` in lower case — never UUID-shaped, so it cannot take a
 * scanner report's name — with a hash suffix when that is no valid name.
 */
export function reportName(r: AuditResult): string {
  const m = meta(r);
  if (m.uid) return m.uid;
  const kind = String(r.manifest.object.kind).toLowerCase().replace(/[^a-z0-9]/g, "") || "object";
  const plain = `${kind}-${m.name ?? ""}`;
  if (m.name && plain.length <= 253 && DNS_SUBDOMAIN.test(plain)) return plain;
  const readable = (m.name ?? "").toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, 200);
  const where = m.name ? [String(r.manifest.object.apiVersion), kind, m.namespace ?? "", m.name] : [r.manifest.file, String(r.manifest.documentIndex), String(r.manifest.itemIndex)];
  return [kind, readable, shortHash(...where)].filter((s) => s !== "").join("-");
}

export function policyReports(report: AuditReport, opts: PolicyReportOptions): Record<string, unknown>[] {
  // Severity and category come from the policy's annotations, as the scanner reads them from the policy resource.
  const annotations = opts.metadata?.annotations ?? {};
  const severity = opts.mode === "monitor" ? "info" : (annotations["io.kubewarden.policy.severity"] ?? "");
  const category = annotations["io.kubewarden.policy.category"] ?? "";
  const uniqueName = opts.policyNamespace ? `namespaced-${opts.policyNamespace}-${opts.policyName}` : `clusterwide-${opts.policyName}`;
  const properties: Record<string, string> = {
    [opts.metadata?.mutating === true ? "mutating" : "validating"]: "true",
    ...(opts.metadata?.contextAwareResources?.length ? { "context-aware": "true" } : {}),
    // Unknown offline: the policy resource's UID and resourceVersion exist only in a cluster.
    "policy-resource-version": "",
    "policy-uid": "",
    "policy-name": opts.policyName,
    ...(opts.policyNamespace ? { "policy-namespace": opts.policyNamespace } : {}),
  };
  const out: Record<string, unknown>[] = [];
  const taken = new Set<string>();
  for (const r of report.results) {
    // The scanner only lists resources some policy's rules select: no report for the others.
    // An object skipped by its own opt-out annotation is selected: reported as "skip", with the reason.
    if (r.status === "skip" && r.skipReason !== "opt-out") continue;
    const m = meta(r);
    const apiVersion = String(r.manifest.object.apiVersion);
    const kind = String(r.manifest.object.kind);
    const clusterScoped = CLUSTER_SCOPED.has(kind);
    const namespace = clusterScoped ? undefined : (m.namespace ?? opts.defaultNamespace);
    let name = reportName(r);
    if (taken.has(`${namespace ?? ""}/${name}`)) name = `${name.slice(0, 241)}-${shortHash(r.manifest.file, String(r.manifest.documentIndex), String(r.manifest.itemIndex))}`;
    taken.add(`${namespace ?? ""}/${name}`);

    const status = r.status as "pass" | "fail" | "error" | "skip";
    const metadata: Record<string, unknown> = {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { [MANAGED_BY_LABEL]: opts.managedBy, [REPORT_VERSION_LABEL]: "v2", [CREATED_BY_LABEL]: CREATED_BY_VALUE },
      ...(m.uid ? { ownerReferences: [{ apiVersion, kind, name: m.name ?? "", uid: m.uid }] } : {}),
    };
    const scope: Record<string, string> = { apiVersion, kind, ...(namespace ? { namespace } : {}), name: m.name ?? "", ...(m.uid ? { uid: m.uid } : {}), ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}) };
    const result = {
      source: "kubewarden",
      policy: uniqueName,
      ...(category ? { category } : {}),
      ...(severity ? { severity } : {}),
      timestamp: { seconds: opts.now, nanos: 0 },
      result: status,
      scored: true,
      // The scanner's Go field SubjectSelector, serialised under this v1alpha2 JSON name.
      resourceSelector: {},
      ...(r.message ? { message: r.message } : {}),
      properties,
    };
    out.push({
      apiVersion: "wgpolicyk8s.io/v1alpha2",
      kind: clusterScoped ? "ClusterPolicyReport" : "PolicyReport",
      metadata,
      scope,
      summary: { pass: Number(status === "pass"), fail: Number(status === "fail"), warn: 0, error: Number(status === "error"), skip: Number(status === "skip") },
      results: [result],
    });
  }
  return out;
}

export function formatPolicyReports(report: AuditReport, opts: PolicyReportOptions): string {
  return policyReports(report, opts)
    .map((doc) => stringify(doc, { lineWidth: 0 }))
    .map((y) => `---\n${y}`)
    .join("");
}

// ---------- SARIF ----------

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
    if (r.status === "error") result("policy-error", "warning", r.message || "policy error", [loc(r.manifest.file, first, objectLabel(r))]);
    // Warnings of a failing object travel with its findings (and fix); others get results of their own.
    if (r.status !== "fail" || r.findings.length === 0) for (const w of r.rewriteWarnings ?? []) result("rewrite-warning", "warning", w, [loc(r.manifest.file, first, objectLabel(r))]);
    if (r.status !== "fail") continue;
    const fixes = fixesOf(r);
    const withFixes = fixes.length > 0 ? { fixes } : {};
    if (r.findings.length === 0) result("unreachable-probe", "error", r.message || "a probe can never succeed", [loc(r.manifest.file, first, objectLabel(r))], withFixes);
    for (const { finding: f, at, binds } of locateFindings(report, r)) {
      const logical = `${objectLabel(r)}/${f.container}/${f.probe}`;
      result(ruleIndex.has(f.reason) ? f.reason : "unreachable-probe", "error", `${objectLabel(r)}: ${f.message}. Fix: ${f.fix}.`, [loc(r.manifest.file, at, logical)], {
        ...(binds.length > 0 ? { relatedLocations: binds.map((b, id) => ({ id, physicalLocation: physical(r.manifest.file, b.at), message: { text: `binds the probed port: ${b.bind}` } })) } : {}),
        partialFingerprints: { "objectProbe/v1": logical },
        ...withFixes,
        ...(r.rewriteWarnings ? { properties: { rewriteWarnings: r.rewriteWarnings } } : {}),
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
