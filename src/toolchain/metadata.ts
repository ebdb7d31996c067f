/**
 * Kubewarden policy metadata (metadata.yml), validated with kwctl's rules and
 * stored the way `kwctl annotate` stores it: JSON in the `io.kubewarden.metadata`
 * custom section of the module.
 */
import { parse as parseYaml } from "yaml";
import { appendCustomSection, customSections } from "./wasm-binary.js";

export const METADATA_SECTION = "io.kubewarden.metadata";
export const USAGE_ANNOTATION = "io.kubewarden.policy.usage";

export interface PolicyRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
}

export interface PolicyMetadata {
  protocolVersion: string;
  rules: PolicyRule[];
  annotations: Record<string, string>;
  mutating: boolean;
  backgroundAudit: boolean;
  contextAwareResources: unknown[];
  executionMode: "wasi";
  policyType: "kubernetes";
  minimumKubewardenVersion?: string;
}

const OPERATIONS = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT", "*"]);
const RULE_LISTS = ["apiGroups", "apiVersions", "resources", "operations"] as const;

export class MetadataError extends Error {}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse and validate metadata.yml text; throws MetadataError naming the bad field. */
export function parseMetadata(text: string, source = "metadata.yml"): PolicyMetadata {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new MetadataError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  if (!isRecord(doc)) throw new MetadataError(`${source}: expected a mapping at the top level`);
  const fail = (msg: string): never => {
    throw new MetadataError(`${source}: ${msg}`);
  };

  if (doc.executionMode !== "wasi")
    fail(`executionMode must be "wasi" for modules built by this toolchain (got ${JSON.stringify(doc.executionMode)})`);
  if (typeof doc.mutating !== "boolean") fail("mutating is required and must be true or false");
  if (doc.backgroundAudit !== undefined && typeof doc.backgroundAudit !== "boolean")
    fail("backgroundAudit must be true or false");
  if (doc.policyType !== undefined && doc.policyType !== "kubernetes") fail('policyType must be "kubernetes"');
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) fail("rules must be a non-empty list");

  const rules = (doc.rules as unknown[]).map((rule, i): PolicyRule => {
    if (!isRecord(rule)) return fail(`rules[${i}] must be a mapping`);
    const out: Partial<PolicyRule> = {};
    for (const key of RULE_LISTS) {
      const list = rule[key];
      if (!Array.isArray(list) || list.length === 0) fail(`rules[${i}].${key} must be a non-empty list`);
      const values = list as unknown[];
      if (!values.every((v): v is string => typeof v === "string")) fail(`rules[${i}].${key} must hold strings`);
      const strings = values as string[];
      if (strings.includes("*") && strings.length > 1) fail(`rules[${i}].${key}: "*" must stand alone`);
      if (key === "operations") {
        const bad = strings.filter((o) => !OPERATIONS.has(o));
        if (bad.length > 0) fail(`rules[${i}].operations: unknown operation(s) ${bad.join(", ")}`);
      }
      out[key] = strings;
    }
    return out as PolicyRule;
  });

  const annotations: Record<string, string> = {};
  if (doc.annotations !== undefined) {
    if (!isRecord(doc.annotations)) fail("annotations must be a mapping of strings");
    for (const [k, v] of Object.entries(doc.annotations as Record<string, unknown>)) {
      if (typeof v !== "string") fail(`annotations.${k} must be a string`);
      annotations[k] = v as string;
    }
  }
  if (doc.contextAwareResources !== undefined && !Array.isArray(doc.contextAwareResources))
    fail("contextAwareResources must be a list");

  const metadata: PolicyMetadata = {
    protocolVersion: "Unknown",
    rules,
    annotations,
    mutating: doc.mutating as boolean,
    backgroundAudit: (doc.backgroundAudit as boolean | undefined) ?? true,
    contextAwareResources: (doc.contextAwareResources as unknown[] | undefined) ?? [],
    executionMode: "wasi",
    policyType: "kubernetes",
  };
  if (typeof doc.minimumKubewardenVersion === "string") metadata.minimumKubewardenVersion = doc.minimumKubewardenVersion;
  return metadata;
}

/** Add the metadata section like `kwctl annotate`; refuses a module that already has one. */
export function annotate(module: Uint8Array, metadata: PolicyMetadata, usage?: string): Uint8Array {
  if (customSections(module, METADATA_SECTION).length > 0)
    throw new MetadataError(`module is already annotated (it has a ${METADATA_SECTION} section)`);
  const annotations = { ...metadata.annotations };
  if (usage !== undefined) annotations[USAGE_ANNOTATION] = usage;
  const payload = new TextEncoder().encode(JSON.stringify({ ...metadata, annotations }));
  return appendCustomSection(module, METADATA_SECTION, payload);
}

/** The metadata of an annotated module, or null. Readers take the first section, as policy-server does. */
export function readMetadata(module: Uint8Array): PolicyMetadata | null {
  const [first] = customSections(module, METADATA_SECTION);
  if (!first) return null;
  return JSON.parse(new TextDecoder().decode(first)) as PolicyMetadata;
}
