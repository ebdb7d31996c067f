/**
 * Kubewarden policy resources (policies.kubewarden.io/v1 ClusterAdmissionPolicy,
 * AdmissionPolicy, ClusterAdmissionPolicyGroup, AdmissionPolicyGroup) read the
 * way `kwctl run POLICY.yaml` reads them (crates/kwctl/src/config/policy_definition.rs):
 * the module, settings, contextAwareResources (ClusterAdmissionPolicy and
 * ClusterAdmissionPolicyGroup members only), mode, mutating and message of each
 * policy; a group's members, expression and message. Rules, selectors and
 * matchConditions decide which requests reach a policy in a cluster: a run
 * evaluates the request it is given, so they are not read.
 */
import { parseAllDocuments } from "yaml";
import type { ContextAwareResource } from "./metadata.js";

export const POLICY_API_VERSION = "policies.kubewarden.io/v1";
export const POLICY_KINDS = ["ClusterAdmissionPolicy", "AdmissionPolicy", "ClusterAdmissionPolicyGroup", "AdmissionPolicyGroup"] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

interface Common {
  kind: PolicyKind;
  /** metadata.name ("crd-without-name" when it has none, as kwctl). */
  name: string;
  namespace?: string;
  mode: "protect" | "monitor";
}

export interface PolicyMember {
  /** The module URI: registry://… or file:///… */
  module: string;
  settings: Record<string, unknown>;
  /** What the host may answer for it (empty: no Kubernetes lookups). */
  contextAwareResources: ContextAwareResource[];
  /** spec.timeoutEvalSeconds: the policy's own deadline. */
  timeoutEvalSeconds?: number;
}

export interface SinglePolicy extends Common, PolicyMember {
  kind: "ClusterAdmissionPolicy" | "AdmissionPolicy";
  mutating: boolean;
  /** spec.message: replaces a rejection's message. */
  message?: string;
}

export interface PolicyGroup extends Common {
  kind: "ClusterAdmissionPolicyGroup" | "AdmissionPolicyGroup";
  expression: string;
  message: string;
  /** By member name, sorted (the expression calls them as functions). */
  members: [string, PolicyMember][];
}

export type PolicyDefinition = SinglePolicy | PolicyGroup;

export class PolicyDefinitionError extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** kwctl's texts for the same mistakes, then ours for what serde would refuse. */
function definition(doc: unknown, where: string): PolicyDefinition {
  const fail = (msg: string): never => {
    throw new PolicyDefinitionError(`${where}: ${msg}`);
  };
  if (!isRecord(doc)) return fail("not a mapping (a Kubewarden policy resource)");
  if (doc.apiVersion !== POLICY_API_VERSION) fail(`invalid apiVersion ${doc.apiVersion === undefined ? "None" : `Some(${JSON.stringify(doc.apiVersion)})`} (expected ${POLICY_API_VERSION})`);
  const kind = doc.kind;
  if (typeof kind !== "string" || !(POLICY_KINDS as readonly string[]).includes(kind))
    fail(`unknown kind ${kind === undefined ? "None" : `Some(${JSON.stringify(kind)})`}, not a Kubewarden policy`);
  const k = kind as PolicyKind;
  const spec = doc.spec;
  if (!isRecord(spec)) return fail(`CRD does not have spec, but it is required for ${k}`);
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === "string" && meta.name !== "" ? meta.name : "crd-without-name";
  const namespaced = k === "AdmissionPolicy" || k === "AdmissionPolicyGroup";
  const namespace = namespaced ? (typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : "default") : undefined;
  if (spec.mode !== undefined && spec.mode !== "protect" && spec.mode !== "monitor") fail(`spec.mode must be protect or monitor, got ${JSON.stringify(spec.mode)}`);
  const mode = (spec.mode ?? "protect") as "protect" | "monitor";
  const common = { kind: k, name, ...(namespace ? { namespace } : {}), mode };

  const member = (m: Record<string, unknown>, path: string, withContext: boolean): PolicyMember => {
    if (typeof m.module !== "string" || m.module === "") fail(`${path}.module must be a registry:// or file:// URI`);
    const settings = m.settings ?? {};
    if (!isRecord(settings)) fail(`${path}.settings must be a mapping (got ${Array.isArray(settings) ? "a list" : typeof settings})`);
    const resources: ContextAwareResource[] = [];
    if (withContext && m.contextAwareResources !== undefined) {
      if (!Array.isArray(m.contextAwareResources)) fail(`${path}.contextAwareResources must be a list of {apiVersion, kind}`);
      (m.contextAwareResources as unknown[]).forEach((r, i) => {
        if (!isRecord(r) || typeof r.apiVersion !== "string" || typeof r.kind !== "string") fail(`${path}.contextAwareResources[${i}] must be {apiVersion, kind}`);
        const res = r as { apiVersion: string; kind: string };
        resources.push({ apiVersion: res.apiVersion, kind: res.kind });
      });
    }
    const timeout = m.timeoutEvalSeconds;
    if (timeout !== undefined && (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1)) fail(`${path}.timeoutEvalSeconds must be a whole number of seconds ≥ 1`);
    return { module: m.module as string, settings: settings as Record<string, unknown>, contextAwareResources: resources, ...(typeof timeout === "number" ? { timeoutEvalSeconds: timeout } : {}) };
  };

  if (k === "ClusterAdmissionPolicy" || k === "AdmissionPolicy") {
    if (spec.mutating !== undefined && typeof spec.mutating !== "boolean") fail("spec.mutating must be true or false");
    if (spec.message !== undefined && typeof spec.message !== "string") fail("spec.message must be a string");
    return {
      ...common,
      kind: k,
      ...member(spec, "spec", k === "ClusterAdmissionPolicy"),
      mutating: spec.mutating === true,
      ...(typeof spec.message === "string" ? { message: spec.message } : {}),
    };
  }
  if (!isRecord(spec.policies) || Object.keys(spec.policies).length === 0) fail("spec.policies: policy groups must have at least one policy member");
  if (typeof spec.expression !== "string" || spec.expression === "") fail("spec.expression must be non-empty");
  if (typeof spec.message !== "string" || spec.message === "") fail("spec.message must be non-empty");
  const members = Object.entries(spec.policies as Record<string, unknown>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, m]): [string, PolicyMember] => {
      // The controller's rule for member names: CEL identifiers, not reserved words.
      if (!/^[_a-zA-Z][_a-zA-Z0-9]*$/.test(id)) fail(`spec.policies: ${JSON.stringify(id)}: policy group member name is invalid`);
      if (!isRecord(m)) return fail(`spec.policies.${id} must be a mapping`);
      return [id, member(m, `spec.policies.${id}`, k === "ClusterAdmissionPolicyGroup")];
    });
  return { ...common, kind: k, expression: spec.expression as string, message: spec.message as string, members };
}

/** Every policy resource of a YAML stream, in order; empty documents are skipped. */
export function parsePolicyDefinitions(text: string, source: string): PolicyDefinition[] {
  const docs = parseAllDocuments(text);
  const out: PolicyDefinition[] = [];
  docs.forEach((d, i) => {
    const where = `${source} (document ${i + 1})`;
    if (d.errors.length > 0) throw new PolicyDefinitionError(`${where}: not valid YAML: ${d.errors[0]!.message}`);
    const value: unknown = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    out.push(definition(value, where));
  });
  if (out.length === 0) throw new PolicyDefinitionError(`${source}: no Kubewarden policy resource in it`);
  return out;
}

/** The policy id kwctl uses in its texts: the resource's name; a group member is "group/member". */
export const memberId = (group: PolicyGroup, member: string) => `${group.name}/${member}`;
