/**
 * Evaluating manifests with the built policies exactly as Kubewarden's audit
 * scanner does: a synthesized CREATE request per object, uid from the object
 * (or generated), resource.resource = the Kind, no userInfo, no oldObject.
 */
import type { Operation } from "fast-json-patch";
import { randomUUID } from "node:crypto";
import type { FindingRecord } from "../analysis/reachability.js";
import type { AdmissionRequest, KubernetesObject } from "../kubewarden/protocol.js";
import { type LoadedPolicy, patchOf, validate } from "../toolchain/evaluate.js";
import type { PolicyMetadata } from "../toolchain/metadata.js";
import { FINDINGS_ANNOTATION } from "../../policies/shared/settings.js";
import type { ManifestObject } from "./manifests.js";

export type AuditStatus = "pass" | "fail" | "error" | "skip";

export interface AuditResult {
  manifest: ManifestObject;
  status: AuditStatus;
  message?: string;
  findings: FindingRecord[];
  /** The rewrite policy's JSON Patch, when asked for and there is one. */
  patch?: Operation[];
}

export function groupVersion(apiVersion: unknown): { group: string; version: string } {
  const av = typeof apiVersion === "string" ? apiVersion : "";
  const slash = av.indexOf("/");
  return slash < 0 ? { group: "", version: av } : { group: av.slice(0, slash), version: av.slice(slash + 1) };
}

/** The request Kubewarden's audit scanner synthesizes for a live object. */
export function auditRequest(object: Record<string, unknown>): AdmissionRequest {
  const { group, version } = groupVersion(object.apiVersion);
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

/** Lower-case plural of a Kind, as resource names in policy rules are spelled. */
export function resourcePlural(kind: string): string {
  const k = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

/** Does the policy's rules select this object (for the CREATE operation the audit uses)? */
export function rulesMatch(metadata: PolicyMetadata | null, object: Record<string, unknown>): boolean {
  if (!metadata) return true;
  const { group, version } = groupVersion(object.apiVersion);
  const resource = resourcePlural(typeof object.kind === "string" ? object.kind : "");
  const has = (list: string[], v: string) => list.includes("*") || list.includes(v);
  return metadata.rules.some(
    (r) => has(r.apiGroups, group) && has(r.apiVersions, version) && has(r.resources, resource) && has(r.operations, "CREATE"),
  );
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

export interface AuditOptions {
  validator: LoadedPolicy;
  rewriter?: LoadedPolicy;
  settings: unknown;
  onProgress?: (done: number, total: number) => void;
}

export async function auditObjects(objects: ManifestObject[], options: AuditOptions): Promise<AuditResult[]> {
  const results: AuditResult[] = [];
  let done = 0;
  for (const manifest of objects) {
    results.push(await auditOne(manifest, options));
    options.onProgress?.(++done, objects.length);
  }
  return results;
}

async function auditOne(manifest: ManifestObject, options: AuditOptions): Promise<AuditResult> {
  if (!rulesMatch(options.validator.metadata, manifest.object)) return { manifest, status: "skip", findings: [] };
  const request = auditRequest(manifest.object);
  const response = await validate(options.validator, request, validatorSettings(options.settings));
  if (response.allowed) return { manifest, status: "pass", findings: [] };
  const message = response.status?.message ?? "";
  if (response.status?.code === 500) return { manifest, status: "error", message, findings: [] };
  const result: AuditResult = { manifest, status: "fail", message, findings: findingsOf(response.auditAnnotations) };
  if (options.rewriter) {
    const rewrite = await validate(options.rewriter, request, options.settings);
    const patch = patchOf(rewrite);
    if (patch.length > 0) result.patch = patch;
  }
  return result;
}
