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
import { containerListeners, type Listener, type ListenerSpecs } from "./listeners.js";
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS } from "./listen-specs.js";
import { probeTargets, runningContainers, type ProbeTarget } from "./probes.js";
import { isSkipped, optOutOf, type OptOut } from "./opt-out.js";
import { podSpecShapeProblems } from "./shape.js";
import { podTemplateOf, type PodTemplate, type WorkloadRef } from "./workload.js";

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
  /** The loopback binds of the probed port (empty for the other reasons). */
  listeners: Listener[];
  /** One line for humans: what is wrong. */
  message: string;
  /** One line for humans: how to fix it. */
  fix: string;
}

export interface AnalysisOptions extends ListenerSpecs {
  /** Only probes of these containers are checked (`*` wildcards); empty = all. */
  includeContainers: readonly string[];
  /** Probes of these containers are never checked (`*` wildcards). */
  excludeContainers: readonly string[];
}

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = {
  flags: DEFAULT_LISTEN_FLAGS,
  envVars: DEFAULT_LISTEN_ENV_VARS,
  includeContainers: [],
  excludeContainers: [],
};

export function matchesName(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  const re = new RegExp("^" + pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
  return re.test(name);
}

function inScope(container: string, options: AnalysisOptions): boolean {
  if (options.excludeContainers.length > 0 && options.excludeContainers.some((p) => matchesName(p, container))) return false;
  return options.includeContainers.length === 0 || options.includeContainers.some((p) => matchesName(p, container));
}

/** All known binds in the pod, by port. */
export function podListenersByPort(spec: PodSpec, specs: ListenerSpecs): Map<number, Listener[]> {
  const byPort = new Map<number, Listener[]>();
  const running = runningContainers(spec);
  for (let r = 0; r < running.length; r++) {
    const listeners = containerListeners(running[r]!.container, specs);
    for (let i = 0; i < listeners.length; i++) {
      const l = listeners[i]!;
      if (l.port === null) continue;
      const same = byPort.get(l.port);
      if (same) same.push(l);
      else byPort.set(l.port, [l]);
    }
  }
  return byPort;
}

export function describeTarget(t: ProbeTarget): string {
  const where = t.host ? `${t.host}:${t.portSpec}` : `port ${t.portSpec}`;
  const port = typeof t.portSpec === "string" && t.port !== null ? ` (${t.port})` : "";
  return `container "${t.container}" ${t.probeKind} ${t.handler} ${where}${port}`;
}

export function describeWorkload(w: WorkloadRef): string {
  return `${w.kind} ${w.namespace ? `${w.namespace}/` : ""}${w.name}`;
}

function describeBinds(listeners: Listener[]): string {
  return listeners.map((l) => `${l.setting}=${l.value} in container "${l.container}"`).join(", ");
}

const FIX_HINT: Record<ProbeTarget["handler"], string> = {
  httpGet: "probe from inside the pod with an exec probe (curl/wget to the loopback address; rewrite-loopback-probes does this) or bind a non-loopback address",
  tcpSocket: "probe from inside the pod with an exec probe (nc -z to the loopback address; rewrite-loopback-probes does this) or bind a non-loopback address",
  grpc: "a grpc probe always dials the pod IP: bind a non-loopback address, or replace the probe with an exec probe using grpc_health_probe against the loopback address",
};

/** Findings for one probe target given the pod's binds. */
export function judgeTarget(target: ProbeTarget, spec: PodSpec, byPort: ReadonlyMap<number, Listener[]>, workload: WorkloadRef): Finding | null {
  const base = { workload, target };
  if (target.port === null) {
    return {
      ...base,
      reason: "unresolvable-port-name",
      listeners: [],
      message: `${describeTarget(target)}: no port named "${target.portSpec}" in container "${target.container}", so the probe can never connect`,
      fix: `declare a containerPort named "${target.portSpec}" or use the port number`,
    };
  }
  const hostNetwork = spec.hostNetwork === true;
  if (target.host !== undefined && target.handler !== "grpc") {
    const hostClass = classifyHost(target.host);
    if (hostClass !== "loopback" || hostNetwork) return null; // an explicit non-loopback host is out of our sight; loopback + hostNetwork is the node's own
    return {
      ...base,
      reason: "loopback-host-without-host-network",
      listeners: [],
      message: `${describeTarget(target)}: the kubelet runs on the node, so host ${target.host} is the node's loopback, not the pod's`,
      fix: `${FIX_HINT[target.handler]}; remove "host" to probe the pod IP`,
    };
  }
  const binds = byPort.get(target.port) ?? [];
  if (binds.length === 0) return null;
  for (let i = 0; i < binds.length; i++) if (binds[i]!.hostClass !== "loopback") return null;
  const dialed = hostNetwork ? "the node IP (hostNetwork)" : "the pod IP";
  return {
    ...base,
    reason: "loopback-only-listener",
    listeners: binds,
    message: `${describeTarget(target)}: port ${target.port} is bound only on loopback (${describeBinds(binds)}) but the kubelet dials ${dialed}`,
    fix: FIX_HINT[target.handler],
  };
}

/** Every probe of the object's pod template that can never succeed. Non-workloads have none. */
export function findUnreachableProbes(object: unknown, options: AnalysisOptions = DEFAULT_ANALYSIS_OPTIONS): Finding[] {
  const template = podTemplateOf(object);
  return template ? templateFindings(template, options) : [];
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
}

/** What a policy needs to decide: findings, or why the object cannot be checked. */
export function checkWorkload(object: unknown, options: AnalysisOptions = DEFAULT_ANALYSIS_OPTIONS): WorkloadCheck {
  const template = podTemplateOf(object);
  if (!template) return { workload: null, findings: [], malformed: [], optOut: null, skipped: [] };
  const optOut = optOutOf(object, template);
  const malformed = podSpecShapeProblems(template);
  if (malformed.length > 0) return { workload: template.workload, findings: [], malformed, optOut, skipped: [] };
  const all = templateFindings(template, options);
  if (optOut === null) return { workload: template.workload, findings: all, malformed, optOut, skipped: [] };
  const findings: Finding[] = [];
  const skipped: Finding[] = [];
  for (let i = 0; i < all.length; i++) (isSkipped(optOut, all[i]!.target.container) ? skipped : findings).push(all[i]!);
  return { workload: template.workload, findings, malformed, optOut, skipped };
}

function templateFindings(template: PodTemplate, options: AnalysisOptions): Finding[] {
  const byPort = podListenersByPort(template.spec, options);
  const findings: Finding[] = [];
  const targets = probeTargets(template.spec, template.kubeletProbes);
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!;
    if (!inScope(target.container, options)) continue;
    const f = judgeTarget(target, template.spec, byPort, template.workload);
    if (f) findings.push(f);
  }
  return findings;
}

