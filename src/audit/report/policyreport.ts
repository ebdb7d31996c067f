/** `audit --format policyreport`: wgpolicyk8s.io PolicyReports (v2, as Kubewarden's audit scanner ≥ v1.11 writes them). */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { PolicyMetadata } from "../../toolchain/metadata.js";
import type { AuditResult } from "../evaluate.js";
import { type AuditReport, meta } from "./common.js";

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
