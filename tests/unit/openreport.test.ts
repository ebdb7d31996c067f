/**
 * `audit --format openreport` against what Kubewarden's audit scanner builds
 * (kubewarden/adm-controller @3460bb7, internal/audit-scanner/report/
 * openreports.go, report.go, constants.go, scanner/scanner.go), field by field,
 * and against the current openreports.io CRD schema (openreports/reports-api,
 * tests/support/upstream.ts).
 *
 * `scannerOpenReport` below restates what that Go code builds for one resource
 * and the policies that audited it, and what encoding/json makes of it (the
 * reports-api types' json tags: omitempty on category, severity, message,
 * properties, resourceSelector; none on the Report's `source` and the summary
 * counts). Our reports must equal it everywhere except the documented
 * differences of an offline audit, which are asserted on their own.
 */
import Ajv from "ajv";
import { describe, expect, it } from "vitest";
import type { FindingRecord } from "../../src/analysis/reachability.js";
import type { AuditResult, PolicyVerdict } from "../../src/audit/evaluate.js";
import type { AuditReport } from "../../src/audit/report/common.js";
import { formatOpenReports, openReports } from "../../src/audit/report/openreport.js";
import { policyReports } from "../../src/audit/report/policyreport.js";
import type { ReportedPolicy, ScannerReportOptions } from "../../src/audit/report/scanner-report.js";
import type { PolicyMetadata } from "../../src/toolchain/metadata.js";
import { crdSchema, UPSTREAM_FILES, UPSTREAM_PRESENT } from "../support/upstream.js";
import { parseAllDocuments } from "yaml";

// ---------- the scanner, restated ----------

/** A policy resource as the scanner reads it (policiesv1.Policy). */
interface PolicyResource {
  kind: "ClusterAdmissionPolicy" | "AdmissionPolicy";
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  mode: "protect" | "monitor";
  mutating: boolean;
  annotations: Record<string, string>;
  contextAwareResources: { apiVersion: string; kind: string }[];
}

/** What policy-server answered (AdmissionReview.response) and whether the scanner counts it as errored (scanner.go: code 500 or no answer). */
interface Audit {
  policy: PolicyResource;
  allowed: boolean;
  message?: string;
  code?: number;
}

const NOW = 1700000000;
const RUN_UID = "11111111-2222-3333-4444-555555555555";

/** policy.GetUniqueName() (api/policies/v1/*_types.go). */
const uniqueName = (p: PolicyResource) => (p.kind === "ClusterAdmissionPolicy" ? `clusterwide-${p.name}` : `namespaced-${p.namespace}-${p.name}`);

/** newReportResult (openreports.go) with getCategoryAndMessage, computePolicyResultSeverity, computePolicyResult, computeProperties (report.go). */
function scannerResult(a: Audit): Record<string, unknown> {
  const p = a.policy;
  const errored = a.code === 500;
  const category = p.annotations["io.kubewarden.policy.category"] ?? "";
  const severity = p.mode === "monitor" ? "info" : (p.annotations["io.kubewarden.policy.severity"] ?? "");
  const result = errored ? "error" : a.allowed ? "pass" : "fail";
  const properties: Record<string, string> = {};
  properties[p.mutating ? "mutating" : "validating"] = "true";
  // IsContextAware: a ClusterAdmissionPolicy with contextAwareResources; an AdmissionPolicy never.
  if (p.kind === "ClusterAdmissionPolicy" && p.contextAwareResources.length > 0) properties["context-aware"] = "true";
  properties["policy-resource-version"] = p.resourceVersion;
  properties["policy-uid"] = p.uid;
  properties["policy-name"] = p.name;
  if (p.namespace) properties["policy-namespace"] = p.namespace;
  // encoding/json of openreports.ReportResult: omitempty drops "" category, severity, message.
  return {
    source: "kubewarden",
    policy: uniqueName(p),
    ...(category !== "" ? { category } : {}),
    ...(severity !== "" ? { severity } : {}),
    timestamp: { seconds: NOW, nanos: 0 },
    result,
    scored: true,
    resourceSelector: {},
    ...(a.message ? { message: a.message } : {}),
    properties,
  };
}

