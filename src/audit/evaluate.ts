/**
 * Evaluating manifests with the built policies exactly as Kubewarden's audit
 * scanner does: a synthesized CREATE request per object, uid from the object
 * (or generated), resource.resource = the Kind, no userInfo, no oldObject.
 */
import fastJsonPatch, { type Operation } from "fast-json-patch";
import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import type { FindingRecord } from "../analysis/reachability.js";
import type { AdmissionRequest, KubernetesObject } from "../kubewarden/protocol.js";
import type { EvaluationPool, PoolResult } from "../toolchain/evaluation-pool.js";
import { type EvaluationOptions, type LoadedPolicy, patchOf, type PolicyRun, validate } from "../toolchain/evaluate.js";
import type { HostCallHandler } from "../toolchain/host-calls.js";
import { FINDINGS_ANNOTATION, OPT_OUT_ANNOTATION } from "../../policies/shared/settings.js";
import { runningContainers } from "../analysis/probes.js";
import { podTemplateOf } from "../analysis/workload.js";
import { type JsonPath, type ManifestObject, TEMPLATE_VALUE } from "./read.js";
import { effectiveApiVersion, groupVersion, rulesMatch } from "./selection.js";

export { effectiveApiVersion, groupVersion, resourcePlural, rulesMatch } from "./selection.js";

/**
 * What happened to one object. `fail` is a finding (the PolicyReport word);
 * `error` means the object could not be judged (malformed, or the policy
 * failed); `skip` means it was not evaluated (see `skipReason`).
 */
export type AuditStatus = "pass" | "fail" | "error" | "skip";

export interface AuditResult {
  manifest: ManifestObject;
  status: AuditStatus;
  message?: string;
  findings: FindingRecord[];
  /** For `error`: a malformed object (the policy's 400 without findings) or a policy failure (500, trap). */
  errorKind?: "malformed" | "policy-error";
  /**
   * For `skip`: the policy's rules do not select the object, its opt-out annotation skips every
   * probe that had something to say, or the policy cannot judge it with its template values unknown.
   */
  skipReason?: "not-selected" | "opt-out" | "unrendered-template";
  /** How the object was evaluated when that differs from what it says (removed apiVersions, defaulted namespace). */
  notes?: string[];
  /** The rewrite policy's JSON Patch, when asked for and there is one. */
  patch?: Operation[];
  /** Every warning the rewrite policy gave for this object: what it could not fix, what the new handler needs. */
  rewriteWarnings?: string[];
  /** Whether the validating policies pass the object once `patch` is applied. */
  patchResolves?: boolean;
  /** Warnings of the validating policies (e.g. accepted with a warning), prefixed with the policy's name when several ran. */
  policyWarnings?: string[];
  /** `--fix` wrote this object's patch and the patched object passes: its findings are fixed. */
  fixed?: boolean;
  /**
   * What each validating policy whose rules select the object said, in the
   * audit's policy order: the reports credit every result to the policy that
   * produced it. Empty when no policy selects the object.
   */
  verdicts: PolicyVerdict[];
}

/** The request Kubewarden's audit scanner synthesizes for a live object. */
export function auditRequest(object: Record<string, unknown>): AdmissionRequest {
  const { group, version } = groupVersion(effectiveApiVersion(object));
  const kind = typeof object.kind === "string" ? object.kind : "";
  const meta = (typeof object.metadata === "object" && object.metadata !== null ? object.metadata : {}) as Record<string, unknown>;
  const request: AdmissionRequest = {
    uid: typeof meta.uid === "string" ? meta.uid : randomUUID(),
    kind: { group, version, kind },
    resource: { group, version, resource: kind },
    operation: "CREATE",
    object: object as KubernetesObject,
  };
  if (typeof meta.name === "string") request.name = meta.name;
  if (typeof meta.namespace === "string") request.namespace = meta.namespace;
  return request;
}

export function findingsOf(annotations: Record<string, string> | undefined): FindingRecord[] {
  const raw = annotations?.[FINDINGS_ANNOTATION];
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? (parsed as FindingRecord[]) : [];
  } catch {
    return [];
  }
}

/**
 * One settings file serves both policies: `strategy` belongs to the rewrite
 * policy only, whose schema is the validating one's plus that key.
 */
