/**
 * The native pre-check both probe policies declare: a request whose workload
 * the analysis provably has nothing to say about, with default settings, is
 * accepted by the glue without entering JS (see src/kubewarden/native-precheck.ts
 * and src/analysis/clean-object.ts for why each condition is there).
 */
import { CLEAN_OBJECT_RULES, CLEAN_STRING_LIMITS, LOOPBACK_TRIGGERS } from "../../src/analysis/clean-object.js";
import { declareNativePrecheck, INPUT_GUARD_LIMITS, type NativePrecheck, precheckRulesHeld, VALIDATE_REQUEST_RULES } from "../../src/kubewarden/native-precheck.js";
import type { AnalysisOptions } from "../../src/analysis/reachability.js";
import { accept } from "../../src/kubewarden/protocol.js";

export function cleanRequestPrecheck(): NativePrecheck {
  return {
    answer: JSON.stringify(accept()),
    rules: [...VALIDATE_REQUEST_RULES, ...CLEAN_OBJECT_RULES],
    requiredTopLevelKey: "request",
    triggers: LOOPBACK_TRIGGERS,
    ...CLEAN_STRING_LIMITS,
    ...INPUT_GUARD_LIMITS,
  };
}

/** Declared at the policy's top level, which the build runs before the snapshot. */
export function declareCleanRequestPrecheck(): boolean {
  return declareNativePrecheck(cleanRequestPrecheck());
}

/**
 * The analysis options for this request. When the pre-check's rules held and only
 * loopback-looking text sent the request to JS, CLEAN_OBJECT_RULES have already
 * established every type the shape check reads, wherever it appears
 * (clean-object.ts), so the analysis skips that check: ~0.2 M wasm instructions
 * on a three-container pod. The differential tests (pre-check on vs off) hold
 * the two answers to byte equality.
 */
export function withPrecheckFacts(options: AnalysisOptions): AnalysisOptions {
  return precheckRulesHeld() ? { ...options, typesVerified: true } : options;
}
