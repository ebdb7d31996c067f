/**
 * Declaring a native pre-check: a fast path the glue runs on the raw stdin
 * bytes before any JS, for requests whose answer a policy can prove from the
 * bytes alone (in practice: clean workloads, most of a cluster's traffic).
 *
 * The declaration is data: the glue checks that stdin is ONE well-formed JSON
 * object (strict RFC 8259, valid UTF-8), that every member whose key has a rule
 * holds a value of an allowed type (and required keys are present), and that
 * the strings under `scan` rules contain no trigger text. If all holds it writes
 * `answer` and returns; otherwise the policy runs in JS as usual. Falling back is
 * always safe, so every rule errs towards falling back: an unknown shape, any
 * escape in a key (`\u0061`, even `\/`: JSON.parse reads the key decoded, which
 * may be a rule's), a trigger anywhere in a scanned string (of an input
 * that has a member arming triggers, when a rule arms them).
 *
 * Soundness is the policy's promise, proved by differential tests that run the
 * same module built with the pre-check on and off (`nativePrecheck: false`).
 * Under a plain Javy build there is no glue: the declaration is a no-op.
 */
import { MAX_INPUT_BYTES, MAX_JSON_DEPTH } from "./input-guard.js";

export type PrecheckType = "object" | "empty-object" | "array" | "string" | "number" | "port" | "boolean" | "null";

/**
 * What a key means for named references, which the pre-check resolves itself
 * (a probe naming a container port, say). An element of a `scope-list` array is
 * a scope; a `name-list` member of a scope holds objects whose `name` member is
 * a name the scope declares; a `reference` member anywhere inside a scope may
 * hold a string (1..63 bytes of [a-z0-9-], starting with a letter) that must
 * equal one of those names byte for byte, or the request falls back; a
 * `no-references` member's object may not hold a reference itself. A second
 * name list in one scope, a second name in one holder (JSON.parse would keep
 * only the last), a scope inside a scope, a reference outside any scope, or
 * more than MAX_SCOPE_NAMES names or references in a scope also fall back.
 */
export type PrecheckRole = "scope-list" | "name-list" | "name" | "reference" | "no-references";

export interface PrecheckRule {
  /** The member's key, as plain ASCII. */
  key: string;
  /** Only members of objects at this depth (the top-level object is depth 1); omitted: any depth. */
  depth?: number;
  /** Allowed value types; `port` is an integer literal 1..65535; an empty list forbids the key. */
  types: readonly PrecheckType[];
  /** For array values: allowed element types. */
  elements?: readonly PrecheckType[];
  /** A key that must be present in the value (an object) or in every element (an array of objects). */
  requiredKey?: string;
  /** For array values: more elements than this (1..65535) send the request to JS. */
  maxElements?: number;
  /** Scan the value's strings (and its array elements' strings) for triggers. */
  scan?: boolean;
  /** Its part in named references (a `reference` also needs `string` among its types). */
  role?: PrecheckRole;
  /**
   * Triggers count only where such a member exists: when some rule arms, a trigger
   * sends the request to JS only if the input also has a member with an arming key
   * (before or after the trigger, anywhere). When no rule arms, every trigger counts.
   */
  armsTriggers?: boolean;
}

export interface NativePrecheck {
  /** Exactly what the policy's JS would write on stdout for every request the pre-check passes. */
  answer: string;
  rules: readonly PrecheckRule[];
  /** A key the top-level object must have. */
  requiredTopLevelKey?: string;
  /** Case-insensitive ASCII texts that, anywhere in a scanned string, send the request to JS (see `armsTriggers`). */
  triggers: readonly string[];
  /** Characters ignored while matching triggers (shell quotes: `1'2'7` is still 127). */
  transparent: string;
  /** A run of more decimal digits than this in a scanned string sends the request to JS. */
  maxDigitRun: number;
  /** More colons than this in one scanned string sends the request to JS. */
  maxColons: number;
  maxDepth: number;
  maxInputBytes: number;
}

declare const __lpp_declarePrecheck: ((config: NativePrecheck) => boolean) | undefined;
declare const __lpp_precheckRulesHeld: (() => boolean) | undefined;

/** Install the pre-check (at build time, before the snapshot). False when the glue has none (or it is built off). */
export function declareNativePrecheck(config: NativePrecheck): boolean {
  return typeof __lpp_declarePrecheck === "function" ? __lpp_declarePrecheck(config) : false;
}

/**
 * Did this request's pre-check find every rule satisfied, and send the request
 * to JS only because a scanned string held trigger text? Then the JS may rely on
 * what the rules say (the types, required keys, resolvable references), never on
 * the absence of triggers. False wherever no pre-check ran (other actions,
 * settings other than the default, a Javy build, `nativePrecheck: false`), so
 * relying on it only ever skips work the JS would find nothing in.
 */
export function precheckRulesHeld(): boolean {
  return typeof __lpp_precheckRulesHeld === "function" && __lpp_precheckRulesHeld();
}

/**
 * The protocol's own conditions for a validate request to reach the policy's
 * decision unchanged: a `request` object, default settings (`{}`, null or
 * absent), and `request.object` an object or null.
 */
export const VALIDATE_REQUEST_RULES: readonly PrecheckRule[] = [
  { key: "request", depth: 1, types: ["object"] },
  { key: "settings", depth: 1, types: ["empty-object", "null"] },
  { key: "object", depth: 2, types: ["object", "null"] },
];

/** The limits the JS input guard enforces: past them the JS answer is an error, so fall back. */
export const INPUT_GUARD_LIMITS = { maxDepth: MAX_JSON_DEPTH, maxInputBytes: MAX_INPUT_BYTES } as const;
