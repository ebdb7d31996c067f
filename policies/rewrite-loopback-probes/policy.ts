/**
 * rewrite-loopback-probes: replaces kubelet probes that can never succeed
 * (port bound only on loopback) with exec probes run inside the pod, as
 * prometheus-operator v0.75.0 does for its config-reloader, where the image can
 * run them (see src/analysis/rewrite.ts for what it never does).
 *
 * It never refuses a request: its own errors (limits, out of memory) and
 * objects it cannot edit exactly become warnings on an accepted request.
 */
import { describeWorkload, type AnalysisOptions, type Finding } from "../../src/analysis/reachability.js";
import { planRewrite, type RewriteChange, type RewriteOptions } from "../../src/analysis/rewrite.js";
import { judgeAdmission } from "../../src/analysis/update.js";
import { clipWarnings, listLines, MAX_ANSWER_BYTES, plural } from "../../src/kubewarden/bounded.js";
import type { JsonEdit } from "../../src/kubewarden/json-text.js";
import { answerBytes, definePolicy } from "../../src/kubewarden/policy.js";
import { accept, mutate, RawJson, type ValidationResponse } from "../../src/kubewarden/protocol.js";
import { declareCleanRequestPrecheck, withPrecheckFacts } from "../shared/precheck.js";
import { declareAnalysisWorkBudget } from "../shared/work-budget.js";
import { analysisOptions, settingsParser, type SchemaValidator } from "../shared/settings.js";
import type { RewriteLoopbackProbesSettings } from "./settings.generated.js";
import validateSchema from "./settings.validate.generated.js";

interface Options {
  analysis: AnalysisOptions;
  rewrite: RewriteOptions;
}

/**
 * Warnings stay small whatever the request holds (src/kubewarden/bounded.ts):
 * at most MAX_LISTED_WARNINGS lines about single probes, then one line for the
 * rest, each line cut to MAX_WARNING_CHARS.
 */
const accepted = (warnings: readonly string[]): ValidationResponse => accept({ warnings: clipWarnings(warnings) });

/** What the rewrite does, probe by probe (the first ones), then how many more of each. */
function changeLines(where: string, changes: readonly RewriteChange[]): string[] {
  return listLines(
    changes,
    (c) => c.description,
    (rest) => {
      const count = { exec: 0, removed: 0, kept: 0 };
      for (let i = 0; i < rest.length; i++) count[rest[i]!.action]++;
      const parts = [
        ...(count.exec ? [`${count.exec} rewritten to exec probes`] : []),
        ...(count.removed ? [`${count.removed} removed`] : []),
        ...(count.kept ? [`${count.kept} left as they were`] : []),
      ];
      return `${where}: … and ${plural(rest.length, "more probe", "more probes")} (${parts.join(", ")})`;
    },
  );
}

/** The probes that can never succeed (the first ones), then how many more. */
function findingLines(where: string, findings: readonly Finding[], suffix = ""): string[] {
  return listLines(
    findings,
    (f) => `${f.message}${suffix}`,
    (rest) => `${where}: … and ${plural(rest.length, "more probe", "more probes")} that can never succeed${suffix}`,
  );
}

definePolicy<Options>({
  onOwnError: "accept",
  parseSettings: settingsParser(validateSchema as SchemaValidator, (s: RewriteLoopbackProbesSettings) => ({
    analysis: analysisOptions(s),
    rewrite: { strategy: s.strategy ?? "exec", images: { withShell: s.imagesWithShell ?? [], withoutShell: s.imagesWithoutShell ?? [] } },
  })),
  validate(request, options, context) {
    const judgement = judgeAdmission(request.operation, request.object, request.oldObject, withPrecheckFacts(options.analysis));
    if (judgement.kind === "none") return accepted(judgement.note ? [judgement.note] : []);
    // Malformed objects are left alone (the API server rejects them anyway); say why.
    if (judgement.kind === "malformed") return accepted([`${describeWorkload(judgement.workload)}: not rewritten, malformed object: ${judgement.malformed.join("; ")}`]);
    const { workload, templateChanged } = judgement;
    // On UPDATE: a Pod's spec is immutable; an unchanged template stays untouched (no
    // rollout nobody asked for); a changed one rolls out anyway, so fix everything in it.
    const fixAll = request.operation === "UPDATE" && templateChanged && workload.kind !== "Pod";
    const findings = fixAll ? [...judgement.findings, ...judgement.preExisting] : judgement.findings;
    const notes = fixAll ? judgement.notes.filter((n) => n !== judgement.preExistingNote) : judgement.notes;
    if (findings.length === 0) return accepted(notes);
    const where = describeWorkload(workload);
    if (request.operation === "UPDATE" && workload.kind === "Pod")
      return accepted([...findingLines(where, findings, " (not rewritten: a Pod's spec cannot change on UPDATE)"), ...notes]);
    const changes = planRewrite(request.object, findings, options.rewrite);
    const warnings = clipWarnings([...changeLines(where, changes), ...notes]);
    const edits: JsonEdit[] = [];
    for (const c of changes) if (c.action !== "kept") edits.push(c.action === "exec" ? { path: c.path, value: c.replacement } : { path: c.path });
    if (edits.length === 0) return accept({ warnings });
    const notRewritten = (why: string) => accepted([`${where}: not rewritten (${why}); the probes below can never succeed`, ...findingLines(where, findings), ...notes]);
    // The answer must fit in MAX_ANSWER_BYTES with the object in it. Bytes are at
    // least characters, so an object with more characters than the room left
    // cannot fit: it is not even built. etcd refuses objects over ~1.5 MiB anyway.
    const room = MAX_ANSWER_BYTES - answerBytes(mutate(new RawJson("{}"), { warnings })) + 2;
    const tooLarge = (size: string) => `the answer with the rewritten object would be ${size} bytes, more than the limit of ${MAX_ANSWER_BYTES}`;
    const edited = context.editObject(edits, room);
    if (!edited.ok) return notRewritten(edited.length === undefined ? edited.message : tooLarge(`at least ${MAX_ANSWER_BYTES - room + edited.length}`));
    const answer = mutate(new RawJson(edited.text), { warnings });
    const bytes = answerBytes(answer);
    return bytes > MAX_ANSWER_BYTES ? notRewritten(tooLarge(String(bytes))) : answer;
  },
});

// Clean workloads with default settings are answered natively, before any JS runs.
declareCleanRequestPrecheck();
// A request that would outlast policy-server's deadline is let through with a warning instead.
declareAnalysisWorkBudget();