/** NewOpenReport / NewClusterOpenReport + AddResult for each audit (SetSkipPolicies/SetErrorPolicies: 0, every policy audited). */
function scannerOpenReport(resource: Record<string, any>, clusterScoped: boolean, audits: Audit[]): Record<string, unknown> {
  const m = resource.metadata;
  const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  const results = audits.map(scannerResult);
  for (const r of results) if (r.result === "pass" || r.result === "fail" || r.result === "error") summary[r.result]++;
  return {
    apiVersion: "openreports.io/v1alpha1",
    kind: clusterScoped ? "ClusterReport" : "Report",
    // getReportObjectMeta; the Report (not the ClusterReport) also gets the resource's namespace.
    metadata: {
      name: m.uid,
      ...(clusterScoped ? {} : { namespace: m.namespace }),
      labels: { "app.kubernetes.io/managed-by": "kubewarden", "kubewarden.io/policyreport-version": "v2", "kubewarden.io/audit-scanner-run-uid": RUN_UID },
      ownerReferences: [{ apiVersion: resource.apiVersion, kind: resource.kind, name: m.name, uid: m.uid }],
    },
    // Report.Source has no omitempty: always marshalled.
    source: "",
    // getReportScope: corev1.ObjectReference, every member omitempty.
    scope: { apiVersion: resource.apiVersion, kind: resource.kind, ...(m.namespace ? { namespace: m.namespace } : {}), name: m.name, uid: m.uid, resourceVersion: m.resourceVersion },
    summary,
    results,
  };
}

// ---------- the same audit, offline ----------

const annotations = { "io.kubewarden.policy.severity": "medium", "io.kubewarden.policy.category": "Best Practices" };
const metadata = (over: Partial<PolicyMetadata> = {}): PolicyMetadata => ({
  protocolVersion: "Unknown",
  rules: [],
  annotations,
  mutating: false,
  backgroundAudit: true,
  contextAwareResources: [],
  executionMode: "wasi",
  policyType: "kubernetes",
  ...over,
});

/** The deployed policies, as the scanner reads them and as our report options describe them (module name → resource). */
const probes: PolicyResource = { kind: "ClusterAdmissionPolicy", name: "reject-loopback-probes", uid: "a1", resourceVersion: "7", mode: "protect", mutating: false, annotations, contextAwareResources: [] };
const listenLocal: PolicyResource = {
  kind: "ClusterAdmissionPolicy",
  name: "listenlocal",
  uid: "b2",
  resourceVersion: "9",
  mode: "monitor",
  mutating: false,
  annotations: { ...annotations, "io.kubewarden.policy.severity": "high", "io.kubewarden.policy.category": "Prometheus" },
  contextAwareResources: [{ apiVersion: "apps/v1", kind: "Deployment" }],
};
const teamPolicy: PolicyResource = { kind: "AdmissionPolicy", name: "probes", namespace: "team-a", uid: "c3", resourceVersion: "3", mode: "protect", mutating: false, annotations: {}, contextAwareResources: [] };

const reported = (p: PolicyResource, meta: PolicyMetadata): ReportedPolicy => ({ name: p.name, ...(p.namespace ? { namespace: p.namespace } : {}), mode: p.mode, metadata: meta });
const options: ScannerReportOptions = {
  policies: new Map([
    ["reject-loopback-probes", reported(probes, metadata())],
    ["reject-listenlocal-reloader-probes", reported(listenLocal, metadata({ annotations: listenLocal.annotations, contextAwareResources: listenLocal.contextAwareResources }))],
    ["team-probes", reported(teamPolicy, metadata({ annotations: {} }))],
  ]),
  now: NOW,
  managedBy: "kubewarden",
  defaultNamespace: "default",
};
const moduleOf = new Map<PolicyResource, string>([
  [probes, "reject-loopback-probes"],
  [listenLocal, "reject-listenlocal-reloader-probes"],
  [teamPolicy, "team-probes"],
]);

