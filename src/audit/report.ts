/**
 * Output formats of `loopback-probes audit`: a table for people, JSON for
 * scripts, wgpolicyk8s.io PolicyReports for clusters, SARIF for code scanning.
 */
import { styleText } from "node:util";
import { stringify } from "yaml";
import type { FindingRecord } from "../analysis/reachability.js";
import type { PolicyMetadata } from "../toolchain/metadata.js";
import type { AuditResult, AuditStatus } from "../cli/audit-core.js";
import type { ManifestError } from "../cli/manifests.js";

export interface AuditReport {
  results: AuditResult[];
  errors: ManifestError[];
  files: string[];
}

export interface Summary {
  files: number;
  objects: number;
  pass: number;
  fail: number;
  error: number;
  skip: number;
  findings: number;
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
    findings: report.results.reduce((n, r) => n + Math.max(r.findings.length, r.status === "fail" ? 1 : 0), 0),
    badDocuments: report.errors.length,
  };
}

const meta = (r: AuditResult) => (r.manifest.object.metadata ?? {}) as { name?: string; namespace?: string; uid?: string };
export const objectLabel = (r: AuditResult) => {
  const m = meta(r);
  return `${String(r.manifest.object.kind)}/${m.namespace ? `${m.namespace}/` : ""}${m.name ?? "?"}`;
};
export const location = (r: AuditResult) => `${r.manifest.file}:${r.manifest.line}`;

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

// ---------- table ----------

export function formatTable(report: AuditReport, opts: { color: boolean; diff: boolean }): string {
  const paint = (style: Parameters<typeof styleText>[0], text: string) => (opts.color ? styleText(style, text) : text);
  const header = ["LOCATION", "OBJECT", "CONTAINER", "PROBE", "PORT", "BOUND", "FIX"];
  const rows: string[][] = [];
  for (const r of report.results.filter((x) => x.status === "fail" || x.status === "error")) {
    if (r.status === "error" || r.findings.length === 0) {
      rows.push([location(r), objectLabel(r), "-", "-", "-", "-", r.status === "error" ? `policy error: ${r.message ?? ""}` : (r.message ?? "")]);
      continue;
    }
    for (const f of r.findings) {
      rows.push([location(r), objectLabel(r), f.container, `${f.probe} ${f.handler}`, String(f.port), f.boundAddress ?? "-", shortFix(f)]);
    }
  }
  const lines: string[] = [];
  if (rows.length > 0) {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
    lines.push(paint("bold", fmt(header)));
    for (const row of rows) lines.push(fmt(row));
    lines.push("");
  }
  for (const e of report.errors) lines.push(paint("yellow", `warning: ${e.file}${e.documentIndex === null ? "" : ` (document ${e.documentIndex + 1})`}: ${e.message}`));
  if (opts.diff) {
    for (const r of report.results.filter((x) => x.patch)) {
      lines.push(paint("cyan", `# ${objectLabel(r)} (${location(r)}): JSON Patch from rewrite-loopback-probes`));
      lines.push(stringify(r.patch, { lineWidth: 0 }).trimEnd());
      lines.push("");
    }
  }
  const s = summarize(report);
  const verdict = s.fail > 0 ? paint("red", `${s.findings} finding${s.findings === 1 ? "" : "s"} in ${s.fail} object${s.fail === 1 ? "" : "s"}`) : paint("green", "no findings");
  lines.push(
    `${verdict}; ${s.objects} object${s.objects === 1 ? "" : "s"} in ${s.files} file${s.files === 1 ? "" : "s"}: ${s.pass} passed, ${s.fail} failed, ${s.error} errors, ${s.skip} not selected by the policy rules${s.badDocuments ? `, ${s.badDocuments} unreadable document${s.badDocuments === 1 ? "" : "s"}` : ""}`,
  );
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
          findings: r.findings,
          ...(r.patch ? { patch: r.patch } : {}),
        })),
        errors: report.errors,
      },
      null,
      2,
    ) + "\n"
  );
}

// ---------- PolicyReport ----------

