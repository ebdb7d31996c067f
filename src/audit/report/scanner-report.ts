/**
 * What both report kinds of Kubewarden's audit scanner share
 * (internal/audit-scanner/report/report.go, policyreports.go, openreports.go):
 * ONE report per audited resource — a namespaced report for namespaced kinds, a
 * cluster report for the others — named by the resource's UID, owned by it,
 * scoped to it, with ONE result per policy that audited it. Every result is the
 * policy's own: its unique name (`clusterwide-<name>`, `namespaced-<ns>-<name>`),
 * its category and severity (the policy's annotations, which `scaffold manifest`
 * copies from metadata.yml), its properties; the summary counts the results.
 *
 * policyreport.ts and openreport.ts give the API group and kinds.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import type { PolicyMetadata } from "../../toolchain/metadata.js";
import type { AuditResult, PolicyVerdict } from "../evaluate.js";
import { type AuditReport, meta, verdictResult } from "./common.js";

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

/** A policy as deployed: what the scanner reads from its (Cluster)AdmissionPolicy. */
export interface ReportedPolicy {
  /** The (Cluster)AdmissionPolicy's metadata.name. */
  name: string;
  /** Set for an AdmissionPolicy: results then name `namespaced-<ns>-<name>`. */
  namespace?: string;
  mode: "protect" | "monitor";
  /** Severity, category, mutating and contextAwareResources come from here (as the manifest `scaffold manifest` writes carries them). */
  metadata: PolicyMetadata | null;
}

export interface ScannerReportOptions {
  /** Every policy of the audit, keyed by its name in the verdicts (PolicyVerdict.policy). */
  policies: ReadonlyMap<string, ReportedPolicy>;
  /** Seconds since the epoch for result timestamps. */
  now: number;
  /** Value of app.kubernetes.io/managed-by: "kubewarden" (the scanner replaces these) or any other (it never touches them). */
  managedBy: string;
  /** Namespace for namespaced objects that name none (what `kubectl apply` would use). */
  defaultNamespace: string;
}

/** The API group/version and kinds of one report format, and the top-level fields it always carries. */
export interface ReportKind {
  apiVersion: string;
  namespaced: string;
  clusterScoped: string;
  /** Fields the format's Go type marshals even when empty (openreports' Report.source). */
  always?: Record<string, unknown>;
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

/** The scanner's unique name of a policy (GetUniqueName). */
export function policyUniqueName(p: ReportedPolicy): string {
  return p.namespace ? `namespaced-${p.namespace}-${p.name}` : `clusterwide-${p.name}`;
}

/** One result, field for field newReportResult / newPolicyReportResult. */
function reportResult(v: PolicyVerdict, policy: ReportedPolicy, now: number): Record<string, unknown> {
  const annotations = policy.metadata?.annotations ?? {};
  // computePolicyResultSeverity: "info" in monitor mode, else the annotation, else none.
  const severity = policy.mode === "monitor" ? "info" : (annotations["io.kubewarden.policy.severity"] ?? "");
  const category = annotations["io.kubewarden.policy.category"] ?? "";
  // computeProperties: exactly one of mutating/validating; context-aware only for a ClusterAdmissionPolicy that grants resources.
  const properties: Record<string, string> = {
    [policy.metadata?.mutating === true ? "mutating" : "validating"]: "true",
    ...(!policy.namespace && policy.metadata?.contextAwareResources?.length ? { "context-aware": "true" } : {}),
    // Unknown offline: the policy resource's UID and resourceVersion exist only in a cluster.
    "policy-resource-version": "",
    "policy-uid": "",
    "policy-name": policy.name,
    ...(policy.namespace ? { "policy-namespace": policy.namespace } : {}),
  };
  // The message of an accept the opt-out annotation narrowed says what it skipped.
  const message = v.optOut !== undefined && v.status === "pass" ? v.optOut : v.message;
  return {
    source: "kubewarden",
    policy: policyUniqueName(policy),
    ...(category ? { category } : {}),
    ...(severity ? { severity } : {}),
    timestamp: { seconds: now, nanos: 0 },
    result: verdictResult(v),
    scored: true,
    // The Go field (SubjectSelector / ResourceSelector) is serialised as resourceSelector.
    resourceSelector: {},
    ...(message ? { message } : {}),
    properties,
  };
}

/** The reports of one kind for every audited object some policy selects. */
export function scannerReports(report: AuditReport, opts: ScannerReportOptions, kind: ReportKind): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const taken = new Set<string>();
  for (const r of report.results) {
    // The scanner only lists resources some policy's rules select: no report for the others.
    // An object skipped by its own opt-out annotation is selected: reported as "skip", with the reason.
    if (r.verdicts.length === 0) continue;
    const m = meta(r);
    const apiVersion = String(r.manifest.object.apiVersion);
    const objectKind = String(r.manifest.object.kind);
    const clusterScoped = CLUSTER_SCOPED.has(objectKind);
    const namespace = clusterScoped ? undefined : (m.namespace ?? opts.defaultNamespace);
    let name = reportName(r);
    if (taken.has(`${namespace ?? ""}/${name}`)) name = `${name.slice(0, 241)}-${shortHash(r.manifest.file, String(r.manifest.documentIndex), String(r.manifest.itemIndex))}`;
    taken.add(`${namespace ?? ""}/${name}`);

    const results = r.verdicts.map((v) => {
      const policy = opts.policies.get(v.policy);
      if (!policy) throw new Error(`no policy named ${v.policy} for the report`);
      return reportResult(v, policy, opts.now);
    });
    const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
    for (const res of results) summary[res.result as keyof typeof summary]++;
    out.push({
      apiVersion: kind.apiVersion,
      kind: clusterScoped ? kind.clusterScoped : kind.namespaced,
      metadata: {
        name,
        ...(namespace ? { namespace } : {}),
        labels: { [MANAGED_BY_LABEL]: opts.managedBy, [REPORT_VERSION_LABEL]: "v2", [CREATED_BY_LABEL]: CREATED_BY_VALUE },
        ...(m.uid ? { ownerReferences: [{ apiVersion, kind: objectKind, name: m.name ?? "", uid: m.uid }] } : {}),
      },
      ...kind.always,
      scope: { apiVersion, kind: objectKind, ...(namespace ? { namespace } : {}), name: m.name ?? "", ...(m.uid ? { uid: m.uid } : {}), ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}) },
      summary,
      results,
    });
  }
  return out;
}

/** Reports as a YAML stream, one document each (what `kubectl apply -f -` takes). */
export function yamlStream(docs: readonly Record<string, unknown>[]): string {
  return docs.map((doc) => `---\n${stringify(doc, { lineWidth: 0 })}`).join("");
}
