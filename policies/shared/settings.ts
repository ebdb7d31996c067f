/**
 * Settings handling shared by both policies: schema validation (the generated
 * standalone ajv validator) with messages that name the bad key, and the
 * mapping from settings to the analysis options.
 */
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS, type ListenSpec } from "../../src/analysis/listen-specs.js";
import { userKnowledge } from "../../src/analysis/programs-knowledge/user.js";
import { DEFAULT_ANALYSIS_OPTIONS, type AnalysisOptions } from "../../src/analysis/reachability.js";
import type { SettingsResult } from "../../src/kubewarden/policy.js";
import type { RejectLoopbackProbesSettings } from "../reject-loopback-probes/settings.generated.js";

/** Audit annotation key under which reject-loopback-probes returns its findings as JSON. */
export const FINDINGS_ANNOTATION = "findings";

/**
 * Audit annotation key under which reject-loopback-probes says that a workload's
 * opt-out annotation made it skip probes: JSON {"message", "skippedProbes"}. The
 * audit reports an opted-out object without other findings as skipped, with this reason.
 */
export const OPT_OUT_ANNOTATION = "opt-out";

/** The settings both policies share (the reject policy's schema is exactly this part). */
export type CommonSettings = RejectLoopbackProbesSettings;

export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** `/extraListenFlags/0/name` → `extraListenFlags[0].name` */
export function settingsPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((seg) => seg.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

export function describeSchemaError(e: SchemaError): string {
  const at = settingsPath(e.instancePath);
  const where = at === "" ? "settings" : at;
  switch (e.keyword) {
    case "additionalProperties":
      return `${where}: unknown key "${String(e.params.additionalProperty)}"`;
    case "required":
      return `${where}: missing required key "${String(e.params.missingProperty)}"`;
    case "pattern":
      if (/^\/programs\/\d+\/name$/.test(e.instancePath)) return `${where}: must be a program name as argv[0] spells it without its directory (letters, digits, "_", ".", "+" or "-")`;
      if (/^\/programs\/\d+\/images\//.test(e.instancePath)) return `${where}: must be an image repository path in lower case (registry.example.com/team/app), without tag or digest`;
      return `${where}: must be a flag or variable name (letters, digits, "_", "." or "-", optionally after "-" or "--"), got an invalid or empty name`;
    case "enum":
      return `${where}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "minLength":
      return `${where}: must not be empty`;
    case "type": {
      const type = String(e.params.type);
      const article = type === "array" ? "a list" : type === "object" ? "an object" : type === "integer" ? "an integer" : `a ${type}`;
      return `${where}: must be ${article}`;
    }
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

function normalizeSpec(spec: { name: string; form?: "address" | "url"; portFrom?: string; defaultPort?: number }): ListenSpec {
  const out: ListenSpec = { name: spec.name.replace(/^-{1,2}/, ""), form: spec.form ?? "address" };
  if (spec.portFrom !== undefined) out.portFrom = spec.portFrom.replace(/^-{1,2}/, "");
  if (spec.defaultPort !== undefined) out.defaultPort = spec.defaultPort;
  return out;
}

/**
 * The built-in list itself when settings neither replace nor extend it: the flag
 * index is keyed by the list object and built for the built-in lists before the
 * snapshot, so a request with default settings never rebuilds it.
 */
function specList(
  replaced: CommonSettings["listenFlags"],
  extra: CommonSettings["extraListenFlags"],
  defaults: readonly ListenSpec[],
): readonly ListenSpec[] {
  if (replaced === undefined && (extra === undefined || extra.length === 0)) return defaults;
  const base = replaced === undefined ? defaults : replaced.map(normalizeSpec);
  return extra === undefined || extra.length === 0 ? base : [...base, ...extra.map(normalizeSpec)];
}

const NONE: readonly string[] = [];

export function analysisOptions(settings: CommonSettings): AnalysisOptions {
  const flags = specList(settings.listenFlags, settings.extraListenFlags, DEFAULT_LISTEN_FLAGS);
  const envVars = specList(settings.listenEnvVars, settings.extraListenEnvVars, DEFAULT_LISTEN_ENV_VARS);
  const includeContainers = settings.includeContainers ?? NONE;
  const excludeContainers = settings.excludeContainers ?? NONE;
  const programs = settings.programs ?? [];
  if (flags === DEFAULT_LISTEN_FLAGS && envVars === DEFAULT_LISTEN_ENV_VARS && includeContainers.length === 0 && excludeContainers.length === 0 && programs.length === 0)
    return DEFAULT_ANALYSIS_OPTIONS;
  const options: AnalysisOptions = { flags, envVars, includeContainers, excludeContainers };
  if (programs.length > 0) options.programs = userKnowledge(programs);
  return options;
}

/**
 * A policy's settings parser with the common case answered in advance: nearly
 * every request carries settings `{}` (policy-server sends the policy's
 * settings, which most deployments leave empty), so their parse is computed
 * once when the parser is made — at the policy's top level, which the build
 * runs before the snapshot — instead of running the schema validator on every
 * request. Anything else goes through parseWithSchema.
 */
export function settingsParser<T, S>(validator: SchemaValidator, shape: (settings: T) => S): (raw: unknown) => SettingsResult<S> {
  const empty = parseWithSchema(validator, {}, shape);
  return (raw) => (isEmptyObject(raw) ? empty : parseWithSchema(validator, raw, shape));
}

function isEmptyObject(raw: unknown): boolean {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return false;
  for (const _ in raw) return false;
  return true;
}

/** Validate raw settings against the policy's schema, then shape them. */
export function parseWithSchema<T, S>(validator: SchemaValidator, raw: unknown, shape: (settings: T) => S): SettingsResult<S> {
  if (validator(raw)) return { ok: true, settings: shape(raw as T) };
  const errors = validator.errors ?? [];
  const messages = [...new Set(errors.map(describeSchemaError))];
  return { ok: false, message: messages.length > 0 ? messages.join("; ") : "settings do not match the schema" };
}
