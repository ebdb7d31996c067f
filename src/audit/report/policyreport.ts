/**
 * `audit --format policyreport`: wgpolicyk8s.io/v1alpha2 PolicyReport /
 * ClusterPolicyReport in the v2 layout Kubewarden's audit scanner (≥ v1.11)
 * writes with `--report-kind policyreport` (internal/audit-scanner/report/policyreports.go).
 * The layout is shared with OpenReports (scanner-report.ts).
 */
import type { AuditReport } from "./common.js";
import { type ReportKind, type ScannerReportOptions, scannerReports, yamlStream } from "./scanner-report.js";

export const POLICY_REPORT_KIND: ReportKind = { apiVersion: "wgpolicyk8s.io/v1alpha2", namespaced: "PolicyReport", clusterScoped: "ClusterPolicyReport" };

export function policyReports(report: AuditReport, opts: ScannerReportOptions): Record<string, unknown>[] {
  return scannerReports(report, opts, POLICY_REPORT_KIND);
}

export function formatPolicyReports(report: AuditReport, opts: ScannerReportOptions): string {
  return yamlStream(policyReports(report, opts));
}
