/**
 * The Kubernetes host capabilities (policy-server answers them from its cache of
 * the cluster), one exported function per capability, in the spirit of
 * @kubewarden/policy-sdk's `Kubernetes` namespace. Import them as a namespace
 * (`import * as Kubernetes from ".../kubewarden/kubernetes.js"`): the bundler then
 * keeps only the functions a policy calls, so a module's bytes name exactly the
 * capabilities it uses — what `kwctl annotate` and our build read to check the
 * metadata's `hostCapabilities` (src/toolchain/capabilities.ts).
 */
import { parseInput } from "./input-guard.js";
import { HostCapabilityError, hostCall, type HostTransport, javyHost } from "./host-capabilities.js";

function callJson(operation: string, request: object, label: string, host: HostTransport): unknown {
  const bytes = hostCall("kubewarden", "kubernetes", operation, new TextEncoder().encode(JSON.stringify(request)), host, label);
  // The answer goes through the same size and depth guards as the admission request.
  const parsed = parseInput(bytes);
  if (!parsed.ok) throw new HostCapabilityError(label, "failed", `unreadable answer: ${parsed.message}`);
  return parsed.value;
}

// Request shapes: field for field kubewarden_policy_sdk::host_capabilities::kubernetes
// (snake_case; absent optional fields are None on the host).

export interface ListResourcesByNamespaceRequest {
  /** "v1" for the core group, else "group/version". */
  api_version: string;
  /** Singular PascalCase kind, e.g. "Deployment". */
  kind: string;
  namespace: string;
  label_selector?: string | null;
  field_selector?: string | null;
  /** Keep only these dot-separated paths (arrays are transparent); hosts before field masks ignore it. */
  field_masks?: string[] | null;
}

export interface ListAllResourcesRequest {
  api_version: string;
  kind: string;
  label_selector?: string | null;
  field_selector?: string | null;
  field_masks?: string[] | null;
}

export interface GetResourceRequest {
  api_version: string;
  kind: string;
  name: string;
  /** Required for namespaced kinds, null for cluster-scoped ones. */
  namespace?: string | null;
  /** The host caches answers for 5 s unless this is true. */
  disable_cache: boolean;
  field_masks?: string[] | null;
}

/** What list operations answer: a Kubernetes List (items as the API server returns them, pruned by field_masks). */
export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
  items: T[];
}

function asList<T>(value: unknown, label: string): ObjectList<T> {
  if (typeof value !== "object" || value === null || !Array.isArray((value as { items?: unknown }).items))
    throw new HostCapabilityError(label, "failed", "unexpected answer: not a List with an items array");
  return value as ObjectList<T>;
}

const describeRequest = (op: string, r: { api_version: string; kind: string; namespace?: string | null; name?: string }) =>
  `kubernetes/${op} (${r.api_version} ${r.kind}${r.namespace ? ` in ${r.namespace}` : ""}${r.name ? ` named ${r.name}` : ""})`;

/** `kubernetes/list_resources_by_namespace`: every object of a namespaced kind in one namespace. */
export function listResourcesByNamespace<T = Record<string, unknown>>(request: ListResourcesByNamespaceRequest, host: HostTransport = javyHost): ObjectList<T> {
  const label = describeRequest("list_resources_by_namespace", request);
  return asList<T>(callJson("list_resources_by_namespace", request, label, host), label);
}

/** `kubernetes/list_resources_all`: every object of a kind, in all namespaces (or cluster-scoped). */
export function listAllResources<T = Record<string, unknown>>(request: ListAllResourcesRequest, host: HostTransport = javyHost): ObjectList<T> {
  const label = describeRequest("list_resources_all", request);
  return asList<T>(callJson("list_resources_all", request, label, host), label);
}

/** `kubernetes/get_resource`: one object by name; a missing object is a HostCapabilityError with failure "failed". */
export function getResource<T = Record<string, unknown>>(request: GetResourceRequest, host: HostTransport = javyHost): T {
  const label = describeRequest("get_resource", request);
  const value = callJson("get_resource", request, label, host);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HostCapabilityError(label, "failed", "unexpected answer: not an object");
  return value as T;
}
