/**
 * What every evaluation of one `run` shares, from the flags: the engine and its
 * deadline, the request, where host calls are answered from and which host
 * capabilities a policy may call. Both forms of `run` (a module, a policy file)
 * evaluate through it.
 */
import type { AdmissionRequest } from "../kubewarden/protocol.js";
import { gateHostCalls, type HostCapabilityAllowList, HostCapabilityPatternError, parseHostCapabilityPatterns } from "../toolchain/capabilities.js";
import { type AdmissionResponse, type Engine, kwctlJson } from "../toolchain/evaluate.js";
import type { HostCallHandler } from "../toolchain/host-calls.js";
import type { ContextAwareResource } from "../toolchain/kubernetes-context.js";
import { WasmtimeModuleError, WasmtimeUnavailable } from "../toolchain/wasmtime-runner.js";
import { UsageError } from "./command.js";
import { type HostContextFlags, hostCallFromFlags } from "./host-context.js";

export interface RunSetup {
  engine: Engine;
  timeoutSeconds: number | null;
  request: AdmissionRequest;
  hostFlags: HostContextFlags;
  /** --allowed-host-capabilities (kwctl's default: everything). */
  allowedCapabilities: HostCapabilityAllowList;
  pretty: boolean;
}

/** One run's host-call handler: answers from --context / the replayed session, gated by the allow list. */
export function hostCallsFor(setup: RunSetup, allowed: readonly ContextAwareResource[]): { hostCall?: HostCallHandler; remaining?: () => number } {
  const inner = hostCallFromFlags(allowed, setup.hostFlags);
  const remaining = inner && "remaining" in inner ? inner.remaining : undefined;
  const gated = setup.allowedCapabilities.kind === "all" ? inner : gateHostCalls(setup.allowedCapabilities, inner);
  return { ...(gated ? { hostCall: gated } : {}), ...(remaining ? { remaining } : {}) };
}

/** Print an answer on one line (--pretty: indented), as kwctl does. */
export function printResponse(setup: RunSetup, response: AdmissionResponse): void {
  console.log(setup.pretty ? JSON.stringify(kwctlJson(response), null, 2) : JSON.stringify(kwctlJson(response)));
}

/** --allowed-host-capabilities PATTERN…: kwctl's patterns; an empty value is the flag given without one (nothing allowed). */
export function parseAllowedCapabilities(values: readonly string[] | undefined): HostCapabilityAllowList {
  const patterns = values === undefined ? ["*"] : values.filter((v) => v !== "");
  try {
    return parseHostCapabilityPatterns(patterns);
  } catch (e) {
    if (e instanceof HostCapabilityPatternError) throw new UsageError(`Invalid host capabilities pattern: ${e.message}`);
    throw e;
  }
}


/** Explain engine problems in words; anything else propagates. */
export function engineError(e: unknown): never {
  if (e instanceof WasmtimeUnavailable) throw new Error(e.message.includes("--engine node") ? e.message : `${e.message}\n(or pass --engine node to run under node:wasi)`);
  if (e instanceof WasmtimeModuleError) throw new Error(`wasmtime cannot load the module: ${e.message}`);
  throw e;
}
