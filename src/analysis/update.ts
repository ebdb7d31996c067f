/**
 * What an admission request asks the policies to judge.
 *
 * CREATE: the whole object. UPDATE: only what it changes. An UPDATE of an
 * object that already exists must not be refused for what it already was:
 * controllers remove finalizers from objects being deleted, the garbage
 * collector clears `foregroundDeletion`, people relabel old Deployments; a
 * refusal there leaves objects stuck (in Terminating, for finalizers). So:
 * - an object being deleted (`metadata.deletionTimestamp` set) is not judged;
 * - on UPDATE a finding is judged only when `oldObject` does not have it too
 *   (same container, probe, handler, port and reason); the others are named in
 *   a warning, and the background audit keeps reporting them. A finding the old
 *   object's opt-out annotation skipped counts as new: removing the opt-out
 *   asks for the check.
 */
import { checkWorkload, describeWorkload, type AnalysisOptions, type Finding, type WorkloadCheck } from "./reachability.js";
import { describeOptOut } from "./opt-out.js";
import { isRecord, podTemplateOf, type WorkloadRef } from "./workload.js";

/** The pod template as JSON text (its metadata too: a changed template annotation rolls out as well). */
function templateText(object: unknown): string {
  const template = podTemplateOf(object);
  if (!template) return "";
  let node: unknown = object;
  const path = template.path;
  for (let i = 0; i < path.length - 1; i++) node = isRecord(node) ? node[path[i]!] : undefined;
  return JSON.stringify(node) ?? "";
}

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT" | string;

export type Judgement =
  /** Nothing to judge; `note` says why when the answer should say it. */
  | { kind: "none"; note?: string }
  | { kind: "malformed"; workload: WorkloadRef; malformed: string[] }
  | {
      kind: "findings";
      workload: WorkloadRef;
      /** Findings this request introduces: what the policies act on. */
      findings: Finding[];
      /** Findings the object already had before this UPDATE: reported, not acted on. */
      preExisting: Finding[];
      check: WorkloadCheck;
      /** Warning lines: the opt-out, pre-existing findings. */
      notes: string[];
      /** The line of `notes` about pre-existing findings, if any. */
      preExistingNote?: string;
      /**
       * UPDATE only: whether the pod template (the spec and the template's metadata)
       * differs from oldObject's. A changed template rolls out anyway, so the rewrite
       * may fix pre-existing findings then; an unchanged one must stay untouched (a
       * mutation would start a rollout nobody asked for). Always true on CREATE.
       */
      templateChanged: boolean;
    };

/** What identifies "the same problem" across an UPDATE. */
export function findingKey(f: Finding): string {
  const t = f.target;
  return `${t.containerList}\u0000${t.container}\u0000${t.probeKind}\u0000${t.handler}\u0000${String(t.portSpec)}\u0000${f.reason}`;
}

export function isBeingDeleted(object: unknown): boolean {
  return isRecord(object) && isRecord(object.metadata) && object.metadata.deletionTimestamp != null;
}

const MAX_LISTED = 5;

export function judgeAdmission(operation: Operation, object: unknown, oldObject: unknown, options: AnalysisOptions): Judgement {
  if (operation === "DELETE" || object == null) return { kind: "none" };
  if (isBeingDeleted(object)) return { kind: "none" };
  const check = checkWorkload(object, options);
  if (!check.workload) return { kind: "none" };
  const workload = check.workload;
  if (check.notChecked !== undefined) return { kind: "none", note: `${describeWorkload(workload)}: not checked: ${check.notChecked}` };
  const update = operation === "UPDATE" && oldObject != null;
  const old = update ? checkWorkload(oldObject, options) : null;
  if (check.malformed.length > 0) {
    // The same problems before and after: the object was stored like this; not this update's doing.
    if (old && old.malformed.join("\n") === check.malformed.join("\n"))
      return { kind: "none", note: `${describeWorkload(workload)}: not checked, malformed object left unchanged by this update: ${check.malformed.join("; ")}` };
    return { kind: "malformed", workload, malformed: check.malformed };
  }
  const notes: string[] = [];
  if (check.optOut) notes.push(`${describeWorkload(workload)}: ${describeOptOut(check.optOut)}`);
  for (let i = 0; i < check.warnings.length; i++) notes.push(check.warnings[i]!);
  let findings = check.findings;
  const preExisting: Finding[] = [];
  let preExistingNote: string | undefined;
  if (old && findings.length > 0) {
    const before = new Set<string>();
    for (let i = 0; i < old.findings.length; i++) before.add(findingKey(old.findings[i]!));
    findings = [];
    for (let i = 0; i < check.findings.length; i++) (before.has(findingKey(check.findings[i]!)) ? preExisting : findings).push(check.findings[i]!);
    if (preExisting.length > 0) {
      const listed = preExisting
        .slice(0, MAX_LISTED)
        .map((f) => f.message)
        .join("; ");
      const more = preExisting.length > MAX_LISTED ? ` and ${preExisting.length - MAX_LISTED} more` : "";
      notes.push(
        (preExistingNote = `${describeWorkload(workload)}: this update leaves ${preExisting.length} unreachable probe${preExisting.length === 1 ? "" : "s"} as they were, so they are not judged here (the background audit still reports them): ${listed}${more}`),
      );
    }
  }
  const templateChanged = !old || templateText(object) !== templateText(oldObject);
  return { kind: "findings", workload, findings, preExisting, check, notes, templateChanged, ...(preExistingNote ? { preExistingNote } : {}) };
}