const finding: FindingRecord = {
  container: "config-reloader",
  probe: "livenessProbe",
  handler: "httpGet",
  port: 8080,
  reason: "loopback-only-listener",
  binds: ["--listen-address=127.0.0.1:8080"],
  message: "bound only on loopback",
  fix: "exec probe",
};

/** Our audit result for `resource` with the verdicts the audits stand for. */
function auditResult(resource: Record<string, unknown>, audits: Audit[]): AuditResult {
  const verdicts: PolicyVerdict[] = audits.map((a) => ({
    policy: moduleOf.get(a.policy)!,
    status: a.code === 500 ? "error" : a.allowed ? "pass" : "fail",
    ...(a.message ? { message: a.message } : {}),
    findings: !a.allowed && a.code !== 500 && a.policy === probes ? [finding] : [],
    warnings: [],
  }));
  const worst = verdicts.some((v) => v.status === "error") ? "error" : verdicts.some((v) => v.status === "fail") ? "fail" : "pass";
  const manifest = { file: "cluster.yaml", documentIndex: 0, itemIndex: null, line: 1, object: resource } as AuditResult["manifest"];
  return { manifest, status: worst, findings: verdicts.flatMap((v) => v.findings), verdicts };
}

const statefulSet = {
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "prometheus-main", namespace: "monitoring", uid: "0d4c3c52-4b5b-4a0a-9a43-0fdd5a6c1e01", resourceVersion: "4711" },
  spec: {},
};
const prometheus = {
  apiVersion: "monitoring.coreos.com/v1",
  kind: "Prometheus",
  metadata: { name: "main", namespace: "monitoring", uid: "5f0e2d3c-1111-4a0a-9a43-0fdd5a6c1e02", resourceVersion: "12" },
  spec: { listenLocal: true },
};
const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "monitoring", uid: "9a9a9a9a-1111-4a0a-9a43-0fdd5a6c1e03", resourceVersion: "1" } };

const cases: { resource: Record<string, any>; clusterScoped: boolean; audits: Audit[] }[] = [
  // One policy that found something (protect mode: the annotation's severity) and an AdmissionPolicy that failed to evaluate.
  { resource: statefulSet, clusterScoped: false, audits: [{ policy: probes, allowed: false, message: "1 probe can never succeed" }, { policy: teamPolicy, allowed: false, message: "boom", code: 500 }] },
  // The context-aware policy's rejection, in monitor mode: its own name, category, severity "info", context-aware.
  { resource: prometheus, clusterScoped: false, audits: [{ policy: listenLocal, allowed: false, message: "listenLocal with reloader probes of operator v0.74.0" }] },
  // A cluster-scoped resource that passes: a ClusterReport without a namespace, no message.
  { resource: namespace, clusterScoped: true, audits: [{ policy: probes, allowed: true }, { policy: listenLocal, allowed: true }] },
];

/** Every leaf path of a JSON value, e.g. "results.0.properties.policy-uid". */
function leaves(value: unknown, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof value === "object" && value !== null && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0))
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, leaf);
  else out.set(prefix, value);
  return out;
}

/**
 * Where an offline audit cannot or must not say what the scanner says:
 * - the run-uid label is the scanner's own (its next run deletes every managed-by=kubewarden
 *   report without its current run uid: ours then give way to live results), and ours say who wrote them;
 * - the policy resource's UID and resourceVersion exist only in a cluster.
 */
