/**
 * Host-side evaluation of an annotated module, as `kwctl run` / policy-server do:
 * validate-settings first, then validate, then turn the policy's answer into an
 * admission.k8s.io/v1 AdmissionResponse (JSONPatch computed by diffing
 * request.object against mutated_object).
 */
import fastJsonPatch, { type Operation } from "fast-json-patch";
import type { AdmissionRequest, SettingsValidationResponse, ValidationResponse } from "../kubewarden/protocol.js";
import { type PolicyMetadata, readMetadata } from "./metadata.js";
import { compileModule, runWasi, type RunOptions, type WasiResult } from "./wasi-runner.js";

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { message?: string; code?: number };
  patchType?: "JSONPatch";
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export class InvalidRequest extends Error {}

export interface LoadedPolicy {
  bytes: Uint8Array;
  module: WebAssembly.Module;
  metadata: PolicyMetadata | null;
}

export async function loadPolicy(bytes: Uint8Array): Promise<LoadedPolicy> {
  return { bytes, module: await compileModule(bytes), metadata: readMetadata(bytes) };
}

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Accept a bare AdmissionRequest or a whole AdmissionReview. */
export function admissionRequestOf(doc: unknown): AdmissionRequest {
  if (!isRecord(doc)) throw new InvalidRequest("the request file must hold a JSON object");
  const candidate = doc.kind === "AdmissionReview" || (isRecord(doc.request) && doc.uid === undefined) ? doc.request : doc;
  if (!isRecord(candidate)) throw new InvalidRequest("AdmissionReview has no request object");
  if (typeof candidate.uid !== "string") throw new InvalidRequest("AdmissionRequest.uid must be a string");
  if (typeof candidate.operation !== "string") throw new InvalidRequest("AdmissionRequest.operation must be a string");
  return candidate as unknown as AdmissionRequest;
}

function parseAnswer<T>(result: WasiResult): { ok: true; value: T } | { ok: false; message: string } {
  if (result.exitCode === null) return { ok: false, message: result.stderr || `trap: ${result.trap ?? "unknown"}` };
  if (result.exitCode !== 0) return { ok: false, message: result.stderr || `exit code ${result.exitCode}` };
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(result.stdout)) as T };
  } catch {
    return { ok: false, message: "Cannot deserialize policy validation response" };
  }
}

export async function validateSettings(policy: LoadedPolicy, settings: unknown): Promise<SettingsValidationResponse> {
  const result = await runWasi(policy.module, "validate-settings", encode(settings));
  const answer = parseAnswer<SettingsValidationResponse>(result);
  if (!answer.ok) return { valid: false, message: answer.message };
  if (typeof answer.value?.valid !== "boolean") return { valid: false, message: "Cannot deserialize settings validation response" };
  return answer.value;
}

/** One validate call, mapped to an AdmissionResponse with the policy-server's rules. `options.hostCall` answers host capabilities. */
export async function validate(policy: LoadedPolicy, request: AdmissionRequest, settings: unknown, options: RunOptions = {}): Promise<AdmissionResponse> {
  const result = await runWasi(policy.module, "validate", encode({ request, settings }), options);
  return toAdmissionResponse(request, parseAnswer<ValidationResponse>(result), policy.metadata?.mutating ?? false);
}

export function toAdmissionResponse(
  request: AdmissionRequest,
  answer: { ok: true; value: ValidationResponse } | { ok: false; message: string },
  mutating: boolean,
): AdmissionResponse {
  const uid = request.uid;
  if (!answer.ok) return { uid, allowed: false, status: { message: answer.message, code: 500 } };
  const v = answer.value;
  if (!isRecord(v) || typeof v.accepted !== "boolean")
    return { uid, allowed: false, status: { message: "Cannot deserialize policy validation response", code: 500 } };
  const response: AdmissionResponse = { uid, allowed: v.accepted };
  if (!v.accepted) response.status = { message: v.message ?? "", ...(v.code === undefined ? {} : { code: v.code }) };
  if (v.accepted && v.mutated_object !== undefined) {
    if (!mutating)
      return { uid, allowed: false, status: { message: "Request rejected by policy: the policy is not mutating but returned a mutated object", code: 500 } };
    if (request.object === null || request.object === undefined)
      return { uid, allowed: false, status: { message: "Request rejected by policy: mutated_object returned for a request without object", code: 500 } };
    const ops = fastJsonPatch.compare(request.object as object, v.mutated_object as object);
    if (ops.length > 0) {
      response.patchType = "JSONPatch";
      response.patch = Buffer.from(JSON.stringify(ops)).toString("base64");
    }
  }
  if (v.warnings && v.warnings.length > 0) response.warnings = v.warnings;
  if (v.audit_annotations && Object.keys(v.audit_annotations).length > 0) response.auditAnnotations = v.audit_annotations;
  return response;
}

/** Decode the base64 JSONPatch of a response (for display and tests). */
export function patchOf(response: AdmissionResponse): Operation[] {
  return response.patch ? (JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")) as Operation[]) : [];
}