export function validatorSettings(settings: unknown): unknown {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) return settings;
  const { strategy: _strategy, ...common } = settings as Record<string, unknown>;
  return common;
}

/** One validating module of the audit, by name (its file name without .wasm = its policy folder). */
export interface AuditPolicy {
  name: string;
  policy: LoadedPolicy;
  /** The settings this policy gets (see policies.ts settingsFor). */
  settings: unknown;
  /** Answers its host calls (context-aware policies); default: every capability refused. */
  hostCall?: HostCallHandler;
}

export interface AuditOptions {
  /** Every validating policy that judges the objects its rules select. */
  validators: readonly AuditPolicy[];
  rewriter?: LoadedPolicy;
  /** Settings of the rewrite policy (--diff/--fix). */
  rewriterSettings?: unknown;
  /** Namespace for namespaced objects that name none (kubectl's default: "default"). */
  namespace?: string;
  onProgress?: (done: number, total: number) => void;
  /**
   * Run the modules on this pool's worker threads (instances reused, every core
   * busy) instead of a fresh node:wasi instance per run. Its modules are keyed by
   * policy name, the rewriter by REWRITER_KEY. Runs that need host calls stay on
   * this thread.
   */
  pool?: EvaluationPool;
  /**
   * Host calls are answered once this settles (the objects being audited answer
   * them: with a streamed read, they are all known only once reading ends). With
   * a pool, a run is tried before that with its host calls deferred, and waits
   * only if it calls the host (see poolRunner).
   */
  hostCallsReady?: Promise<unknown>;
}

/**
 * Evaluation threads to start while the objects are read (EvaluationPoolOptions.startThreads):
 * when the main thread reads (no reader threads, as on up to 2 cores: read-parallel.ts
 * defaultReaderThreads), one core is the reading's, the critical path, and the others
 * evaluate — one thread on 2 cores keeps up with the reading of ../shared/corpus (38 of
 * 4,506 objects left when it ended), and a second only took CPU from it (corpus −0.08 s
 * with one). Undefined: every thread from the start.
 */
export function evaluationThreadsWhileReading(readerThreads: number, cores = availableParallelism()): number | undefined {
  return readerThreads === 0 ? Math.max(1, cores - 1) : undefined;
}

/**
 * Objects still to judge when the reading ends for which the pool's other threads are
 * started (AuditQueue.readingEnded): the main thread is idle by then, and a thread's
 * start (~0.1 s) pays once its share of the backlog takes longer (the 5,000-object
 * fleet left 3,751, 0.37 s of work for one thread).
 */
export const BACKLOG_WORTH_MORE_THREADS = 500;

/** The rewrite module's key in an audit's evaluation pool. */
export const REWRITER_KEY = "rewrite";

/** How a module runs: on the pool when there is one (see AuditOptions.pool). */
function runWith(options: AuditOptions, key: string, world?: WorldGate): Pick<EvaluationOptions, "runner"> {
  return options.pool ? { runner: poolRunner(options.pool, key, world) } : {};
}

/**
 * Whether the objects that answer host calls are all known yet (AuditOptions.hostCallsReady),
 * as a flag read when a run starts, and the promise to wait on.
 */
interface WorldGate {
  complete: boolean;
  ready: Promise<unknown>;
}

/**
 * Runs of the module the pool holds as `key` (on its threads; with host calls, on this one), answered as a module run.
 *
 * With `world` still incomplete, a run that may call the host is first tried on
 * the pool with its host calls deferred: one that never calls the host (most of
 * a context-aware policy's runs: 25 of 30 on ../shared/corpus) is answered
 * there and then, as it would be after the reading, since nothing the host
 * knows can reach it; one stopped at its first call runs again here, with the
 * handler, once the world is complete. The audit's tail no longer holds every
 * context-aware run, one after another on this thread, behind the last file read.
 */
