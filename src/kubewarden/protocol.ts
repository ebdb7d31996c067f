/**
 * Kubewarden's WASI policy wire protocol, field for field as policy-server and
 * @kubewarden/policy-sdk spell it. Pure types and constructors: no IO.
 */
import type { ObjectMeta } from "kubernetes-types/meta/v1";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** A Kubernetes object as it arrives: anything with optional apiVersion/kind/metadata. */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** admission.k8s.io/v1 AdmissionRequest (camelCase, as policy-server forwards it). */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: KubernetesObject | null;
  oldObject?: KubernetesObject | null;
  dryRun?: boolean;
  options?: unknown;
}

/** What `validate` reads on stdin. */
export interface ValidationRequest {
  request: AdmissionRequest;
  settings: unknown;
}

/**
 * JSON text to be written into the answer as it is (policy.ts serializeAnswer):
 * a mutated object spliced from the request text keeps every untouched number's
 * spelling, which a parse/stringify round trip would not.
 */
export class RawJson {
  constructor(readonly text: string) {}
  /** For code that stringifies the answer itself (tests): the parsed value, numbers as JS reads them. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** What `validate` writes on stdout (snake_case keys, mutated_object is an object). */
export interface ValidationResponse {
  accepted: boolean;
  message?: string;
  code?: number;
  mutated_object?: KubernetesObject | RawJson;
  audit_annotations?: Record<string, string>;
  warnings?: string[];
}

/** What `validate-settings` writes on stdout. */
export interface SettingsValidationResponse {
  valid: boolean;
  message?: string;
}

export const accept = (extra: { warnings?: string[]; audit_annotations?: Record<string, string> } = {}): ValidationResponse => ({
  accepted: true,
  ...nonEmpty(extra),
});

export const reject = (message: string, extra: { code?: number; audit_annotations?: Record<string, string>; warnings?: string[] } = {}): ValidationResponse => ({
  accepted: false,
  message,
  ...nonEmpty(extra),
});

export const mutate = (mutatedObject: KubernetesObject | RawJson, extra: { warnings?: string[] } = {}): ValidationResponse => ({
  accepted: true,
  mutated_object: mutatedObject,
  ...nonEmpty(extra),
});

export const settingsValid = (): SettingsValidationResponse => ({ valid: true });
export const settingsInvalid = (message: string): SettingsValidationResponse => ({ valid: false, message });

function nonEmpty<T extends Record<string, unknown>>(extra: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(extra) as [keyof T, T[keyof T]][]) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

/** The action names policy-server passes as argv[1]. */
export type PolicyAction = "validate" | "validate-settings";