/** One message for a rejection that lists every finding. */
export function summarizeFindings(findings: readonly Finding[]): string {
  const head = `${describeWorkload(findings[0]!.workload)}: ${findings.length} probe${findings.length === 1 ? "" : "s"} can never succeed`;
  return `${head}: ${findings.map((f, i) => `(${i + 1}) ${f.message}. Fix: ${f.fix}.`).join(" ")}`;
}

/** The machine-readable form of a finding (what the reject policy puts in its audit annotation). */
export interface FindingRecord {
  container: string;
  probe: ProbeTarget["probeKind"];
  handler: ProbeTarget["handler"];
  port: number | string;
  host?: string;
  reason: FindingReason;
  /** Binds as written, e.g. `--listen-address=127.0.0.1:8080`. */
  binds: string[];
  boundAddress?: string;
  message: string;
  fix: string;
}

export function findingRecord(f: Finding): FindingRecord {
  const record: FindingRecord = {
    container: f.target.container,
    probe: f.target.probeKind,
    handler: f.target.handler,
    port: f.target.port ?? f.target.portSpec,
    reason: f.reason,
    binds: f.listeners.map((l) => `${l.setting}=${l.value}`),
    message: f.message,
    fix: f.fix,
  };
  if (f.target.host !== undefined) record.host = f.target.host;
  const bound = f.listeners[0];
  if (bound) record.boundAddress = `${bound.host}:${bound.port}`;
  else if (f.target.host !== undefined) record.boundAddress = `${f.target.host}:${f.target.port ?? f.target.portSpec}`;
  return record;
}
