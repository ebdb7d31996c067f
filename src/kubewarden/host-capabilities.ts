/**
 * Kubewarden host capabilities for context-aware policies, in the spirit of
 * @kubewarden/policy-sdk (`HostCall.hostCall`, `Kubernetes.listResourcesByNamespace`,
 * `listAllResources`, `getResource`), which our registry does not serve.
 *
 * The wire contract (policy-evaluator, runtimes/wasi_cli/stack_pre.rs and
 * runtimes/callback.rs): the module calls the `kubewarden:javy/host` `call`
 * import (renamed `host` by kwctl annotate) with binding "kubewarden", a
 * namespace ("kubernetes") and an operation ("list_resources_all", …) and a JSON
 * payload; the host APPENDS its answer to stdin — the JSON response, or the error
 * text — and returns 0 on success, 1 on error. So after the call the policy reads
 * stdin again until it is empty. The glue exposes the call as `__hostCall`, with
 * the Javy Kubewarden plugin's signature, so the same code runs under a Javy build.
 *
 * Errors are typed: a policy can tell "the host refused" (not in
 * contextAwareResources, capability not granted), "no such capability here"
 * (no cluster, an unknown operation) and "the call failed" apart, and say so.
 */
import { readFileSync } from "javy/fs";
import { errorMessage, parseInput } from "./input-guard.js";

declare const __hostCall: ((binding: string, namespace: string, operation: string, payload: ArrayBuffer) => boolean) | undefined;

/** How a host call ended. */
export interface HostAnswer {
  ok: boolean;
  /** What the host appended to stdin: the response on success, the error text on failure. */
  bytes: Uint8Array;
}

/** Makes the raw call; replaceable so the API is testable outside the engine. */
export interface HostTransport {
  call(binding: string, namespace: string, operation: string, payload: Uint8Array): HostAnswer;
}

/** Why a capability did not answer. */
export type HostFailure =
  /** The host refused: the resource is not in the policy's contextAwareResources, or the capability is not granted. */
  | "not-allowed"
  /** The host has no such capability here (no Kubernetes client, an unknown operation, an engine without host calls). */
  | "unavailable"
  /** The host tried and failed (resource not found, API error) or answered something unreadable. */
  | "failed";

/** Longest host error text kept in a message: answers are attacker-influenced and must stay bounded. */
const MAX_HOST_MESSAGE = 400;

export class HostCapabilityError extends Error {
  constructor(
    /** e.g. "kubernetes/list_resources_all (apps/v1 Deployment)" */
    readonly capability: string,
    readonly failure: HostFailure,
    /** The host's own words (bounded). */
    readonly hostMessage: string,
  ) {
    super(`${capability}: ${FAILURE_TEXT[failure]}: ${hostMessage}`);
    this.name = "HostCapabilityError";
  }
}

const FAILURE_TEXT: Record<HostFailure, string> = {
  "not-allowed": "refused by the host (the policy's contextAwareResources must list the resource and the policy must be granted it)",
  unavailable: "not available from this host",
  failed: "the host call failed",
};

/** Classify a host error text by the wording policy-evaluator uses (runtimes/callback.rs, callback_handler). */
export function classifyHostError(message: string): HostFailure {
  if (message.includes("has not been granted access")) return "not-allowed";
  if (
    message.includes("not available") ||
    message.includes("was not initialized properly") ||
    message.includes("callback channel not provided") ||
    message.startsWith("unknown operation") ||
    message.startsWith("unknown namespace") ||
    message.startsWith("unknown binding")
  )
    return "unavailable";
  return "failed";
}

function bounded(text: string): string {
  return text.length > MAX_HOST_MESSAGE ? `${text.slice(0, MAX_HOST_MESSAGE)}…` : text;
}

/** The transport inside a module built by this toolchain (or by Javy with the Kubewarden plugin). */
export const javyHost: HostTransport = {
  call(binding, namespace, operation, payload) {
    if (typeof __hostCall !== "function")
      return { ok: false, bytes: new TextEncoder().encode("host capabilities are not available: this engine has no __hostCall") };
    const copy = payload.slice();
    const ok = __hostCall(binding, namespace, operation, copy.buffer);
    return { ok, bytes: readFileSync(0) };
  },
};

/** One raw host call; throws HostCapabilityError when the host answers with an error. */
export function hostCall(binding: string, namespace: string, operation: string, payload: Uint8Array, host: HostTransport = javyHost, label?: string): Uint8Array {
  const capability = label ?? `${namespace}/${operation}`;
  let answer: HostAnswer;
  try {
    answer = host.call(binding, namespace, operation, payload);
  } catch (e) {
    throw new HostCapabilityError(capability, "unavailable", bounded(errorMessage(e)));
  }
  if (answer.ok) return answer.bytes;
  const text = bounded(new TextDecoder().decode(answer.bytes));
  throw new HostCapabilityError(capability, classifyHostError(text), text);
}

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

/** Kubernetes host capability (policy-server answers from its cache of the cluster). */
export const Kubernetes = {
  /** Every object of a namespaced kind in one namespace. */
  listResourcesByNamespace<T = Record<string, unknown>>(request: ListResourcesByNamespaceRequest, host: HostTransport = javyHost): ObjectList<T> {
    const label = describeRequest("list_resources_by_namespace", request);
    return asList<T>(callJson("list_resources_by_namespace", request, label, host), label);
  },
  /** Every object of a kind, in all namespaces (or cluster-scoped). */
  listAllResources<T = Record<string, unknown>>(request: ListAllResourcesRequest, host: HostTransport = javyHost): ObjectList<T> {
    const label = describeRequest("list_resources_all", request);
    return asList<T>(callJson("list_resources_all", request, label, host), label);
  },
  /** One object by name; a missing object is a HostCapabilityError with failure "failed". */
  getResource<T = Record<string, unknown>>(request: GetResourceRequest, host: HostTransport = javyHost): T {
    const label = describeRequest("get_resource", request);
    const value = callJson("get_resource", request, label, host);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new HostCapabilityError(label, "failed", "unexpected answer: not an object");
    return value as T;
  },
};