/** Kinds that live outside namespaces (reported in the ClusterPolicyReport). */
const CLUSTER_SCOPED = new Set(["Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]);

export interface PolicyReportOptions {
  policyName: string;
  metadata: PolicyMetadata | null;
  mode: "protect" | "monitor";
  /** Seconds since the epoch for result timestamps. */
  now: number;
}

export function policyReports(report: AuditReport, opts: PolicyReportOptions): Record<string, unknown>[] {
  const annotations = opts.metadata?.annotations ?? {};
  const severity = opts.mode === "monitor" ? "info" : (annotations["io.kubewarden.policy.severity"] ?? "medium");
  const category = annotations["io.kubewarden.policy.category"] ?? "";
  const groups = new Map<string, AuditResult[]>();
  for (const r of report.results) {
    if (r.status === "skip") continue;
    const clusterScoped = CLUSTER_SCOPED.has(String(r.manifest.object.kind));
    const key = clusterScoped ? "" : (meta(r).namespace ?? "default");
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: Record<string, unknown>[] = [];
  for (const [namespace, results] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
    const entries = results.map((r) => {
      const status = r.status as "pass" | "fail" | "error";
      summary[status]++;
      const resource: Record<string, string> = { apiVersion: String(r.manifest.object.apiVersion), kind: String(r.manifest.object.kind), name: meta(r).name ?? "" };
      if (namespace) resource.namespace = namespace;
      if (meta(r).uid) resource.uid = meta(r).uid!;
      return {
        source: "kubewarden",
        policy: opts.policyName,
        ...(category ? { category } : {}),
        severity,
        result: status,
        message: r.message ?? "",
        timestamp: { seconds: opts.now, nanos: 0 },
        scored: true,
        resources: [resource],
        properties: { validating: String(opts.metadata?.mutating !== true), ...(opts.metadata?.mutating ? { mutating: "true" } : {}), "policy-name": opts.policyName },
      };
    });
    const metadata: Record<string, unknown> = {
      name: namespace ? `polr-ns-${namespace}` : "polr-clusterwide",
      labels: { "app.kubernetes.io/managed-by": "kubewarden" },
    };
    if (namespace) metadata.namespace = namespace;
    out.push({ apiVersion: "wgpolicyk8s.io/v1alpha2", kind: namespace ? "PolicyReport" : "ClusterPolicyReport", metadata, summary, results: entries });
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

const SARIF_RULES = [
  { id: "loopback-only-listener", name: "LoopbackOnlyListener", text: "Probe targets a port bound only on loopback; the kubelet dials the pod IP", level: "error" },
  { id: "loopback-host-without-host-network", name: "LoopbackHostWithoutHostNetwork", text: "Probe sets a loopback host without hostNetwork: the kubelet dials the node's loopback", level: "error" },
  { id: "unresolvable-port-name", name: "UnresolvablePortName", text: "Probe names a port the container does not declare", level: "error" },
  { id: "unreachable-probe", name: "UnreachableProbe", text: "Probe can never succeed", level: "error" },
  { id: "policy-error", name: "PolicyError", text: "The policy could not evaluate the object", level: "warning" },
  { id: "unreadable-document", name: "UnreadableDocument", text: "A document could not be read as a Kubernetes object", level: "warning" },
] as const;

export function sarifLog(report: AuditReport, tool: { version: string; informationUri: string }): Record<string, unknown> {
  const results: Record<string, unknown>[] = [];
  const loc = (file: string, line: number, logical?: string) => ({
    physicalLocation: { artifactLocation: { uri: file }, region: { startLine: Math.max(1, line) } },
    ...(logical ? { logicalLocations: [{ fullyQualifiedName: logical, kind: "resource" }] } : {}),
  });
  for (const r of report.results) {
    if (r.status === "error") results.push({ ruleId: "policy-error", level: "warning", message: { text: r.message ?? "policy error" }, locations: [loc(r.manifest.file, r.manifest.line, objectLabel(r))] });
    if (r.status !== "fail") continue;
    if (r.findings.length === 0) results.push({ ruleId: "unreachable-probe", level: "error", message: { text: r.message ?? "" }, locations: [loc(r.manifest.file, r.manifest.line, objectLabel(r))] });
    for (const f of r.findings)
      results.push({
        ruleId: f.reason,
        level: "error",
        message: { text: `${objectLabel(r)}: ${f.message}. Fix: ${f.fix}.` },
        locations: [loc(r.manifest.file, r.manifest.line, `${objectLabel(r)}/${f.container}/${f.probe}`)],
        partialFingerprints: { "objectProbe/v1": `${objectLabel(r)}/${f.container}/${f.probe}` },
      });
  }
  for (const e of report.errors) results.push({ ruleId: "unreadable-document", level: "warning", message: { text: e.message }, locations: [loc(e.file, 1)] });
  return {
    version: "2.1.0",
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    runs: [
      {
        tool: {
          driver: {
            name: "loopback-probes",
            version: tool.version,
            informationUri: tool.informationUri,
            rules: SARIF_RULES.map((r) => ({ id: r.id, name: r.name, shortDescription: { text: r.text }, defaultConfiguration: { level: r.level }, helpUri: `${tool.informationUri}#how-findings-map-to-fixes` })),
          },
        },
        results,
      },
    ],
  };
}
