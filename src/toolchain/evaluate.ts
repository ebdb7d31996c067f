/**
 * Host-side evaluation of an annotated module, as `kwctl run` / policy-server do
 * (kubewarden-controller: crates/policy-evaluator/src/runtimes/wasi_cli/runtime.rs,
 * admission_response.rs, admission_response_handler.rs): validate-settings first,
 * then validate, then the policy's answer becomes an admission.k8s.io/v1
 * AdmissionResponse (JSONPatch computed by diffing request.object against
 * mutated_object), then the ClusterAdmissionPolicy's mode and `mutating` apply.
 *
 * Two engines run the module: `wasmtime`, the engine policy-server embeds,
 * configured like it (epoch deadline included), and `node` (node:wasi, V8), which
 * needs nothing but Node but cannot interrupt a running module: it ignores the
 * timeout.
 */
import fastJsonPatch, { type Operation } from "fast-json-patch";
import type { AdmissionRequest, SettingsValidationResponse } from "../kubewarden/protocol.js";
import type { HostCallHandler } from "./host-calls.js";
import { type PolicyMetadata, readMetadata } from "./metadata.js";
import { compileModule, runWasi } from "./wasi-runner.js";
import { isWasm } from "./wasm-binary.js";
import { runWasmtime } from "./wasmtime-runner.js";

export const ENGINES = ["wasmtime", "node"] as const;
export type Engine = (typeof ENGINES)[number];

/** policy-server's default --policy-timeout: a deadline of 2 epochs of 1 s. */
export const DEFAULT_TIMEOUT_SECONDS = 2;

/** The policy id kwctl gives a module run from the command line (used in its rejection texts). */
export const CLI_POLICY_ID = "policy-from-cli";

/** admission.k8s.io/v1 AdmissionResponse (kwctlJson prints it as kwctl does). */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  patch?: string;
  status?: { message?: string; details?: StatusDetails; code?: number };
  /** Absent when the policy gave none. */
  auditAnnotations?: Record<string, string>;
  /** Absent when the policy gave none; [] when it gave an empty list. */
  warnings?: string[];
}

/** policy-evaluator's StatusCause: every member serialised, null when unset. */
export interface StatusCause {
  reason: string | null;
  message: string | null;
  field: string | null;
}

/** policy-evaluator's StatusDetails as the kwctl/policy-server answers carry it (causes only). */
export interface StatusDetails {
  causes: StatusCause[];
}

export class InvalidRequest extends Error {}
/** The bytes are not a WebAssembly module, or its metadata cannot be read. */
export class InvalidModule extends Error {}

export interface LoadedPolicy {
  bytes: Uint8Array;
  /** Compiled for the node engine. */
  module: WebAssembly.Module;
  metadata: PolicyMetadata | null;
}

export interface EvaluationOptions {
  /** Default "node". */
  engine?: Engine;
  /** Deadline in seconds (wasmtime: epoch interruption as policy-server); null: none. Default 2. The node engine ignores it. */
  timeoutSeconds?: number | null;
  /** Answers host calls (context-aware policies); default: every capability refused. */
  hostCall?: HostCallHandler;
  /** The ClusterAdmissionPolicy's mode. Default "protect". */
  mode?: "protect" | "monitor";
  /** The ClusterAdmissionPolicy's `mutating`. Default: the module's metadata `mutating` (what our generated manifests set). */
  mutating?: boolean;
  /** Names the policy in the mutation-refused text. Default "policy-from-cli", as kwctl. */
  policyId?: string;
  /** The policy's `spec.message`: replaces a rejection's message, which moves to status.details.causes. */
  rejectionMessage?: string;
  /** Sees each raw run (e.g. to tell the user the deadline interrupted it). */
  onRun?: (run: PolicyRun) => void;
  /**
   * Runs the module instead of `engine` (the offline audit's pooled instances on
   * worker threads, see evaluation-pool.ts); the answer is interpreted the same way.
   */
  runner?: (action: string, stdin: Uint8Array, hostCall: HostCallHandler | undefined) => Promise<PolicyRun>;
}

