/**
 * Settings handling shared by both policies: schema validation (the generated
 * standalone ajv validator) with messages that name the bad key, and the
 * mapping from settings to the analysis options.
 */
import { DEFAULT_LISTEN_ENV_VARS, DEFAULT_LISTEN_FLAGS, type ListenSpec } from "../../src/analysis/listen-specs.js";
import { userKnowledge } from "../../src/analysis/programs-knowledge/user.js";
import { DEFAULT_ANALYSIS_OPTIONS, type AnalysisOptions } from "../../src/analysis/reachability.js";
import { describeSchemaError, parseWithSchema, settingsParser, settingsPath, type SchemaError, type SchemaValidator } from "./schema.js";
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

export { describeSchemaError, parseWithSchema, settingsParser, settingsPath, type SchemaError, type SchemaValidator };
