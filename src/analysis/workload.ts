/**
 * Finding the pod template inside a workload object.
 *
 * Lookups by kind go through `Object.hasOwn` / Maps only: `kind` is attacker
 * controlled, and `"__proto__"` or `"toString"` must be "not a workload", never
 * a method of Object.prototype.
 */
import type { PodSpec } from "kubernetes-types/core/v1";
import type { ProbeKind } from "./probes.js";

/** Same as probes.ts PROBE_KINDS; spelled here because probes.ts imports this module (no import cycle at load). */
const ALL_PROBES: readonly ProbeKind[] = ["livenessProbe", "readinessProbe", "startupProbe"];

/**
 * Kinds whose objects carry a pod spec, and the path to it, matched by kind
 * alone whatever the apiVersion (old ones like extensions/v1beta1 or
 * apps/v1beta2 included), as before.
 */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, readonly string[]>, {
    Pod: ["spec"],
    PodTemplate: ["template", "spec"],
    Deployment: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    DaemonSet: ["spec", "template", "spec"],
    ReplicaSet: ["spec", "template", "spec"],
    ReplicationController: ["spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
  }),
);

/** Custom kinds that carry a pod template: matched by API group AND kind (`Service` alone is a core Service). */
export interface GroupKindTemplate {
  group: string;
  kind: string;
  path: readonly string[];
  /**
   * The probes the kubelet itself executes against the pod IP. Knative rewrites a
   * Service's readiness probe so that queue-proxy runs it from inside the pod
   * (loopback is reachable there); liveness and startup stay with the kubelet.
   */
  kubeletProbes: readonly ProbeKind[];
  /** Why these probes, for the docs and the answer. */
  note?: string;
  /** A controller that fills fields in before the pod exists: the pod is judged as it renders it (knative.ts). */
  controller?: "knative-serving";
}

export const GROUP_KIND_TEMPLATES: readonly GroupKindTemplate[] = [
  { group: "argoproj.io", kind: "Rollout", path: ["spec", "template", "spec"], kubeletProbes: ALL_PROBES },
  { group: "apps.openshift.io", kind: "DeploymentConfig", path: ["spec", "template", "spec"], kubeletProbes: ALL_PROBES },
  {
    group: "serving.knative.dev",
    kind: "Service",
    path: ["spec", "template", "spec"],
    kubeletProbes: ["livenessProbe", "startupProbe"],
    note: "Knative: readiness probes are executed by queue-proxy inside the pod; container names and the serving container's probe port are defaulted (knative.ts)",
    controller: "knative-serving",
  },
];

const GROUP_KIND_INDEX = new Map<string, GroupKindTemplate>(GROUP_KIND_TEMPLATES.map((t) => [`${t.group}/${t.kind}`, t]));

export interface WorkloadRef {
  kind: string;
  name: string;
  namespace?: string;
}

export interface PodTemplate {
  workload: WorkloadRef;
  spec: PodSpec;
  /** JSON path segments from the object root to the pod spec. */
  path: readonly string[];
  /** Probe kinds the kubelet executes for this kind of workload (all three except for Knative). */
  kubeletProbes: readonly ProbeKind[];
  /** Set when a controller fills fields in (GroupKindTemplate.controller). */
  controller?: "knative-serving";
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function workloadRef(object: unknown): WorkloadRef {
  const o = isRecord(object) ? object : {};
  const meta = isRecord(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? `${meta.generateName}*` : "";
  const ref: WorkloadRef = { kind: typeof o.kind === "string" ? o.kind : "", name };
  if (typeof meta.namespace === "string") ref.namespace = meta.namespace;
  return ref;
}

/** The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core). */
export function apiGroupOf(apiVersion: unknown): string {
  if (typeof apiVersion !== "string") return "";
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** Where the pod spec sits in objects of this apiVersion + kind, or null when they have none. */
export function podSpecPathOf(apiVersion: unknown, kind: string): { path: readonly string[]; kubeletProbes: readonly ProbeKind[]; controller?: "knative-serving" } | null {
  const custom = GROUP_KIND_INDEX.get(`${apiGroupOf(apiVersion)}/${kind}`);
  if (custom) return custom;
  if (Object.hasOwn(POD_SPEC_PATHS, kind)) return { path: POD_SPEC_PATHS[kind]!, kubeletProbes: ALL_PROBES };
  return null;
}

/** The pod spec of a workload, or null for other kinds and malformed objects. */
export function podTemplateOf(object: unknown): PodTemplate | null {
  if (!isRecord(object) || typeof object.kind !== "string") return null;
  const where = podSpecPathOf(object.apiVersion, object.kind);
  if (!where) return null;
  const path = where.path;
  let node: unknown = object;
  for (let i = 0; i < path.length; i++) {
    if (!isRecord(node) || !Object.hasOwn(node, path[i]!)) return null;
    node = node[path[i]!];
  }
  if (!isRecord(node)) return null;
  const template: PodTemplate = { workload: workloadRef(object), spec: node as unknown as PodSpec, path, kubeletProbes: where.kubeletProbes };
  if (where.controller !== undefined) template.controller = where.controller;
  return template;
}

/**
 * The metadata of the pod template (the object's own for a Pod): where the
 * annotations of the pods it creates are written.
 */
export function podMetadataOf(object: unknown, template: PodTemplate): Record<string, unknown> | null {
  let node: unknown = object;
  const path = template.path;
  for (let i = 0; i < path.length - 1; i++) {
    if (!isRecord(node)) return null;
    node = node[path[i]!];
  }
  return isRecord(node) && isRecord(node.metadata) ? node.metadata : null;
}
