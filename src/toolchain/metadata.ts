/**
 * Kubewarden policy metadata (metadata.yml), validated with kwctl's rules and
 * stored the way `kwctl annotate` stores it: JSON in the `io.kubewarden.metadata`
 * custom section of the module.
 */
import { parse as parseYaml } from "yaml";
import { isKnownHostCapability, KNOWN_HOST_CAPABILITIES } from "./capabilities.js";
import { appendCustomSection, customSections, imports, renameImportModule } from "./wasm-binary.js";

export const METADATA_SECTION = "io.kubewarden.metadata";
export const USAGE_ANNOTATION = "io.kubewarden.policy.usage";

export interface PolicyRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
}

/** A Kubernetes kind a context-aware policy may read through host calls. */
export interface ContextAwareResource {
  apiVersion: string;
  kind: string;
}

export interface PolicyMetadata {
  protocolVersion: string;
  rules: PolicyRule[];
  annotations: Record<string, string>;
  mutating: boolean;
  backgroundAudit: boolean;
  /** Sorted and without duplicates, as policy-evaluator holds them (a BTreeSet). */
  contextAwareResources: ContextAwareResource[];
  executionMode: "wasi";
  policyType: "kubernetes";
  /** Host capabilities the policy uses, e.g. "kubernetes/list_resources_all" (sorted, unique). */
  hostCapabilities?: string[];
  /** Semantic version; policy-server refuses metadata whose value is not one. */
  minimumKubewardenVersion?: string;
}

/** Semantic Versioning 2.0.0 (what the `semver` crate parses): MAJOR.MINOR.PATCH[-pre][+build], no leading zeros, no "v". */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function isSemver(v: string): boolean {
  return SEMVER.test(v);
}

const OPERATIONS = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT", "*"]);
const RULE_LISTS = ["apiGroups", "apiVersions", "resources", "operations"] as const;

export class MetadataError extends Error {}

/** Rust's string order (bytes of UTF-8 ≈ code points), which a BTreeSet keeps. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

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
  const contextAware = new Map<string, ContextAwareResource>();
  if (doc.contextAwareResources !== undefined) {
    if (!Array.isArray(doc.contextAwareResources)) fail("contextAwareResources must be a list of {apiVersion, kind}");
    (doc.contextAwareResources as unknown[]).forEach((item, i) => {
      if (!isRecord(item)) return fail(`contextAwareResources[${i}] must be a mapping {apiVersion, kind}`);
      for (const key of ["apiVersion", "kind"] as const)
        if (typeof item[key] !== "string" || item[key] === "") fail(`contextAwareResources[${i}].${key} must be a non-empty string (e.g. apiVersion: v1, kind: Service)`);
      const extra = Object.keys(item).filter((k) => k !== "apiVersion" && k !== "kind");
      if (extra.length > 0) fail(`contextAwareResources[${i}]: unknown key(s) ${extra.join(", ")} (only apiVersion and kind)`);
      const resource = { apiVersion: item.apiVersion as string, kind: item.kind as string };
      contextAware.set(JSON.stringify([resource.apiVersion, resource.kind]), resource);
    });
  }
  let hostCapabilities: string[] | undefined;
  if (doc.hostCapabilities !== undefined) {
    const list = doc.hostCapabilities;
    if (!Array.isArray(list) || !list.every((c): c is string => typeof c === "string" && c !== ""))
      fail('hostCapabilities must be a list of capability names (e.g. "kubernetes/list_resources_all")');
    // Exact names only: the build compares them with what the module uses (src/toolchain/capabilities.ts).
    const unknown = (list as string[]).filter((c) => !isKnownHostCapability(c));
    if (unknown.length > 0)
      fail(`hostCapabilities: unknown capability ${unknown.map((c) => JSON.stringify(c)).join(", ")} (known: ${KNOWN_HOST_CAPABILITIES.join(", ")})`);
    hostCapabilities = [...new Set(list as string[])].sort(byCodePoint);
  }
  if (doc.minimumKubewardenVersion !== undefined) {
    const v = doc.minimumKubewardenVersion;
    if (typeof v !== "string" || !isSemver(v))
      fail(`minimumKubewardenVersion must be a semantic version like 1.17.0 (got ${JSON.stringify(v)}); policy-server cannot load a policy whose metadata has another value`);
  }

  const metadata: PolicyMetadata = {
    protocolVersion: "Unknown",
    rules,
    annotations,
    mutating: doc.mutating as boolean,
    backgroundAudit: (doc.backgroundAudit as boolean | undefined) ?? true,
    contextAwareResources: [...contextAware.values()].sort((a, b) => byCodePoint(a.apiVersion, b.apiVersion) || byCodePoint(a.kind, b.kind)),
    executionMode: "wasi",
    policyType: "kubernetes",
  };
  if (hostCapabilities !== undefined) metadata.hostCapabilities = hostCapabilities;
  if (typeof doc.minimumKubewardenVersion === "string") metadata.minimumKubewardenVersion = doc.minimumKubewardenVersion;
  return metadata;
}

/** The import Javy-built policies use for host calls, which `kwctl annotate` renames to module `host`. */
export const JAVY_HOST_MODULE = "kubewarden:javy/host";

/**
 * Add the metadata section like `kwctl annotate`; refuses a module that already
 * has one. Like kwctl, it also renames the function import
 * `kubewarden:javy/host`.`call` to `host`.`call` (policy-server links both).
 */
export function annotate(module: Uint8Array, metadata: PolicyMetadata, usage?: string): Uint8Array {
  if (customSections(module, METADATA_SECTION).length > 0)
    throw new MetadataError(`module is already annotated (it has a ${METADATA_SECTION} section)`);
  const annotations = { ...metadata.annotations };
  if (usage !== undefined) annotations[USAGE_ANNOTATION] = usage;
  const payload = new TextEncoder().encode(JSON.stringify({ ...metadata, annotations }));
  const renamed = imports(module).some((i) => i.module === JAVY_HOST_MODULE && i.name === "call" && i.kind === "func")
    ? renameImportModule(module, JAVY_HOST_MODULE, ["call"], "host", "func")
    : module;
  return appendCustomSection(renamed, METADATA_SECTION, payload);
}

/** The metadata of an annotated module, or null. Readers take the first section, as policy-server does. */
export function readMetadata(module: Uint8Array): PolicyMetadata | null {
  const [first] = customSections(module, METADATA_SECTION);
  if (!first) return null;
  return JSON.parse(new TextDecoder().decode(first)) as PolicyMetadata;
}
