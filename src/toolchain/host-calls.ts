/**
 * The host-call contract every runner implements, as policy-evaluator links it
 * for WASI policies (`host.call`, and `kubewarden:javy/host.call` before
 * `kwctl annotate` renames it):
 *
 *   call(binding_ptr, binding_len, namespace_ptr, namespace_len,
 *        operation_ptr, operation_len, payload_ptr, payload_len) -> i32
 *
 * The host runs the capability and APPENDS its answer (the JSON response, or
 * the error text) to the policy's stdin; the call returns 0 on success and 1 on
 * error. The policy then reads the answer from stdin.
 *
 * Handlers are synchronous: WASI imports run synchronously in every engine.
 */

/** The import modules and field under which a runner offers the host call. */
export const HOST_CALL_IMPORTS = [
  { module: "host", name: "call" },
  { module: "kubewarden:javy/host", name: "call" },
] as const;

export interface HostCallRequest {
  /** e.g. "kubewarden" */
  binding: string;
  /** e.g. "kubernetes" */
  namespace: string;
  /** e.g. "list_resources_all" */
  operation: string;
  /** The request payload (JSON bytes). */
  payload: Uint8Array;
}

export type HostCallAnswer = { ok: true; response: Uint8Array } | { ok: false; error: string };

export type HostCallHandler = (call: HostCallRequest) => HostCallAnswer;

/** What a runner answers when it was given no handler: the host has no such capability. */
export const noHostCapabilities: HostCallHandler = (call) => ({
  ok: false,
  error: `host capability ${call.binding}/${call.namespace}/${call.operation} is not available in this runner`,
});

/** Read a host call's four strings/payload out of linear memory (bounds-checked: a bad pointer is an error, not a crash). */
export function decodeHostCall(memory: Uint8Array, args: readonly number[]): HostCallRequest | string {
  const slice = (ptr: number, len: number): Uint8Array | null => {
    const p = ptr >>> 0;
    const l = len >>> 0;
    return p + l <= memory.length ? memory.slice(p, p + l) : null;
  };
  const parts = [0, 2, 4, 6].map((i) => slice(args[i] ?? 0, args[i + 1] ?? 0));
  if (parts.some((p) => p === null)) return "host call: argument out of memory bounds";
  const [bd, ns, op, payload] = parts as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const text = new TextDecoder("utf-8", { fatal: true });
  try {
    return { binding: text.decode(bd), namespace: text.decode(ns), operation: text.decode(op), payload };
  } catch {
    return "host call: binding, namespace or operation is not valid UTF-8";
  }
}
