/**
 * reject-loopback-probes: rejects workloads whose kubelet probes can never
 * succeed because the probed port is bound only on loopback.
 */
import { describeWorkload, findingRecordsJson, summarizeFindings, type AnalysisOptions } from "../../src/analysis/reachability.js";
import { judgeAdmission } from "../../src/analysis/update.js";
import { definePolicy } from "../../src/kubewarden/policy.js";
import { declareCleanRequestPrecheck, withPrecheckFacts } from "../shared/precheck.js";
import { declareAnalysisWorkBudget } from "../shared/work-budget.js";
import { accept, reject } from "../../src/kubewarden/protocol.js";
import { describeOptOut } from "../../src/analysis/opt-out.js";
import { FINDINGS_ANNOTATION, OPT_OUT_ANNOTATION } from "../shared/settings.js";
import { analysisOptions, settingsParser, type SchemaValidator } from "../shared/settings.js";
import type { RejectLoopbackProbesSettings } from "./settings.generated.js";
import validateSchema from "./settings.validate.generated.js";

definePolicy<AnalysisOptions>({
  parseSettings: settingsParser(validateSchema as SchemaValidator, (s: RejectLoopbackProbesSettings) => analysisOptions(s)),
  validate(request, options) {
    const judgement = judgeAdmission(request.operation, request.object, request.oldObject, withPrecheckFacts(options));
    if (judgement.kind === "none") return accept(judgement.note ? { warnings: [judgement.note] } : {});
    if (judgement.kind === "malformed")
      return reject(`${describeWorkload(judgement.workload)}: cannot check the probes of a malformed object: ${judgement.malformed.join("; ")}`, { code: 400 });
    const { findings, notes, check } = judgement;
    // The opt-out rides along too, so the audit can report the object as skipped and why.
    const optOut: Record<string, string> = check.optOut ? { [OPT_OUT_ANNOTATION]: JSON.stringify({ message: describeOptOut(check.optOut), skippedProbes: check.skipped.length }) } : {};
    if (findings.length === 0) return accept({ warnings: notes, audit_annotations: optOut });
    // The structured findings ride along as an audit annotation: the API server records
    // them in its audit log, and `loopback-probes audit` reads them for its reports.
    // What was judged without some input (a container whose binds a work bound left unknown) rides along as warnings.
    return reject(summarizeFindings(findings), { audit_annotations: { [FINDINGS_ANNOTATION]: findingRecordsJson(findings), ...optOut }, warnings: notes });
  },
});

// Clean workloads with default settings are answered natively, before any JS runs.
declareCleanRequestPrecheck();
// A request that would outlast policy-server's deadline is let through with a warning instead.
declareAnalysisWorkBudget();
