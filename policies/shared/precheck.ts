/**
 * The native pre-check both probe policies declare: a request whose workload
 * the analysis provably has nothing to say about, with default settings, is
 * accepted by the glue without entering JS (see src/kubewarden/native-precheck.ts
 * and src/analysis/clean-object.ts for why each condition is there).
 */
import { CLEAN_OBJECT_RULES, CLEAN_STRING_LIMITS, LOOPBACK_TRIGGERS } from "../../src/analysis/clean-object.js";
import { declareNativePrecheck, INPUT_GUARD_LIMITS, type NativePrecheck, VALIDATE_REQUEST_RULES } from "../../src/kubewarden/native-precheck.js";
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