export function poolRunner(pool: EvaluationPool, key: string, world?: WorldGate): NonNullable<EvaluationOptions["runner"]> {
  return async (action, stdin, hostCall): Promise<PolicyRun> => {
    const job = { module: key, action, stdin };
    let r: PoolResult | undefined;
    if (hostCall && world && !world.complete) {
      const tried = await pool.run({ ...job, deferHostCalls: true });
      if (tried.deferred) await world.ready;
      else r = tried;
    }
    r ??= hostCall ? await pool.runLocal(job, { hostCall }) : await pool.run(job);
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, ...(r.trap === undefined ? {} : { trap: r.trap }), interrupted: r.timedOut === true, instantiateMs: 0, startMs: 0 };
  };
}

export async function auditObjects(objects: readonly ManifestObject[], options: AuditOptions): Promise<AuditResult[]> {
  return new AuditQueue(options).results(objects);
}

/**
 * Objects are evaluated as they are added (while reading goes on, say), with
 * every worker kept busy; `results` gives them in the order asked for. An
 * object added but not asked for (a file read again) is simply not reported.
 */
export class AuditQueue {
  private readonly started = new Map<ManifestObject, Promise<AuditResult>>();
  /** Objects not started yet from `next` on (started ones are cleared). */
  private readonly waiting: ({ manifest: ManifestObject; selecting: AuditPolicy[]; resolve: (r: AuditResult) => void; reject: (e: unknown) => void } | undefined)[] = [];
  private next = 0;
  private running = 0;
  private done = 0;
  /** Objects in evaluation at once: with a pool, enough to fill every worker's queue, and one more each. */
  private readonly lanes: number;
  private readonly world: WorldGate | undefined;

  constructor(private readonly options: AuditOptions) {
    this.lanes = options.pool ? options.pool.capacity + options.pool.threads : 1;
    if (options.hostCallsReady) {
      const world: WorldGate = { complete: false, ready: options.hostCallsReady };
      options.hostCallsReady.then(() => (world.complete = true), () => undefined);
      this.world = world;
    }
  }

  /** Objects added so far. */
  get size(): number {
    return this.started.size;
  }

  /** Objects added and not judged yet. */
  get pending(): number {
    return this.started.size - this.done;
  }

  /** Every object is added: a backlog worth it gets the pool's other threads (see BACKLOG_WORTH_MORE_THREADS). */
  readingEnded(): void {
    if (this.options.pool && this.pending > BACKLOG_WORTH_MORE_THREADS) this.options.pool.grow();
  }

  add(objects: readonly ManifestObject[]): void {
    for (const manifest of objects) {
      if (this.started.has(manifest)) continue;
      // Most of a repository's objects no policy selects (CRDs, ConfigMaps…): answered here, without a lane.
      const selecting = this.options.validators.filter((p) => rulesMatch(p.policy.metadata, manifest.object));
      if (selecting.length === 0) {
        this.started.set(manifest, Promise.resolve(notSelected(manifest)));
        this.done++;
        this.options.onProgress?.(this.done, this.started.size);
        continue;
      }
      const result = new Promise<AuditResult>((resolve, reject) => this.waiting.push({ manifest, selecting, resolve, reject }));
      result.catch(() => undefined); // reported by `results` when asked for
      this.started.set(manifest, result);
    }
    this.pump();
  }

  /** The results of these objects (added now if they were not), in this order. */
  results(objects: readonly ManifestObject[]): Promise<AuditResult[]> {
    this.add(objects);
    return Promise.all(objects.map((o) => this.started.get(o)!));
  }

  private pump(): void {
    while (this.running < this.lanes && this.next < this.waiting.length) {
      const job = this.waiting[this.next]!;
      this.waiting[this.next++] = undefined;
      this.running++;
      auditOne(job.manifest, job.selecting, this.options, this.world).then(job.resolve, job.reject).finally(() => {
        this.running--;
        this.done++; // (not inside the optional call: its arguments are not evaluated without a callback)
        this.options.onProgress?.(this.done, this.started.size);
        this.pump();
      });
    }
  }
}

/** The object as the cluster would hold it: namespaced objects always have a namespace there. */
function asInCluster(object: Record<string, unknown>, namespace: string, notes: string[]): Record<string, unknown> {
  const apiVersion = effectiveApiVersion(object);
  if (apiVersion !== object.apiVersion) notes.push(`apiVersion ${String(object.apiVersion)} was removed from Kubernetes: evaluated as ${apiVersion}`);
  const meta = typeof object.metadata === "object" && object.metadata !== null && !Array.isArray(object.metadata) ? (object.metadata as Record<string, unknown>) : {};
  if (typeof meta.namespace === "string" && meta.namespace !== "") return object;
  notes.push(`no namespace: evaluated in namespace "${namespace}"`);
  return { ...object, metadata: { ...meta, namespace } };
}