const OFFLINE = new Map<RegExp, (ours: unknown, scanner: unknown) => void>([
  [/^metadata\.labels\.kubewarden\.io\/audit-scanner-run-uid$/, (ours) => expect(ours).toBeUndefined()],
  [/^metadata\.labels\.app\.kubernetes\.io\/created-by$/, (ours, scanner) => (expect(ours).toBe("loopback-probes-audit"), expect(scanner).toBeUndefined())],
  [/^results\.\d+\.properties\.policy-(uid|resource-version)$/, (ours) => expect(ours).toBe("")],
]);

describe("OpenReports as the audit scanner builds them", () => {
  const report: AuditReport = { results: cases.map((c) => auditResult(c.resource, c.audits)), errors: [], files: ["cluster.yaml"] };
  const ours = openReports(report, options);

  it("one report per resource, field by field what openreports.go builds, but for the offline differences", () => {
    expect(ours).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      const expected = leaves(scannerOpenReport(c.resource, c.clusterScoped, c.audits));
      const got = leaves(ours[i]);
      for (const path of new Set([...expected.keys(), ...got.keys()])) {
        const offline = [...OFFLINE].find(([re]) => re.test(path));
        if (offline) offline[1](got.get(path), expected.get(path));
        else expect(got.get(path), `${c.resource.kind} ${path}`).toStrictEqual(expected.get(path));
      }
    });
  });

  it("every result is its own policy's: name, category, severity, properties; the summary counts the results", () => {
    const [sts, prom] = ours as Record<string, any>[];
    expect(sts!.results.map((r: { policy: string }) => r.policy)).toEqual(["clusterwide-reject-loopback-probes", "namespaced-team-a-probes"]);
    expect(sts!.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 1, skip: 0 });
    expect(prom!.results).toHaveLength(1);
    expect(prom!.results[0]).toMatchObject({
      policy: "clusterwide-listenlocal",
      category: "Prometheus",
      severity: "info",
      properties: { "policy-name": "listenlocal", "context-aware": "true", validating: "true" },
    });
    // An AdmissionPolicy is never context-aware and names its namespace.
    expect(sts!.results[1].properties).toEqual({ validating: "true", "policy-name": "probes", "policy-namespace": "team-a", "policy-uid": "", "policy-resource-version": "" });
  });

  it.runIf(UPSTREAM_PRESENT)("validates against the openreports.io CRDs (unknown fields refused, as kubectl --validate=strict)", () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = { Report: ajv.compile(crdSchema(UPSTREAM_FILES.openReport, "v1alpha1")), ClusterReport: ajv.compile(crdSchema(UPSTREAM_FILES.openClusterReport, "v1alpha1")) };
    for (const doc of ours) {
      const v = validate[doc.kind as keyof typeof validate];
      expect(v(doc), JSON.stringify(v.errors)).toBe(true);
    }
    // The check can fail: a misspelt member, a result word the CRD does not know.
    const bad = structuredClone(ours[0]!) as Record<string, any>;
    bad.results[0].severity = "urgent";
    bad.summary.passed = 1;
    expect(validate.Report(bad)).toBe(false);
    expect(JSON.stringify(validate.Report.errors)).toContain("additionalProperties");
  });

  it("same layout as the PolicyReports, in its own API group; a YAML stream kubectl applies", () => {
    const policy = policyReports(report, options);
    ours.forEach((doc, i) => {
      const { apiVersion, kind, source, ...rest } = doc as Record<string, unknown>;
      const { apiVersion: pApiVersion, kind: pKind, ...pRest } = policy[i] as Record<string, unknown>;
      expect(rest).toEqual(pRest);
      expect(source).toBe("");
      expect(apiVersion).toBe("openreports.io/v1alpha1");
      expect(pApiVersion).toBe("wgpolicyk8s.io/v1alpha2");
      expect([kind, pKind]).toEqual(cases[i]!.clusterScoped ? ["ClusterReport", "ClusterPolicyReport"] : ["Report", "PolicyReport"]);
    });
    expect(parseAllDocuments(formatOpenReports(report, options)).map((d) => d.toJS())).toEqual(ours);
  });
});
