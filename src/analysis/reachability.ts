/**
 * The verdict: which probes can never reach what they probe.
 *
 * The kubelet dials `host` when a probe sets it, else the pod IP (the node IP
 * under hostNetwork); grpc always dials the pod IP. Containers in a pod share one
 * network namespace, so a port counts as loopback-only when every known bind of
 * it, in any running container, is a loopback address. Unknown binds (unexpanded
 * variables, hostnames) are never findings: no false positives from guessing.
 */
import type { PodSpec } from "kubernetes-types/core/v1";
import { classifyHost } from "./host.js";
import { containerBudget, newWorkPool, returnToPool, type ExpansionBudget } from "./env-expansion.js";
import { containerBinds, type Listener, type ListenerSpecs } from "./listeners.js";
import { containerMayNameLoopback } from "./loopback-text.js";
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS } from "./listen-specs.js";
import { probeTargets, runningContainers, type ProbeTarget } from "./probes.js";
import { isSkipped, optOutOf, type OptOut } from "./opt-out.js";
import { knativeRenderedSpec } from "./knative.js";
import { podSpecShapeProblems } from "./shape.js";
import { isRecord, podTemplateOf, type PodTemplate, type WorkloadRef } from "./workload.js";

export type FindingReason =
  /** The port is bound only on loopback and the kubelet dials the pod (or node) IP. */
  | "loopback-only-listener"
  /** The probe sets a loopback `host` but the pod is not on the host network: the kubelet dials the node's loopback. */
  | "loopback-host-without-host-network"
  /** A named port that none of the container's ports declares. */
  | "unresolvable-port-name";

export interface Finding {
  workload: WorkloadRef;
  target: ProbeTarget;
  reason: FindingReason;
  /**
   * Loopback binds of the probed port, for messages and the rewrite: the probed
   * container's own bind first when it has one, at most MAX_LISTED_BINDS
   * (`bindCount` is the total). Empty for the other reasons.
   */
  listeners: Listener[];
  /** How many binds the port has in the pod (listeners may list fewer). */
  bindCount?: number;
  /** One line for humans: what is wrong. */
  message: string;
  /** One line for humans: how to fix it. */
  fix: string;
  /** Advice for the object's owner, e.g. upgrading the operator that renders it. */
  advice?: string;
}

export interface AnalysisOptions extends ListenerSpecs {
  /** Only probes of these containers are checked (`*` wildcards); empty = all. */
  includeContainers: readonly string[];
  /** Probes of these containers are never checked (`*` wildcards). */
  excludeContainers: readonly string[];
  /**
   * The caller has established that the fields podSpecShapeProblems reads have
   * the types it accepts (a native pre-check whose rules held does: see
   * clean-object.ts), so the check would find nothing and is skipped.
   */
  typesVerified?: boolean;
}

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = {
  flags: DEFAULT_LISTEN_FLAGS,
  envVars: DEFAULT_LISTEN_ENV_VARS,
  includeContainers: [],
  excludeContainers: [],
};

/** Binds listed in one finding's message and record. */
export const MAX_LISTED_BINDS = 3;
/** Probes listed one per line in a rejection message. */
export const MAX_LISTED_PROBES = 20;
/** Records in the reject policy's `findings` audit annotation. */
export const MAX_FINDING_RECORDS = 100;
/**
 * Containers (and, separately, init containers) of one pod spec the analysis
 * checks. Its cost is linear but about 0.5M wasm instructions per container in
 * QuickJS; a 3 MiB request can hold 30,000 tiny containers, which would outlast
 * policy-server's 2 s deadline. No real pod comes near this (each container is a
 * process tree with its own resources); beyond it the object is not checked and
 * the answer says so. The native pre-check counts the same lists (clean-object.ts).
 */
export const MAX_CHECKED_CONTAINERS = 1000;
/** Characters of one name, value or address quoted in a message. */
export const MAX_QUOTED = 120;