/** One validating policy's verdict on one object. */
export interface PolicyVerdict {
  /** The policy's name in the audit (its module's file name, e.g. "reject-loopback-probes"). */
  policy: string;
  status: AuditStatus;
  errorKind?: AuditResult["errorKind"];
  message?: string;
  findings: FindingRecord[];
  warnings: string[];
  /** What the object's opt-out annotation skipped (reject-loopback-probes' audit annotation). */
  optOut?: string;
  /** Set with status "skip" (only templates make a verdict skip). */
  skip?: "unrendered-template";
}

/** The opt-out description a policy returned, if any. */
function optOutOf(annotations: Record<string, string> | null | undefined): string | undefined {
  const raw = annotations?.[OPT_OUT_ANNOTATION];
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === "object" && parsed !== null && typeof (parsed as { message?: unknown }).message === "string" ? (parsed as { message: string }).message : undefined;
  } catch {
    return undefined;
  }
}

const RANK: Record<AuditStatus, number> = { skip: 0, pass: 1, fail: 2, error: 3 };

/** Paths of the strings in `object` that hold a template value (read.ts TEMPLATE_VALUE); a bounded walk. */
export function templatePaths(object: unknown): JsonPath[] {
  // Almost no object holds one: look without building a path per value first.
  if (!holdsTemplateValue(object)) return [];
  const out: JsonPath[] = [];
  const stack: [unknown, JsonPath][] = [[object, []]];
  for (let visited = 0; stack.length > 0 && visited < 1_000_000; visited++) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes(TEMPLATE_VALUE)) out.push(path);
    } else if (Array.isArray(v)) v.forEach((item, i) => stack.push([item, [...path, i]]));
    else if (typeof v === "object" && v !== null) for (const key of Object.keys(v)) stack.push([(v as Record<string, unknown>)[key], [...path, key]]);
  }
  return out;
}

/** Whether some string in `object` holds a template value (templatePaths' walk, without the paths). */
function holdsTemplateValue(object: unknown): boolean {
  const stack: unknown[] = [object];
  for (let visited = 0; stack.length > 0 && visited < 1_000_000; visited++) {
    const v = stack.pop();
    if (typeof v === "string") {
      if (v.includes(TEMPLATE_VALUE)) return true;
    } else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (typeof v === "object" && v !== null) for (const key of Object.keys(v)) stack.push((v as Record<string, unknown>)[key]);
  }
  return false;
}

const startsWith = (path: JsonPath, prefix: JsonPath) => prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);

/**
 * Why a finding rests on a template value, or null. Templates in command, args
 * and env reach the analysis as unknown text (never a finding); the probe's own
 * fields, its container's name and ports, and the pod's hostNetwork have no
 * unknown spelling the analysis reads, so a finding that depends on them is not one.
 */
export function templateDependency(object: unknown, finding: Pick<FindingRecord, "container" | "probe" | "reason" | "port">, templated: readonly JsonPath[]): string | null {
  if (finding.container.includes(TEMPLATE_VALUE)) return "its container's name is a template value";
  const template = podTemplateOf(object);
  if (!template) return null;
  const hit = runningContainers(template.spec).find((c) => c.container.name === finding.container);
  if (hit) {
    const container = [...template.path, hit.list, hit.index];
    if (templated.some((p) => startsWith(p, [...container, finding.probe]))) return `its ${finding.probe} holds a template value`;
    // Container ports matter only to a probe that names its port.
    if (typeof finding.port === "string" && templated.some((p) => startsWith(p, [...container, "ports"]))) return "its container's ports hold template values";
  }
  if (finding.reason === "loopback-host-without-host-network" && templated.some((p) => startsWith(p, [...template.path, "hostNetwork"]))) return "hostNetwork is a template value";
  return null;
}

