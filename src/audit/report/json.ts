/** `audit --format json`: every object with its status, located findings, errors and skipped documents, for scripts. */
import { type AuditReport, locateFindings, meta, summarize, verdictResult } from "./common.js";

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
          // Each finding names the policy that reported it; each policy that judged the object has a verdict.
          findings: locateFindings(report, r).map(({ policy, finding, at, binds }) => ({ policy, ...finding, line: at.line, column: at.column, bindLocations: binds.map((b) => ({ bind: b.bind, line: b.at.line, column: b.at.column })) })),
          verdicts: r.verdicts.map((v) => ({
            policy: v.policy,
            result: verdictResult(v),
            ...(v.message ? { message: v.message } : {}),
            ...(v.errorKind ? { errorKind: v.errorKind } : {}),
            findings: v.findings.length,
            ...(v.optOut ? { optOut: v.optOut } : {}),
            ...(v.skip ? { skipReason: v.skip } : {}),
            ...(v.warnings.length > 0 ? { warnings: v.warnings } : {}),
          })),
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
