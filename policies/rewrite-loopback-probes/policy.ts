/**
 * rewrite-loopback-probes: replaces kubelet probes that can never succeed
 * (port bound only on loopback) with exec probes run inside the pod, as
 * prometheus-operator v0.75.0 does for its config-reloader, where the image can
 * run them (see src/analysis/rewrite.ts for what it never does).
 *
 * It never refuses a request: its own errors (limits, out of memory) and
 * objects it cannot edit exactly become warnings on an accepted request.
 */
import { describeWorkload, type AnalysisOptions } from "../../src/analysis/reachability.js";
import { planRewrite, type RewriteOptions } from "../../src/analysis/rewrite.js";
import { judgeAdmission } from "../../src/analysis/update.js";
import { editJsonText, type JsonEdit } from "../../src/kubewarden/json-text.js";
import { definePolicy } from "../../src/kubewarden/policy.js";
import { accept, mutate, RawJson } from "../../src/kubewarden/protocol.js";
import { declareCleanRequestPrecheck } from "../shared/precheck.js";
import { declareAnalysisWorkBudget } from "../shared/work-budget.js";
import { analysisOptions, parseWithSchema, type SchemaValidator } from "../shared/settings.js";
import type { RewriteLoopbackProbesSettings } from "./settings.generated.js";
import validateSchema from "./settings.validate.generated.js";

interface Options {
  analysis: AnalysisOptions;
  rewrite: RewriteOptions;
}

definePolicy<Options>({
  onOwnError: "accept",
  parseSettings: (raw) =>
    parseWithSchema(validateSchema as SchemaValidator, raw, (s: RewriteLoopbackProbesSettings) => ({
      analysis: analysisOptions(s),
      rewrite: { strategy: s.strategy ?? "exec", images: { withShell: s.imagesWithShell ?? [], withoutShell: s.imagesWithoutShell ?? [] } },
    })),
  validate(request, options, context) {
    const judgement = judgeAdmission(request.operation, request.object, request.oldObject, options.analysis);
    if (judgement.kind === "none") return accept(judgement.note ? { warnings: [judgement.note] } : {});
    // Malformed objects are left alone (the API server rejects them anyway); say why.
    if (judgement.kind === "malformed")
      return accept({ warnings: [`${describeWorkload(judgement.workload)}: not rewritten, malformed object: ${judgement.malformed.join("; ")}`] });
    const { workload, templateChanged } = judgement;
    // On UPDATE: a Pod's spec is immutable; an unchanged template stays untouched (no
    // rollout nobody asked for); a changed one rolls out anyway, so fix everything in it.
    const fixAll = request.operation === "UPDATE" && templateChanged && workload.kind !== "Pod";
    const findings = fixAll ? [...judgement.findings, ...judgement.preExisting] : judgement.findings;
    const notes = fixAll ? judgement.notes.filter((n) => n !== judgement.preExistingNote) : judgement.notes;
    if (findings.length === 0) return accept({ warnings: notes });
    const where = describeWorkload(workload);
    if (request.operation === "UPDATE" && workload.kind === "Pod")
      return accept({ warnings: [...findings.map((f) => `${f.message} (not rewritten: a Pod's spec cannot change on UPDATE)`), ...notes] });
    const changes = planRewrite(request.object, findings, options.rewrite);
    const warnings = [...changes.map((c) => c.description), ...notes];
    const edits: JsonEdit[] = [];
    for (const c of changes) if (c.action !== "kept") edits.push(c.action === "exec" ? { path: c.path, value: c.replacement } : { path: c.path });
    if (edits.length === 0) return accept({ warnings });
    const text = context.objectText();
    const edited = text === null ? { ok: false as const, message: "request.object not found in the request text" } : editJsonText(text, edits);
    if (!edited.ok) return accept({ warnings: [`${where}: not rewritten (${edited.message}); the probes below can never succeed`, ...warnings] });
    return mutate(new RawJson(edited.text), { warnings });
  },
});

// Clean workloads with default settings are answered natively, before any JS runs.
declareCleanRequestPrecheck();
// A request that would outlast policy-server's deadline is let through with a warning instead.
declareAnalysisWorkBudget();