/**
 * The object the policies judge when it holds template values: fields whose
 * template has no unknown spelling the analysis reads are taken out — a probe
 * holding one (not judged, and said so), a port entry holding one, a templated
 * hostNetwork (no finding needs it to be true) — so one template does not make
 * the whole object malformed. Strings elsewhere keep TEMPLATE_VALUE, which the
 * analysis reads as unknown.
 */
export function judgeableObject(object: Record<string, unknown>, templated: readonly JsonPath[], notes: string[]): Record<string, unknown> {
  const template = podTemplateOf(object);
  if (!template) return object;
  const copy = structuredClone(object);
  const spec = template.path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], copy) as Record<string, unknown>;
  if (templated.some((p) => startsWith(p, [...template.path, "hostNetwork"]))) delete spec.hostNetwork;
  for (const { list, index, container } of runningContainers(template.spec)) {
    const base = [...template.path, list, index];
    const target = (spec[list] as Record<string, unknown>[])[index]!;
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"])
      if (templated.some((p) => startsWith(p, [...base, probe]))) {
        delete target[probe];
        notes.push(`not judged: container "${String(container.name)}" ${probe}: it holds a template value`);
      }
    const ports = target.ports;
    if (Array.isArray(ports)) target.ports = ports.filter((_, j) => !templated.some((p) => startsWith(p, [...base, "ports", j])));
  }
  return copy;
}

/**
 * An object with unrendered template values (read.ts markTemplateValues) is
 * judged with them unknown: findings that rest on a template are dropped and
 * said so, a policy that cannot judge the object with them (a number or a
 * boolean that is a template: "malformed") makes it skipped, never an error.
 */
function judgeTemplates(object: Record<string, unknown>, templated: readonly JsonPath[], verdicts: PolicyVerdict[], notes: string[]): boolean {
  if (templated.length === 0) return false;
  for (const v of verdicts) {
    if (v.status === "error" && v.errorKind === "malformed") {
      v.status = "skip";
      v.message = `cannot be judged with its template values unknown (${v.message ?? "malformed"}): render it first (helm template …)`;
      delete v.errorKind;
      v.skip = "unrendered-template";
      continue;
    }
    if (v.status !== "fail" || v.findings.length === 0) continue;
    const kept = v.findings.filter((f) => {
      const why = templateDependency(object, f, templated);
      if (why) notes.push(`not judged: container "${f.container}" ${f.probe} port ${String(f.port)}: ${why}`);
      return why === null;
    });
    if (kept.length === v.findings.length) continue;
    v.findings = kept;
    if (kept.length === 0) {
      v.status = "pass";
      delete v.message;
    } else v.message = `${kept.length === 1 ? "1 probe" : `${kept.length} probes`} can never succeed (those resting on template values not judged):\n${kept.map((f) => `- ${f.message}`).join("\n")}`;
  }
  return true;
}

async function judge(p: AuditPolicy, request: AdmissionRequest, options: AuditOptions, world: WorldGate | undefined): Promise<PolicyVerdict> {
  // Without a pool there is nowhere to try a run before the world is complete (see poolRunner).
  if (p.hostCall && world && !options.pool) await world.ready;
  const response = await validate(p.policy, request, p.settings, { ...(p.hostCall ? { hostCall: p.hostCall } : {}), ...runWith(options, p.name, world) });
  const warnings = response.warnings ?? [];
  const optOut = optOutOf(response.auditAnnotations);
  if (response.allowed) return { policy: p.name, status: "pass", findings: [], warnings, ...(optOut ? { optOut } : {}) };
  const message = response.status?.message ?? "";
  if (response.status?.code === 500) return { policy: p.name, status: "error", errorKind: "policy-error", message, findings: [], warnings };
  // 400: the policy refuses to judge a malformed object (it never does that for a finding).
  if (response.status?.code === 400) return { policy: p.name, status: "error", errorKind: "malformed", message, findings: [], warnings };
  return { policy: p.name, status: "fail", message, findings: findingsOf(response.auditAnnotations), warnings, ...(optOut ? { optOut } : {}) };
}

/** The result of an object no policy selects. */
function notSelected(manifest: ManifestObject): AuditResult {
  return { manifest, status: "skip", skipReason: "not-selected", findings: [], verdicts: [] };
}

