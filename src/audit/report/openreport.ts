/**
 * `audit --format openreport`: openreports.io/v1alpha1 Report / ClusterReport,
 * what Kubewarden's audit scanner writes since v1.30 with `--report-kind
 * openreports`, its charts' default since v1.33 (internal/audit-scanner/report/openreports.go):
 * the same object meta, scope, summary and results as its PolicyReports
 * (scanner-report.ts), and the Report's top-level `source`, which the Go type
 * always marshals (empty: the results carry `source: kubewarden`).
 */
import type { AuditReport } from "./common.js";
import { type ReportKind, type ScannerReportOptions, scannerReports, yamlStream } from "./scanner-report.js";

export const OPEN_REPORT_KIND: ReportKind = { apiVersion: "openreports.io/v1alpha1", namespaced: "Report", clusterScoped: "ClusterReport", always: { source: "" } };

export function openReports(report: AuditReport, opts: ScannerReportOptions): Record<string, unknown>[] {
  return scannerReports(report, opts, OPEN_REPORT_KIND);
}

export function formatOpenReports(report: AuditReport, opts: ScannerReportOptions): string {
  return yamlStream(openReports(report, opts));
}
