/**
 * What every output format of `loopback-probes audit` shares: the report's
 * shape, the summary, object labels and where a finding is written in its file.
 * One module per format sits beside this one (table, json, policyreport, sarif).
 *
 * Everything here is a pure function of the audit results. What needs the
 * source text (positions inside a file, the text `--fix` would write) comes in
 * through `SourceAccess`, so the formats do not care how the files were read.
 */
import type { FindingRecord } from "../../analysis/reachability.js";
import { runningContainers } from "../../analysis/probes.js";
import { podTemplateOf } from "../../analysis/workload.js";
import type { AuditResult, AuditStatus, PolicyVerdict } from "../evaluate.js";
import type { JsonPath, ManifestError, ManifestObject, ManifestSkip, SourcePosition } from "../read.js";

/** 1-based line and column (UTF-16 code units, as JavaScript strings count them). */
export type Position = SourcePosition;
export type { JsonPath };

/**
 * What the reports need from the source text. Every member may answer null
 * (unknown): the reports then fall back to the object's first line.
 */
export interface SourceAccess {
  /**
   * Where `path` (inside the object) is written in the object's file: for a
   * mapping entry the position of its key, for a sequence item the item's.
   */
  locate(manifest: ManifestObject, path: JsonPath): Position | null;
  /** Where the problem of an unreadable document is (the YAML error, or the document's start). */
  locateError(error: ManifestError): Position | null;
  /** The whole file's text before and after `--fix` applies this result's patch alone. */
  fixedText(result: AuditResult): { before: string; after: string } | null;
}

export interface AuditReport {
  results: AuditResult[];
  errors: ManifestError[];
  /** Documents that are not objects to evaluate (patches, templates, chart files…), with the reason. */
  skipped?: ManifestSkip[];
  files: string[];
  /** Paths that could not be read at all (missing, permissions). */
  unreadable?: ManifestError[];
  /** Positions and fix texts; without it every location is the object's first line. */
  source?: SourceAccess;
}

/** What one policy said across the audit: one count per object it judged. */
export interface PolicyCounts {
  pass: number;
  fail: number;
  error: number;
  /** Accepted while the object's opt-out annotation left probes unchecked, or not judged (template values). */
  skip: number;
  /** Its structured findings (each one a record in the results). */
  findings: number;
}

export interface Summary {
  files: number;
  objects: number;
  pass: number;
  fail: number;
  error: number;
  skip: number;
  /** Of `skip`: objects accepted while their own opt-out annotation left probes unchecked. */
  optedOut: number;
  /** Structured findings: exactly the records in the results' `findings`. */
  findings: number;
  /** Rejections that came without a structured finding (the policy's message says why): each a failing verdict in the results. */
  rejectionsWithoutFindings: number;
  /** Per policy, in the audit's order: what each one said (its verdicts in the results). */
  policies: Record<string, PolicyCounts>;
  /** Of `fail`: objects whose every finding `--fix` fixed. */
  fixed: number;
  /** The rewrite's warnings about what it could not fix (its description of a done rewrite is not one). */
  warnings: number;
  /** Warnings the validating policies gave (e.g. "cannot decide" from the context-aware policy). */
  policyWarnings: number;
  /** Documents YAML or the reader could not read (syntax, alias bombs, nesting). */
  badDocuments: number;
  /** Paths that could not be read (missing, permissions, no manifest in a folder, empty stdin). */
  unreadable: number;
  /** Everything not judged, by reason: skipped documents (report.skipped) and skipped objects. */
  skipped: Record<string, number>;
  /** No object was judged by a policy (nothing passed, failed or errored). */
  nothingAudited: boolean;
}

/**
 * A rewrite warning that only describes a rewrite done (`… → exec probe from
 * inside the pod (…); it needs sh plus curl or wget in image …`, written by
 * src/analysis/rewrite.ts) rather than something left undone.
 */
export function describesRewrite(warning: string): boolean {
  return warning.includes(" → exec probe from inside the pod (");
}

/** The policy's verdict as a report result word: an accept the opt-out annotation narrowed is a "skip". */
export const verdictResult = (v: PolicyVerdict): AuditStatus => (v.status === "pass" && v.optOut !== undefined ? "skip" : v.status);

export function summarize(report: AuditReport): Summary {
  const count = (s: AuditStatus) => report.results.filter((r) => r.status === s).length;
  const policies = new Map<string, PolicyCounts>();
  let findings = 0;
  let rejectionsWithoutFindings = 0;
  for (const r of report.results)
    for (const v of r.verdicts) {
      let c = policies.get(v.policy);
      if (!c) policies.set(v.policy, (c = { pass: 0, fail: 0, error: 0, skip: 0, findings: 0 }));
      c[verdictResult(v)]++;
      c.findings += v.findings.length;
      findings += v.findings.length;
      if (v.status === "fail" && v.findings.length === 0) rejectionsWithoutFindings++;
    }
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  for (const s of report.skipped ?? []) skip(s.reason);
  for (const r of report.results) if (r.status === "skip") skip(r.skipReason ?? "not-selected");
  return {
    files: report.files.length,
    objects: report.results.length,
    pass: count("pass"),
    fail: count("fail"),
    error: count("error"),
    skip: count("skip"),
    optedOut: report.results.filter((r) => r.skipReason === "opt-out").length,
    findings,
    rejectionsWithoutFindings,
    policies: Object.fromEntries(policies),
    fixed: report.results.filter((r) => r.status === "fail" && r.fixed === true).length,
    warnings: report.results.reduce((n, r) => n + (r.rewriteWarnings ?? []).filter((w) => !describesRewrite(w)).length, 0),
    policyWarnings: report.results.reduce((n, r) => n + (r.policyWarnings?.length ?? 0), 0),
    badDocuments: report.errors.length,
    unreadable: (report.unreadable ?? []).length,
    skipped,
    nothingAudited: report.results.every((r) => r.status === "skip"),
  };
}

interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}
export const meta = (r: AuditResult): ObjectMeta => {
  const m = r.manifest.object.metadata;
  if (typeof m !== "object" || m === null || Array.isArray(m)) return {};
  const out: ObjectMeta = {};
  for (const key of ["name", "namespace", "uid", "resourceVersion"] as const) {
    const v: unknown = Object.hasOwn(m, key) ? (m as Record<string, unknown>)[key] : undefined;
    if (typeof v === "string" && v !== "") out[key] = v;
  }
  return out;
};
export const objectLabel = (r: AuditResult) => {
  const m = meta(r);
  return `${String(r.manifest.object.kind)}/${m.namespace ? `${m.namespace}/` : ""}${m.name ?? "?"}`;
};
export const location = (r: AuditResult) => `${r.manifest.file}:${r.manifest.line}`;

// ---------- where a finding is written ----------

/** JSON path of the probe a finding is about (`…/containers/1/livenessProbe`), or null. */
export function probePath(object: unknown, finding: Pick<FindingRecord, "container" | "probe">): JsonPath | null {
  const template = podTemplateOf(object);
  if (!template) return null;
  const hit = runningContainers(template.spec).find((c) => c.container.name === finding.container);
  return hit ? [...template.path, hit.list, hit.index, finding.probe] : null;
}

const isSpace = (c: string | undefined) => c === undefined || c === " " || c === "\t" || c === "\n" || c === '"' || c === "'";

/**
 * Does `word` (an args/command entry, maybe a whole `sh -c` script) pass `flag`
 * as a flag of its own: `--listen-address` in `--listen-address=…` but not in
 * `--cluster.listen-address=…`.
 */
export function mentionsFlag(word: string, flag: string): boolean {
  for (let at = word.indexOf(flag); at >= 0; at = word.indexOf(flag, at + 1)) {
    const after = word[at + flag.length];
    if (isSpace(word[at - 1]) && (after === "=" || isSpace(after))) return true;
  }
  return false;
}

/**
 * JSON paths of the settings that bind the probed port: the command/args word
 * that carries the flag, or the env entry. The probed container first, then
 * the pod's other containers (a sidecar may bind the port).
 */
export function bindPaths(object: unknown, finding: Pick<FindingRecord, "container" | "binds">): { bind: string; path: JsonPath }[] {
  const template = podTemplateOf(object);
  if (!template) return [];
  const containers = runningContainers(template.spec);
  containers.sort((a, b) => Number(b.container.name === finding.container) - Number(a.container.name === finding.container));
  const out: { bind: string; path: JsonPath }[] = [];
  for (const bind of finding.binds) {
    const eq = bind.indexOf("=");
    const setting = eq < 0 ? bind : bind.slice(0, eq);
    if (setting === "") continue;
    let found: JsonPath | null = null;
    for (const { list, index, container } of containers) {
      const base = [...template.path, list, index];
      if (!setting.startsWith("-")) {
        const env: unknown = container.env;
        const i = Array.isArray(env) ? env.findIndex((e: unknown) => typeof e === "object" && e !== null && (e as { name?: unknown }).name === setting) : -1;
        if (i >= 0) found = [...base, "env", i];
      } else {
        for (const field of ["args", "command"] as const) {
          const words: unknown = container[field];
          const i = Array.isArray(words) ? words.findIndex((w: unknown) => typeof w === "string" && mentionsFlag(w, setting)) : -1;
          if (i >= 0) {
            found = [...base, field, i];
            break;
          }
        }
      }
      if (found) break;
    }
    if (found) out.push({ bind, path: found });
  }
  return out;
}

export interface LocatedFinding {
  /** The policy that reported it. */
  policy: string;
  finding: FindingRecord;
  at: Position;
  binds: { bind: string; at: Position }[];
}

/** Every structured finding of the object, with the policy that reported it, where it is written. */
export function locateFindings(report: AuditReport, r: AuditResult): LocatedFinding[] {
  const first: Position = { line: r.manifest.line, column: 1 };
  const find = (path: JsonPath | null) => (path && report.source?.locate(r.manifest, path)) || null;
  return r.verdicts.flatMap((v) =>
    v.status !== "fail"
      ? []
      : v.findings.map((finding) => ({
          policy: v.policy,
          finding,
          at: find(probePath(r.manifest.object, finding)) ?? first,
          binds: bindPaths(r.manifest.object, finding).flatMap(({ bind, path }) => {
            const at = find(path);
            return at ? [{ bind, at }] : [];
          }),
        })),
  );
}
