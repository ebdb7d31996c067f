/**
 * Kubewarden host capabilities for context-aware policies, in the spirit of
 * @kubewarden/policy-sdk (`HostCall.hostCall`; the Kubernetes capabilities are in
 * kubernetes.ts), which our registry does not serve.
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
import { errorMessage } from "./input-guard.js";

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