/** Shorten input-controlled text quoted in a message. */
export function clip(text: string, max = MAX_QUOTED): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} characters)`;
}

/**
 * `*` matches any run of characters; nothing else is special. The pattern's
 * literal pieces are matched left to right, each at its earliest position
 * (for `*`-only globs the earliest match is always safe), so there is no
 * backtracking: time is linear in the name for a given pattern.
 */
export function matchesName(pattern: string, name: string): boolean {
  if (pattern.indexOf("*") < 0) return pattern === name;
  const pieces = pattern.split("*");
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (name.length < first.length + last.length) return false;
  if (!name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    if (piece.length === 0) continue;
    const found = name.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

function inScope(container: string, options: AnalysisOptions): boolean {
  const exclude = options.excludeContainers;
  for (let i = 0; i < exclude.length; i++) if (matchesName(exclude[i]!, container)) return false;
  const include = options.includeContainers;
  if (include.length === 0) return true;
  for (let i = 0; i < include.length; i++) if (matchesName(include[i]!, container)) return true;
  return false;
}

/** Every known bind of one port in a pod, summarised once so each probe is judged in constant time. */
export interface PortBinds {
  listeners: Listener[];
  /** True when every bind is a loopback address. */
  loopbackOnly: boolean;
  /** True when some loopback bind is made on every path (Listener.certain): a finding needs one. */
  certainLoopback: boolean;
  /** Each container's first bind of the port. */
  byContainer: Map<string, Listener>;
  /** The binds without repeats of one value (a URL list naming the port 4,000 times is listed once). */
  distinct: Listener[];
}

/** All known binds in the pod, by port, and the containers whose binds a work bound left unknown. */
export interface PodBinds {
  byPort: Map<number, PortBinds>;
  /** One line per container whose binds are unknown (ContainerBinds.unread): warnings, never findings. */
  unread: string[];
}

/** All known binds in the pod, by port, built in one pass. */
export function podBindsByPort(spec: PodSpec, specs: ListenerSpecs, budget?: ExpansionBudget): Map<number, PortBinds> {
  return podBinds(spec, specs, budget).byPort;
}

/**
 * Each container is read within its own work budget (env-expansion.ts, containerBudget):
 * its allowance by its own text, plus a share of the pod's pool, so one container's cost
 * never takes another's allowance; `budget` shares one budget across the pod instead (tests).
 */
export function podBinds(spec: PodSpec, specs: ListenerSpecs, budget?: ExpansionBudget): PodBinds {
  const byPort = new Map<number, PortBinds>();
  const unread: string[] = [];
  const unreadContainers: { name: string; reason: string; container: PodSpec["containers"][number] }[] = [];
  let anyLoopback = false;
  const running = runningContainers(spec);
  const pool = newWorkPool();
  const perContainer: Listener[][] = [];
  let anyEvidence = false;
  for (let r = 0; r < running.length; r++) {
    const container = running[r]!.container;
    let read;
    if (budget === undefined) {
      const own = containerBudget(container, pool);
      read = containerBinds(container, specs, own);
      returnToPool(own, pool);
    } else read = containerBinds(container, specs, budget);
    if (read.unread !== undefined) {
      const name = container.name;
      unreadContainers.push({ name: typeof name === "string" ? name : "", reason: read.unread, container });
    }
    perContainer.push(read.listeners);
    if (!anyEvidence) for (let i = 0; i < read.listeners.length && !anyEvidence; i++) anyEvidence = read.listeners[i]!.evidence !== undefined;
  }
  const keep = anyEvidence ? evidenceFilter(running, perContainer) : null;
  for (let r = 0; r < perContainer.length; r++) {
    const listeners = perContainer[r]!;
    for (let i = 0; i < listeners.length; i++) {
      const l = listeners[i]!;
      if (l.port === null) continue;
      if (keep !== null && l.evidence !== undefined && !keep(r, l)) continue;
      let binds = byPort.get(l.port);
      if (!binds) byPort.set(l.port, (binds = { listeners: [], loopbackOnly: true, certainLoopback: false, byContainer: new Map(), distinct: [] }));
      binds.listeners.push(l);
      const previous = binds.distinct[binds.distinct.length - 1];
      if (previous === undefined || !sameValue(previous, l)) binds.distinct.push(l);
      if (l.hostClass !== "loopback") binds.loopbackOnly = false;
      else {
        anyLoopback = true;
        if (l.certain) binds.certainLoopback = true;
      }
      if (!binds.byContainer.has(l.container)) binds.byContainer.set(l.container, l);
    }
  }
  // A container left unread matters to a verdict only if its own text could name a
  // loopback address or some other bind in the pod is loopback (its unknown binds could
  // have cleared that one). Otherwise nothing it binds can be loopback and no probe's
  // verdict depends on it: no warning, which is also what the native pre-check, which
  // never reads a container, answers for such a pod.
  let unlisted = 0;
  for (const u of unreadContainers) {
    if (!anyLoopback && !containerMayNameLoopback(u.container)) continue;
    // One line per container, at most MAX_LISTED_PROBES of them: the answer stays bounded.
    if (unread.length < MAX_LISTED_PROBES) unread.push(`container "${clip(u.name)}": binds not read (${u.reason}); its probes and ports are judged without them`);
    else unlisted++;
  }
  if (unlisted > 0) unread.push(`… and ${unlisted} more container${unlisted === 1 ? "" : "s"} whose binds were not read`);
  return { byPort, unread };
}

/**
 * The evidence rule for binds read from flags clients spell too (Listener.evidence):
 * a sidecar whose `-addr=localhost:3100` names the server in the next container is
 * a client of it. Such a bind is dropped when another running container declares
 * the port (`ports[].containerPort`) or binds it by a plain bind; a program we do
 * not know must moreover declare the port in its own container. Linear: one pass
 * to index declarations and plain binds by port.
 */
function evidenceFilter(running: ReturnType<typeof runningContainers>, perContainer: readonly Listener[][]): (container: number, l: Listener) => boolean {
  // For each port, the containers that declare or plainly bind it (as a small list: usually one).
  const declared = new Map<number, number[]>();
  const bound = new Map<number, number[]>();
  const note = (map: Map<number, number[]>, port: number, container: number) => {
    const list = map.get(port);
    if (!list) map.set(port, [container]);
    else if (list[list.length - 1] !== container && list.length < 4) list.push(container);
  };
  for (let r = 0; r < running.length; r++) {
    const ports: unknown = running[r]!.container.ports;
    if (Array.isArray(ports))
      for (let i = 0; i < ports.length; i++) {
        const p: unknown = ports[i];
        if (isRecord(p) && typeof p.containerPort === "number") note(declared, p.containerPort, r);
      }
    const listeners = perContainer[r]!;
    for (let i = 0; i < listeners.length; i++) {
      const l = listeners[i]!;
      if (l.port !== null && l.evidence === undefined) note(bound, l.port, r);
    }
  }
  const byOther = (map: Map<number, number[]>, port: number, container: number) => {
    const list = map.get(port);
    if (!list) return false;
    for (let i = 0; i < list.length; i++) if (list[i] !== container) return true;
    return list.length >= 4; // capped: assume another
  };
  return (container, l) => {
    const port = l.port!;
    if (byOther(declared, port, container) || byOther(bound, port, container)) return false;
    if (l.evidence === "needs-declared-port") return declared.get(port)?.includes(container) === true;
    return true;
  };
}

/** All known binds in the pod, by port. */
export function podListenersByPort(spec: PodSpec, specs: ListenerSpecs): Map<number, Listener[]> {
  const out = new Map<number, Listener[]>();
  for (const [port, binds] of podBindsByPort(spec, specs)) out.set(port, binds.listeners);
  return out;
}

export function describeTarget(t: ProbeTarget): string {
  const portSpec = typeof t.portSpec === "string" ? clip(t.portSpec) : t.portSpec;
  const where = t.host ? `${clip(t.host)}:${portSpec}` : `port ${portSpec}`;
  const port = typeof t.portSpec === "string" && t.port !== null ? ` (${t.port})` : "";
  return `container "${clip(t.container)}" ${t.probeKind} ${t.handler} ${where}${port}`;
}

export function describeWorkload(w: WorkloadRef): string {
  return `${clip(w.kind)} ${w.namespace ? `${clip(w.namespace)}/` : ""}${clip(w.name)}`;
}

/** `--flag=value` as written, the value shortened; a program's default as such. */
export function describeBind(l: Listener): string {
  if (l.source === "default") return `${clip(l.setting)} defaults to ${clip(l.value)}`;
  if (l.source === "positional") return `${clip(l.setting)} ${clip(l.value)}`;
  return `${clip(l.setting)}=${clip(l.value)}`;
}

function describeBinds(listed: readonly Listener[], total: number, probed: string): string {
  const parts: string[] = [];
  for (let i = 0; i < listed.length; i++) {
    const l = listed[i]!;
    parts.push(l.container === probed ? describeBind(l) : `${describeBind(l)} in container "${clip(l.container)}"`);
  }
  const more = total - listed.length;
  return more > 0 ? `${parts.join(", ")} and ${more} more` : parts.join(", ");
}

/** Read from the same value of the same container (one URL list). */
function sameValue(a: Listener, b: Listener): boolean {
  return a.origin !== undefined && a.origin === b.origin && a.container === b.container;
}

/** The probed container's own bind first, then others, at most MAX_LISTED_BINDS. */
function listedBinds(binds: PortBinds, container: string): Listener[] {
  const own = binds.byContainer.get(container);
  const out: Listener[] = own ? [own] : [];
  for (let i = 0; i < binds.distinct.length && out.length < MAX_LISTED_BINDS; i++) {
    const l = binds.distinct[i]!;
    if (l !== own && (own === undefined || !sameValue(own, l))) out.push(l);
  }
  return out;
}

const FIX_HINT: Record<ProbeTarget["handler"], string> = {
  httpGet: "probe from inside the pod with an exec probe (curl/wget to the loopback address; rewrite-loopback-probes does this) or bind a non-loopback address",
  tcpSocket: "probe from inside the pod with an exec probe (nc -z to the loopback address; rewrite-loopback-probes does this) or bind a non-loopback address",
  grpc: "a grpc probe always dials the pod IP: bind a non-loopback address, or replace the probe with an exec probe using grpc_health_probe against the loopback address",
};

/**
 * Findings for one probe target given the pod's binds, which it asks for only when
 * the probe dials a resolved port on the pod (or node) IP. Constant time per probe.
 */
export function judgeTarget(target: ProbeTarget, spec: PodSpec, podBinds: () => ReadonlyMap<number, PortBinds>, workload: WorkloadRef): Finding | null {
  if (target.port === null) {
    const name = clip(String(target.portSpec));
    return {
      workload,
      target,
      reason: "unresolvable-port-name",
      listeners: [],
      message: `${describeTarget(target)}: no port named "${name}" in the container, so the probe can never connect`,
      fix: `declare a containerPort named "${name}" or use the port number`,
    };
  }
  const hostNetwork = spec.hostNetwork === true;
  if (target.host !== undefined && target.handler !== "grpc") {
    const hostClass = classifyHost(target.host);
    if (hostClass !== "loopback" || hostNetwork) return null; // an explicit non-loopback host is out of our sight; loopback + hostNetwork is the node's own
    return {
      workload,
      target,
      reason: "loopback-host-without-host-network",
      listeners: [],
      message: `${describeTarget(target)}: host ${clip(target.host)} is the node's loopback (the kubelet runs on the node), not the pod's`,
      fix: `${FIX_HINT[target.handler]}; remove "host" to probe the pod IP`,
    };
  }
  const binds = podBinds().get(target.port);
  // Every bind of the port is loopback, and one of them is made on every path the
  // container can take: a bind only an undecidable path makes is not a finding.
  if (!binds || !binds.loopbackOnly || !binds.certainLoopback) return null;
  const listed = listedBinds(binds, target.container);
  const dialed = hostNetwork ? "the node IP (hostNetwork)" : "the pod IP";
  return {
    workload,
    target,
    reason: "loopback-only-listener",
    listeners: listed,
    bindCount: binds.listeners.length,
    message: `${describeTarget(target)}: bound only on loopback (${describeBinds(listed, binds.listeners.length, target.container)}), the kubelet dials ${dialed}`,
    fix: FIX_HINT[target.handler],
  };
}

const PROMETHEUS_OPERATOR_KINDS = new Set(["Prometheus", "PrometheusAgent", "Alertmanager", "ThanosRuler"]);
export const PROMETHEUS_OPERATOR_ADVICE =
  "upgrade prometheus-operator to v0.75.0 or later (it gives the config-reloader exec probes under listenLocal), or leave --enable-config-reloader-probes off";

function labelValue(meta: unknown, key: string): unknown {
  if (!isRecord(meta) || !isRecord(meta.labels)) return undefined;
  return Object.hasOwn(meta.labels, key) ? meta.labels[key] : undefined;
}

/**
 * Objects prometheus-operator renders: owned by one of its custom resources, or
 * labelled `app.kubernetes.io/managed-by: prometheus-operator` (on the object or
 * its pod template). Their owners fix them by upgrading the operator, not by
 * editing the StatefulSet, which the operator would overwrite.
 */
export function renderedByPrometheusOperator(object: unknown): boolean {
  if (!isRecord(object) || !isRecord(object.metadata)) return false;
  const meta = object.metadata;
  if (labelValue(meta, "app.kubernetes.io/managed-by") === "prometheus-operator") return true;
  const spec = isRecord(object.spec) ? object.spec : undefined;
  if (spec && isRecord(spec.template) && labelValue(spec.template.metadata, "app.kubernetes.io/managed-by") === "prometheus-operator") return true;
  const owners = meta.ownerReferences;
  if (!Array.isArray(owners)) return false;
  for (let i = 0; i < owners.length && i < 64; i++) {
    const o: unknown = owners[i];
    if (!isRecord(o) || typeof o.apiVersion !== "string" || typeof o.kind !== "string") continue;
    if (o.apiVersion.startsWith("monitoring.coreos.com/") && PROMETHEUS_OPERATOR_KINDS.has(o.kind)) return true;
  }
  return false;
}

/** Every probe of the object's pod template that can never succeed. Non-workloads have none. */
export function findUnreachableProbes(object: unknown, options: AnalysisOptions = DEFAULT_ANALYSIS_OPTIONS): Finding[] {
  const template = podTemplateOf(object);
  return template ? templateFindings(template, options, adviceFor(object)) : [];
}

function adviceFor(object: unknown): string | undefined {
  return renderedByPrometheusOperator(object) ? PROMETHEUS_OPERATOR_ADVICE : undefined;
}

export interface WorkloadCheck {
  /** null for objects without a pod template (other kinds): nothing to check. */
  workload: WorkloadRef | null;
  findings: Finding[];
  /** Type errors in the fields the analysis reads; when present, findings are not computed. */
  malformed: string[];
  /** The object's opt-out annotation (see opt-out.ts), or null. */
  optOut: OptOut | null;
  /** Findings in containers the opt-out skips: not in `findings`, kept so reports can say "skipped, and why". */
  skipped: Finding[];
  /** Why the object was not checked at all (over MAX_CHECKED_CONTAINERS); findings are then empty. */
  notChecked?: string;
  /** What was judged without some input (a container whose binds a work bound left unknown): warnings for the answer. */
  warnings: string[];
}

/** Why a pod spec has too many containers to check, or null. */
function overContainerLimit(spec: PodSpec): string | null {
  const lists = ["containers", "initContainers"] as const;
  for (let i = 0; i < lists.length; i++) {
    const list: unknown = spec[lists[i]!];
    if (Array.isArray(list) && list.length > MAX_CHECKED_CONTAINERS)
      return `${list.length} ${lists[i]}, more than the ${MAX_CHECKED_CONTAINERS} this policy checks in one pod`;
  }
  return null;
}

/** What a policy needs to decide: findings, or why the object cannot be checked. */
export function checkWorkload(object: unknown, options: AnalysisOptions = DEFAULT_ANALYSIS_OPTIONS): WorkloadCheck {
  const template = podTemplateOf(object);
  if (!template) return { workload: null, findings: [], malformed: [], optOut: null, skipped: [], warnings: [] };
  const optOut = optOutOf(object, template);
  const tooMany = overContainerLimit(template.spec);
  if (tooMany !== null) return { workload: template.workload, findings: [], malformed: [], optOut, skipped: [], notChecked: tooMany, warnings: [] };
  const malformed = options.typesVerified === true ? [] : podSpecShapeProblems(template);
  if (malformed.length > 0) return { workload: template.workload, findings: [], malformed, optOut, skipped: [], warnings: [] };
  const warnings: string[] = [];
  const all = templateFindings(template, options, adviceFor(object), warnings);
  if (optOut === null) return { workload: template.workload, findings: all, malformed, optOut, skipped: [], warnings };
  const findings: Finding[] = [];
  const skipped: Finding[] = [];
  for (let i = 0; i < all.length; i++) (isSkipped(optOut, all[i]!.target.container) ? skipped : findings).push(all[i]!);
  return { workload: template.workload, findings, malformed, optOut, skipped, warnings };
}

/** The findings of a pod template; lines about binds left unknown go to `warnings`. */
function templateFindings(template: PodTemplate, options: AnalysisOptions, advice: string | undefined, warnings: string[] = []): Finding[] {
  const findings: Finding[] = [];
  // The pod as the cluster runs it: Knative renders its own (names, ports, probes: knative.ts).
  const spec = template.controller === "knative-serving" ? knativeRenderedSpec(template.spec) : template.spec;
  const targets = probeTargets(spec, template.kubeletProbes);
  // The binds are read only once a probe needs them: a pod without network probes
  // (jobs, workers, exec probes) costs no command-line reading at all. The native
  // pre-check relies on this (a loopback address in such a pod's commands changes
  // nothing), see clean-object.ts.
  let byPort: ReadonlyMap<number, PortBinds> | null = null;
  const podBindsOnce = () => {
    if (byPort === null) {
      const read = podBinds(spec, options);
      byPort = read.byPort;
      for (let i = 0; i < read.unread.length; i++) warnings.push(`${describeWorkload(template.workload)}: ${read.unread[i]!}`);
    }
    return byPort;
  };
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!;
    if (!inScope(target.container, options)) continue;
    const f = judgeTarget(target, spec, podBindsOnce, template.workload);
    if (f) {
      if (advice !== undefined && f.reason !== "unresolvable-port-name") f.advice = advice;
      findings.push(f);
    }
  }
  return findings;
}

/**
 * One message for a rejection: a head line, one short line per probe (at most
 * MAX_LISTED_PROBES, then how many more), each distinct fix once, and the
 * owner's advice once.
 */
export function summarizeFindings(findings: readonly Finding[]): string {
  const n = findings.length;
  const lines = [`${describeWorkload(findings[0]!.workload)}: ${n} probe${n === 1 ? "" : "s"} can never succeed:`];
  const listed = Math.min(n, MAX_LISTED_PROBES);
  for (let i = 0; i < listed; i++) lines.push(`- ${findings[i]!.message}`);
  if (n > listed) lines.push(`- … and ${n - listed} more probe${n - listed === 1 ? "" : "s"}`);
  const fixes = new Set<string>();
  const advice = new Set<string>();
  for (let i = 0; i < n; i++) {
    const f = findings[i]!;
    if (fixes.size < 5) fixes.add(f.fix);
    if (f.advice !== undefined) advice.add(f.advice);
  }
  for (const fix of fixes) lines.push(`Fix: ${fix}.`);
  for (const a of advice) lines.push(`Owner: ${a}.`);
  return lines.join("\n");
}

/** The machine-readable form of a finding (what the reject policy puts in its audit annotation). */
export interface FindingRecord {
  container: string;
  probe: ProbeTarget["probeKind"];
  handler: ProbeTarget["handler"];
  port: number | string;
  host?: string;
  reason: FindingReason;
  /** Binds as written, e.g. `--listen-address=127.0.0.1:8080` (at most MAX_LISTED_BINDS, values shortened). */
  binds: string[];
  /** Binds of the port not listed in `binds`. */
  bindsOmitted?: number;
  advice?: string;
  boundAddress?: string;
  message: string;
  fix: string;
}

export function findingRecord(f: Finding): FindingRecord {
  const record: FindingRecord = {
    container: clip(f.target.container),
    probe: f.target.probeKind,
    handler: f.target.handler,
    port: f.target.port ?? (typeof f.target.portSpec === "string" ? clip(f.target.portSpec) : f.target.portSpec),
    reason: f.reason,
    binds: f.listeners.map(describeBind),
    message: f.message,
    fix: f.fix,
  };
  if (f.bindCount !== undefined && f.bindCount > f.listeners.length) record.bindsOmitted = f.bindCount - f.listeners.length;
  if (f.advice !== undefined) record.advice = f.advice;
  if (f.target.host !== undefined) record.host = clip(f.target.host);
  const bound = f.listeners[0];
  if (bound) record.boundAddress = `${clip(bound.host)}:${bound.port}`;
  else if (f.target.host !== undefined) record.boundAddress = `${clip(f.target.host)}:${f.target.port ?? f.target.portSpec}`;
  return record;
}

/** Characters of the reject policy's `findings` annotation (JSON text), so the whole answer stays well under 1 MiB. */
export const MAX_FINDING_RECORDS_CHARS = 256 * 1024;

/**
 * The records as JSON text for the audit annotation: at most MAX_FINDING_RECORDS
 * and MAX_FINDING_RECORDS_CHARS characters (names full of characters JSON must
 * escape can make 100 records a megabyte); fewer records when they would not fit.
 */
export function findingRecordsJson(findings: readonly Finding[]): string {
  let records = findingRecords(findings);
  let text = JSON.stringify(records);
  while (text.length > MAX_FINDING_RECORDS_CHARS && records.length > 1) {
    records = records.slice(0, records.length >> 1);
    text = JSON.stringify(records);
  }
  return text.length > MAX_FINDING_RECORDS_CHARS ? "[]" : text;
}

/** The records for the audit annotation: at most MAX_FINDING_RECORDS, so the answer stays bounded. */
export function findingRecords(findings: readonly Finding[]): FindingRecord[] {
  const out: FindingRecord[] = [];
  for (let i = 0; i < findings.length && i < MAX_FINDING_RECORDS; i++) out.push(findingRecord(findings[i]!));
  return out;
}