export async function loadPolicy(bytes: Uint8Array): Promise<LoadedPolicy> {
  if (!isWasm(bytes)) throw new InvalidModule("not a WebAssembly module (it does not start with the \\0asm header)");
  let metadata: PolicyMetadata | null;
  try {
    metadata = readMetadata(bytes);
  } catch (e) {
    throw new InvalidModule(`cannot read the io.kubewarden.metadata section: ${e instanceof Error ? e.message : String(e)}`);
  }
  let module: WebAssembly.Module;
  try {
    module = await compileModule(bytes);
  } catch (e) {
    throw new InvalidModule(`not a valid WebAssembly module: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { bytes, module, metadata };
}

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : `a ${typeof v}`);

/**
 * Accept a bare AdmissionRequest or a whole AdmissionReview, with the fields
 * kwctl requires (it deserialises them into policy-evaluator's AdmissionRequest):
 * uid, kind {group, version, kind}, resource {group, version, resource},
 * operation and userInfo.
 */
export function admissionRequestOf(doc: unknown): AdmissionRequest {
  if (!isRecord(doc)) throw new InvalidRequest(`expected an AdmissionRequest or AdmissionReview object, got ${describe(doc)}`);
  const review = doc.kind === "AdmissionReview";
  const candidate = review || (isRecord(doc.request) && doc.uid === undefined) ? doc.request : doc;
  if (!isRecord(candidate)) throw new InvalidRequest("the AdmissionReview has no request object");
  const missing = (field: string, what: string) =>
    new InvalidRequest(`AdmissionRequest.${field} must be ${what}, got ${candidate[field] === undefined ? "nothing" : describe(candidate[field])} (kwctl and policy-server require uid, kind, resource, operation and userInfo)`);
  if (typeof candidate.uid !== "string") throw missing("uid", "a string");
  for (const [field, keys] of [
    ["kind", ["group", "version", "kind"]],
    ["resource", ["group", "version", "resource"]],
  ] as const) {
    const value = candidate[field];
    if (!isRecord(value)) throw missing(field, `an object {${keys.join(", ")}}`);
    for (const k of keys) if (typeof value[k] !== "string") throw new InvalidRequest(`AdmissionRequest.${field}.${k} must be a string${k === "group" ? ' ("" for the core group)' : ""}`);
  }
  if (typeof candidate.operation !== "string") throw missing("operation", "a string (CREATE, UPDATE, DELETE or CONNECT)");
  if (!isRecord(candidate.userInfo)) throw missing("userInfo", "an object (e.g. {\"username\": \"alice\"})");
  return candidate as unknown as AdmissionRequest;
}

/** What one evaluation of the module produced, whichever the engine. */
export interface PolicyRun {
  exitCode: number | null;
  stdout: Uint8Array;
  stderr: string;
  trap?: string;
  /** The deadline interrupted it (wasmtime only). */
  interrupted: boolean;
  instantiateMs: number;
  startMs: number;
}

/** Run the module once with `action` and raw stdin bytes, in a fresh instance of the chosen engine. */
export async function runPolicy(policy: LoadedPolicy, action: string, stdin: Uint8Array, options: EvaluationOptions = {}): Promise<PolicyRun> {
  let run: PolicyRun;
  if (options.runner) run = await options.runner(action, stdin, options.hostCall);
  else if ((options.engine ?? "node") === "wasmtime") {
    const timeoutSeconds = options.timeoutSeconds === undefined ? DEFAULT_TIMEOUT_SECONDS : options.timeoutSeconds;
    run = await runWasmtime(policy.bytes, action, stdin, { timeoutSeconds, ...(options.hostCall ? { hostCall: options.hostCall } : {}) });
  } else run = { ...(await runWasi(policy.module, action, stdin, options.hostCall ? { hostCall: options.hostCall } : {})), interrupted: false };
  options.onRun?.(run);
  return run;
}

type Outcome = { ok: true; stdout: string } | { ok: false; message: string };

/**
 * As policy-evaluator's Stack::run: a trap (the deadline included) or a non-zero
 * exit is an error whose text is the module's stderr, trimmed; stdout must be UTF-8.
 */
function outcomeOf(run: PolicyRun): Outcome {
  if (run.exitCode !== 0) return { ok: false, message: run.stderr.trim() };
  try {
    return { ok: true, stdout: new TextDecoder("utf-8", { fatal: true }).decode(run.stdout) };
  } catch {
    return { ok: false, message: "stdout pipe conversion error: Cannot convert buffer to UTF8 string: invalid utf-8 sequence" };
  }
}

/** Parse one JSON document the way serde_json::from_slice does (one value, surrounding whitespace only). */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === "") return { ok: false, error: "EOF while parsing a value" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

type Field = "bool" | "string" | "u16" | "object" | "string map" | "string list";
function fieldError(name: string, value: unknown, want: Field): string | null {
  const ok =
    want === "bool" ? typeof value === "boolean"
    : want === "string" ? typeof value === "string"
    : want === "u16" ? Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535
    : want === "object" ? true
    : want === "string map" ? isRecord(value) && Object.values(value).every((v) => typeof v === "string")
    : Array.isArray(value) && value.every((v) => typeof v === "string");
  return ok ? null : `invalid type for \`${name}\`: ${describe(value)}, expected ${want === "u16" ? "a u16" : want === "bool" ? "a boolean" : want === "object" ? "any JSON value" : `a ${want}`}`;
}

/** The policy's validate answer, checked as serde checks kubewarden_policy_sdk's ValidationResponse. */
interface PolicyValidationResponse {
  accepted: boolean;
  message: string | null;
  code: number | null;
  mutated_object: unknown;
  audit_annotations: Record<string, string> | null;
  warnings: string[] | null;
}

function validationResponseOf(value: unknown): PolicyValidationResponse | string {
  if (!isRecord(value)) return `invalid type: ${describe(value)}, expected struct ValidationResponse`;
  if (!Object.hasOwn(value, "accepted")) return "missing field `accepted`";
  const fields: [keyof PolicyValidationResponse, Field][] = [
    ["accepted", "bool"],
    ["message", "string"],
    ["code", "u16"],
    ["mutated_object", "object"],
    ["audit_annotations", "string map"],
    ["warnings", "string list"],
  ];
  const out: Record<string, unknown> = {};
  for (const [name, want] of fields) {
    const v = Object.hasOwn(value, name) ? value[name] : null;
    if (v === null && name !== "accepted") {
      out[name] = null;
      continue;
    }
    const error = fieldError(name, v, want);
    if (error) return error;
    out[name] = v;
  }
  return out as unknown as PolicyValidationResponse;
}

export async function validateSettings(policy: LoadedPolicy, settings: unknown, options: EvaluationOptions = {}): Promise<SettingsValidationResponse> {
  const outcome = outcomeOf(await runPolicy(policy, "validate-settings", encode(settings), options));
  if (!outcome.ok) return { valid: false, message: outcome.message };
  const parsed = parseJson(outcome.stdout);
  const value = parsed.ok ? parsed.value : undefined;
  let error = parsed.ok ? null : parsed.error;
  if (parsed.ok) {
    if (!isRecord(value)) error = `invalid type: ${describe(value)}, expected struct SettingsValidationResponse`;
    else if (!Object.hasOwn(value, "valid")) error = "missing field `valid`";
    else error = fieldError("valid", value.valid, "bool") ?? (value.message == null ? null : fieldError("message", value.message, "string"));
  }
  if (error !== null) return { valid: false, message: `Cannot deserialize settings validation response: ${error}` };
  const v = value as { valid: boolean; message?: string | null };
  return { valid: v.valid, ...(v.message == null ? {} : { message: v.message }) };
}

/** One validate call, answered as policy-server answers it. */
export async function validate(policy: LoadedPolicy, request: AdmissionRequest, settings: unknown, options: EvaluationOptions = {}): Promise<AdmissionResponse> {
  const run = await runPolicy(policy, "validate", encode({ request, settings }), options);
  return applyPolicyConfiguration(toAdmissionResponse(request, run), {
    mode: options.mode ?? "protect",
    // An unannotated module has no `mutating`: kwctl then allows mutation.
    mutating: options.mutating ?? policy.metadata?.mutating ?? true,
    policyId: options.policyId ?? CLI_POLICY_ID,
    ...(options.rejectionMessage === undefined ? {} : { rejectionMessage: options.rejectionMessage }),
  });
}

const reject = (uid: string, message: string, code?: number): AdmissionResponse => ({
  uid,
  allowed: false,
  status: { message, ...(code === undefined ? {} : { code }) },
});

/** The module's run → AdmissionResponse (policy-evaluator: Runtime::validate, from_policy_validation_response). */
export function toAdmissionResponse(request: AdmissionRequest, run: PolicyRun): AdmissionResponse {
  const uid = request.uid;
  const outcome = outcomeOf(run);
  if (!outcome.ok) return reject(uid, outcome.message, 500);
  const parsed = parseJson(outcome.stdout);
  const answer = parsed.ok ? validationResponseOf(parsed.value) : parsed.error;
  if (typeof answer === "string") return reject(uid, `internal server error: Cannot deserialize policy validation response: ${answer}`, 500);
  const object = request.object ?? null;
  if (answer.mutated_object !== null && object === null)
    return reject(uid, "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed");
  const response: AdmissionResponse = { uid, allowed: answer.accepted };
  if (answer.audit_annotations !== null) response.auditAnnotations = answer.audit_annotations;
  if (answer.warnings !== null) response.warnings = answer.warnings;
  if (answer.mutated_object !== null) {
    const ops = fastJsonPatch.compare(object as object, answer.mutated_object as object);
    if (ops.length > 0) {
      response.patchType = "JSONPatch";
      response.patch = Buffer.from(JSON.stringify(ops)).toString("base64");
    }
  }
  if (answer.message !== null || answer.code !== null)
    response.status = { ...(answer.message === null ? {} : { message: answer.message }), ...(answer.code === null ? {} : { code: answer.code }) };
  return response;
}

/**
 * The policy resource's mode, `mutating` and `message`, applied in
 * policy-evaluator's AdmissionResponseHandler order: monitor mode accepts (no
 * patch, no status); in protect mode a patch from a policy not allowed to
 * mutate is a rejection; then a custom message replaces a rejection's, which
 * becomes the last of status.details.causes.
 */
export function applyPolicyConfiguration(
  response: AdmissionResponse,
  policy: { mode: "protect" | "monitor"; mutating: boolean; policyId: string; rejectionMessage?: string },
): AdmissionResponse {
  const { patchType: _t, patch: _p, status: _s, ...rest } = response;
  if (policy.mode === "monitor") return { ...rest, allowed: true };
  let out = response;
  if (!policy.mutating && response.patch !== undefined)
    out = {
      ...rest,
      allowed: false,
      status: { message: `Request rejected by policy ${policy.policyId}. The policy attempted to mutate the request, but it is currently configured to not allow mutations.` },
    };
  if (out.allowed || policy.rejectionMessage === undefined) return out;
  const status = out.status ?? {};
  const causes = [...(status.details?.causes ?? []), { reason: null, message: status.message ?? "", field: null }];
  return { ...out, status: { ...status, message: policy.rejectionMessage, details: { ...status.details, causes } } };
}

/**
 * The response as kwctl serialises it: uid, allowed, patchType, patch, status
 * {message, code} (the optional ones only when set), then auditAnnotations and
 * warnings always (null when unset).
 */
export function kwctlJson(r: AdmissionResponse): Record<string, unknown> {
  return {
    uid: r.uid,
    allowed: r.allowed,
    ...(r.patchType === undefined ? {} : { patchType: r.patchType }),
    ...(r.patch === undefined ? {} : { patch: r.patch }),
    ...(r.status === undefined
      ? {}
      : {
          status: {
            ...(r.status.message === undefined ? {} : { message: r.status.message }),
            // An empty causes list is left out of the details, which stay (policy-evaluator's StatusDetails).
            ...(r.status.details === undefined ? {} : { details: r.status.details.causes.length === 0 ? {} : { causes: r.status.details.causes } }),
            ...(r.status.code === undefined ? {} : { code: r.status.code }),
          },
        }),
    auditAnnotations: r.auditAnnotations ?? null,
    warnings: r.warnings ?? null,
  };
}

/** Decode the base64 JSONPatch of a response (for display and tests). */
export function patchOf(response: AdmissionResponse): Operation[] {
  return response.patch ? (JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")) as Operation[]) : [];
}
