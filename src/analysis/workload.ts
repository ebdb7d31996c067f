/**
 * Finding the pod template inside a workload object.
 */
import type { PodSpec } from "kubernetes-types/core/v1";

/** Kinds whose objects carry a pod spec, and the path to it. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

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

/** The pod spec of a workload, or null for other kinds and malformed objects. */
export function podTemplateOf(object: unknown): PodTemplate | null {
  if (!isRecord(object) || typeof object.kind !== "string") return null;
  const path = POD_SPEC_PATHS[object.kind];
  if (!path) return null;
  let node: unknown = object;
  for (let i = 0; i < path.length; i++) {
    if (!isRecord(node)) return null;
    node = node[path[i]!];
  }
  if (!isRecord(node)) return null;
  return { workload: workloadRef(object), spec: node as unknown as PodSpec, path };
}