/** One object that `selecting` (its rules match it, at least one) judge. */
async function auditOne(manifest: ManifestObject, selecting: readonly AuditPolicy[], options: AuditOptions, world: WorldGate | undefined): Promise<AuditResult> {
  const notes: string[] = [];
  const object = asInCluster(manifest.object, options.namespace ?? "default", notes);
  const templatedPaths = templatePaths(object);
  if (templatedPaths.length > 0)
    notes.push(`${templatedPaths.length === 1 ? "1 value is an unrendered template" : `${templatedPaths.length} values are unrendered templates`} ({{ … }}): judged as unknown, never a finding`);
  const request = auditRequest(templatedPaths.length > 0 ? judgeableObject(object, templatedPaths, notes) : object);
  const verdicts: PolicyVerdict[] = [];
  for (const p of selecting) verdicts.push(await judge(p, request, options, world));
  const templated = judgeTemplates(object, templatedPaths, verdicts, notes);
  // The worst verdict decides; every policy that objected is heard, named when several spoke.
  const worst = verdicts.reduce((a, b) => (RANK[b.status] > RANK[a.status] ? b : a));
  const spoke = verdicts.filter((v) => v.status !== "pass");
  const several = options.validators.length > 1;
  const label = (v: PolicyVerdict) => (several ? `${v.policy}: ${v.message ?? ""}` : (v.message ?? ""));
  const policyWarnings = verdicts.flatMap((v) => v.warnings.map((w) => (several ? `${v.policy}: ${w}` : w)));
  const result: AuditResult = {
    manifest,
    status: worst.status,
    findings: verdicts.flatMap((v) => (v.status === "fail" ? v.findings : [])),
    ...(notes.length > 0 ? { notes } : {}),
    ...(spoke.length > 0 ? { message: spoke.map(label).join("\n") } : {}),
    ...(worst.errorKind ? { errorKind: worst.errorKind } : {}),
    ...(worst.skip ? { skipReason: worst.skip } : {}),
    ...(policyWarnings.length > 0 ? { policyWarnings } : {}),
    verdicts,
  };
  // An opt-out is reported: as the reason an otherwise clean object was skipped, else as a note.
  const optOuts = verdicts.flatMap((v) => (v.optOut ? [v.optOut] : []));
  if (optOuts.length > 0) {
    if (result.status === "pass") {
      result.status = "skip";
      result.skipReason = "opt-out";
      result.message = optOuts.join("\n");
    } else result.notes = [...(result.notes ?? []), ...optOuts];
  }
  const probeFindings = verdicts.some((v) => v.status === "fail" && v.findings.length > 0);
  // A template's file is not the YAML the cluster gets: --diff/--fix rewrite rendered manifests only.
  if (probeFindings && options.rewriter && templated) result.notes = [...(result.notes ?? []), "not rewritten: the object holds unrendered templates (fix the chart, or render it and audit the output)"];
  else if (probeFindings && options.rewriter && rulesMatch(options.rewriter.metadata, object)) {
    const rewrite = await validate(options.rewriter, request, options.rewriterSettings ?? {}, runWith(options, REWRITER_KEY));
    if (rewrite.warnings && rewrite.warnings.length > 0) result.rewriteWarnings = rewrite.warnings;
    const patch = patchOf(rewrite);
    if (patch.length > 0) {
      result.patch = patch;
      const patched = fastJsonPatch.applyPatch(structuredClone(object), patch, false, false).newDocument as Record<string, unknown>;
      const again = await Promise.all(selecting.map((p) => judge(p, auditRequest(patched), options, world)));
      result.patchResolves = again.every((v) => v.status === "pass");
    } else result.patchResolves = false;
  }
  return result;
}

/**
 * The audit's exit code, the first that applies: 2 when the audit is incomplete
 * (a path that cannot be read, a document or object that could not be judged),
 * even if there are findings too — a clean-looking 1 must not hide unchecked
 * objects; 1 for findings (after --fix: findings it did not fix); else 0.
 * Skipped documents never change the exit code.
 */
export function auditExitCode(counts: { unreadable: number; errors: number; findings: number }): 0 | 1 | 2 {
  if (counts.unreadable > 0 || counts.errors > 0) return 2;
  return counts.findings > 0 ? 1 : 0;
}
