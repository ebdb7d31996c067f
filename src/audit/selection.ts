/**
 * Which objects a policy's rules select, as Kubewarden's audit scanner decides
 * it for a CREATE, and which objects the audit needs whole.
 *
 * Most of a real repository is objects no policy selects (CRDs, Services,
 * ConfigMaps): the audit reports them by their identity alone. The reader
 * threads keep only that identity for them (`keptOf`), so the bulk of
 * the bytes is never copied between threads nor kept in memory.
 */
import type { ContextAwareResource, PolicyMetadata, PolicyRule } from "../toolchain/metadata.js";

export function groupVersion(apiVersion: unknown): { group: string; version: string } {
  const av = typeof apiVersion === "string" ? apiVersion : "";
  const slash = av.indexOf("/");
  return slash < 0 ? { group: "", version: av } : { group: av.slice(0, slash), version: av.slice(slash + 1) };
}

/**
 * API versions removed from Kubernetes whose pod templates are unchanged in
 * their successors (extensions/v1beta1 and apps/v1beta1|2 since 1.16,
 * batch/v1beta1 CronJobs since 1.25). Old manifests still carry them; a cluster
 * would only accept them converted, so the audit evaluates them as the
 * successor (rules matched and request sent as apps/v1 or batch/v1) and says so.
 */
const REMOVED_API_VERSIONS: ReadonlyMap<string, { apiVersion: string; kinds: ReadonlySet<string> }> = new Map([
  ["extensions/v1beta1", { apiVersion: "apps/v1", kinds: new Set(["Deployment", "DaemonSet", "ReplicaSet"]) }],
  ["apps/v1beta1", { apiVersion: "apps/v1", kinds: new Set(["Deployment", "StatefulSet"]) }],
  ["apps/v1beta2", { apiVersion: "apps/v1", kinds: new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]) }],
  ["batch/v1beta1", { apiVersion: "batch/v1", kinds: new Set(["CronJob"]) }],
  ["batch/v2alpha1", { apiVersion: "batch/v1", kinds: new Set(["CronJob"]) }],
]);

/** The apiVersion the audit evaluates an object at (its successor for removed versions). */
export function effectiveApiVersion(object: Record<string, unknown>): string {
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
  const successor = REMOVED_API_VERSIONS.get(apiVersion);
  return successor && typeof object.kind === "string" && successor.kinds.has(object.kind) ? successor.apiVersion : apiVersion;
}

/** Lower-case plural of a Kind, as resource names in policy rules are spelled. */
export function resourcePlural(kind: string): string {
  const k = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

function rulesSelect(rules: readonly PolicyRule[], object: Record<string, unknown>): boolean {
  const { group, version } = groupVersion(effectiveApiVersion(object));
  const resource = resourcePlural(typeof object.kind === "string" ? object.kind : "");
  const has = (list: string[], v: string) => list.includes("*") || list.includes(v);
  return rules.some((r) => has(r.apiGroups, group) && has(r.apiVersions, version) && has(r.resources, resource) && has(r.operations, "CREATE"));
}

/** Does the policy's rules select this object (for the CREATE operation the audit uses)? A module without metadata selects everything. */
export function rulesMatch(metadata: PolicyMetadata | null, object: Record<string, unknown>): boolean {
  return metadata === null || rulesSelect(metadata.rules, object);
}

/**
 * What the audit needs of every object whole (plain data: it crosses to the
 * reader threads): the objects some policy's rules select (null rules: a
 * module without metadata, which selects everything), and the kinds a
 * context-aware policy may read through host calls.
 */
export interface WholeObjects {
  rules: PolicyRule[] | null;
  kinds: string[];
}

export function wholeObjectsFor(policies: readonly (PolicyMetadata | null)[]): WholeObjects {
  if (policies.some((m) => m === null)) return { rules: null, kinds: [] };
  const all = policies as readonly PolicyMetadata[];
  const kinds = new Set(all.flatMap((m) => (m.contextAwareResources ?? []).map((r: ContextAwareResource) => r.kind)));
  return { rules: all.flatMap((m) => m.rules), kinds: [...kinds] };
}

/**
 * The object itself when the audit needs it whole, else its identity — what the
 * reports show of an object no policy selects: apiVersion, kind and metadata.
 */
export function keptOf(object: Record<string, unknown>, whole: WholeObjects): Record<string, unknown> {
  if (whole.rules === null || (typeof object.kind === "string" && whole.kinds.includes(object.kind)) || rulesSelect(whole.rules, object)) return object;
  const identity: Record<string, unknown> = { apiVersion: object.apiVersion, kind: object.kind };
  if (Object.hasOwn(object, "metadata")) identity.metadata = object.metadata;
  return identity;
}
