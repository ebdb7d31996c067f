/**
 * The policy entry: reads stdin, dispatches on policyAction(), writes exactly one
 * JSON answer on stdout. Whatever happens — bad JSON, a throwing policy, bad
 * settings — the answer is well-formed and the process exits 0: a trap or a
 * non-zero exit would become a 500 that blocks every matching request.
 */
import { readFileSync, writeFileSync } from "javy/fs";
import { clipText, MAX_ANSWER_BYTES } from "./bounded.js";
import { errorMessage, parseInput } from "./input-guard.js";
import { editJsonValue, type EditResult, type JsonEdit, locateValues } from "./json-text.js";
import {
  accept,
  type AdmissionRequest,
  RawJson,
  reject,
  settingsInvalid,
  settingsValid,
  type SettingsValidationResponse,
  type ValidationResponse,
} from "./protocol.js";

export type SettingsResult<S> = { ok: true; settings: S } | { ok: false; message: string };

/** What a policy can read besides the parsed request. */
export interface ValidationContext {
  /**
   * `request.object` exactly as it arrived (JSON text), or null when absent.
   * A mutating policy edits this text (json-text.ts) so untouched values keep
   * their exact spelling.
   */
  objectText(): string | null;
  /**
   * `request.object`'s text with `edits` spliced in (paths relative to the
   * object), found in the same single scan of the request text that locates
   * the object; not built when it would be longer than `maxLength` characters.
   */
  editObject(edits: readonly JsonEdit[], maxLength?: number): EditResult;
}

export interface PolicyDefinition<S> {
  /** Validate raw settings (JSON from the policy's spec.settings); never throws on bad input. */
  parseSettings(raw: unknown): SettingsResult<S>;
  /** Decide on one admission request. */
  validate(request: AdmissionRequest, settings: S, context: ValidationContext): ValidationResponse;
  /**
   * What an error of the policy's own (an exception, out of memory) answers on
   * validate. "reject" (the default) refuses the request with the error;
   * "accept" lets it through with the error as a warning: a mutating policy
   * must never refuse a request because of its own limits.
   */
  onOwnError?: "reject" | "accept";
}

export interface PolicyIO {
  action(): string;
  readStdin(): Uint8Array;
  writeStdout(bytes: Uint8Array): void;
}

type Answer = ValidationResponse | SettingsValidationResponse;

declare const __lpp_register: ((fn: () => void) => void) | undefined;
declare function policyAction(): string;
declare const __lpp_readStdinWhole: (() => Uint8Array | null) | undefined;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Why a validate payload is not a ValidationRequest, or null when it is one. */
export function requestShapeProblem(input: unknown): string | null {
  if (!isRecord(input)) return `expected a JSON object {"request": …, "settings": …}, got ${describe(input)}`;
  const request = input.request;
  if (request === undefined) return 'the "request" field is missing';
  if (!isRecord(request)) return `"request" must be an AdmissionRequest object, got ${describe(request)}`;
  if (request.object !== undefined && request.object !== null && !isRecord(request.object))
    return `"request.object" must be an object or null, got ${describe(request.object)}`;
  return null;
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** One evaluation: pure with respect to `io`, so it is testable in plain Node. */
export function runPolicy<S>(definition: PolicyDefinition<S>, io: PolicyIO): void {
  let action = "validate";
  let answer: Answer;
  try {
    action = io.action();
    answer = dispatch(definition, action, io.readStdin());
  } catch (e) {
    answer = ownError(definition, action, `policy error: ${errorMessage(e)}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new TextEncoder().encode(serializeAnswer(answer));
    // The last guard on the answer's size: policies keep their answers small
    // themselves; this only catches what they missed.
    if (bytes.length > MAX_ANSWER_BYTES) bytes = new TextEncoder().encode(JSON.stringify(oversized(definition, action, answer, bytes.length)));
  } catch (e) {
    bytes = new TextEncoder().encode(JSON.stringify(ownError(definition, action, `policy error: cannot serialise the answer: ${errorMessage(e)}`)));
  }
  io.writeStdout(bytes);
}

/** The answer as JSON; a RawJson mutated_object goes in as the exact text it holds. */
export function serializeAnswer(answer: Answer): string {
  const raw = (answer as ValidationResponse).mutated_object;
  if (!(raw instanceof RawJson)) return JSON.stringify(answer);
  const { mutated_object: _m, ...rest } = answer as ValidationResponse;
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},"mutated_object":${raw.text}}`;
}

/** The size of an answer on stdout, in bytes. */
export function answerBytes(answer: Answer): number {
  return new TextEncoder().encode(serializeAnswer(answer)).length;
}

/** Characters of a rejection's message kept when its answer was too large. */
const OVERSIZED_MESSAGE_CHARS = 16 * 1024;

/**
 * A small answer standing in for one over MAX_ANSWER_BYTES. A rejection stays a
 * rejection with its code and the start of its message (its audit annotations
 * are dropped); anything else is the policy's own error: refused (reject
 * policies, validate-settings) or accepted with a warning (onOwnError "accept":
 * no mutation, as nothing of the oversized answer is kept).
 */
function oversized<S>(definition: PolicyDefinition<S>, action: string, answer: Answer, bytes: number): Answer {
  const what = `answer too large: ${bytes} bytes, more than the limit of ${MAX_ANSWER_BYTES}`;
  const response = answer as ValidationResponse;
  if (action === "validate" && response.accepted === false) {
    const message = response.message ?? "";
    const kept = clipText(message, OVERSIZED_MESSAGE_CHARS);
    const dropped = [...(kept === message ? [] : ["message shortened"]), ...(response.audit_annotations ? ["audit annotations left out"] : [])];
    return reject(`${kept}\n(${what}${dropped.length > 0 ? `: ${dropped.join(", ")}` : ""})`, response.code === undefined ? {} : { code: response.code });
  }
  return ownError(definition, action, what);
}

function failure(action: string, message: string): Answer {
  return action === "validate-settings" ? settingsInvalid(message) : reject(message);
}

function ownError<S>(definition: PolicyDefinition<S>, action: string, message: string): Answer {
  if (action === "validate" && definition.onOwnError === "accept") return accept({ warnings: [`not checked: ${message}`] });
  return failure(action, message);
}

/**
 * The parsed request, referenced until the instance ends: otherwise QuickJS
 * frees the whole tree, object by object, when dispatch returns (0.1–0.25M wasm
 * instructions on a 7 KB request), memory the host discards with the instance.
 */
let keptAlive: unknown = null;

function dispatch<S>(definition: PolicyDefinition<S>, action: string, stdin: Uint8Array): Answer {
  if (action !== "validate" && action !== "validate-settings")
    return reject(`unknown action ${JSON.stringify(action)}: expected "validate" or "validate-settings"`);
  const parsed = parseInput(stdin);
  if (!parsed.ok) return failure(action, parsed.message);
  keptAlive = parsed;

  if (action === "validate-settings") {
    const result = definition.parseSettings(parsed.value ?? {});
    return result.ok ? settingsValid() : settingsInvalid(result.message);
  }
  const problem = requestShapeProblem(parsed.value);
  if (problem !== null) return reject(`invalid ValidationRequest: ${problem}`);
  const { request, settings } = parsed.value as { request: AdmissionRequest; settings?: unknown };
  const result = definition.parseSettings(settings ?? {});
  if (!result.ok) return reject(`invalid settings: ${result.message}`);
  let objectText: string | null | undefined;
  const context: ValidationContext = {
    objectText() {
      if (objectText === undefined) {
        const range = request.object == null ? null : locateValues(parsed.text, [["request", "object"]])?.[0];
        objectText = range ? parsed.text.slice(range.valueStart, range.valueEnd) : null;
      }
      return objectText;
    },
    editObject(edits, maxLength) {
      if (request.object == null) return { ok: false, message: "the request has no object" };
      return editJsonValue(parsed.text, ["request", "object"], edits, maxLength);
    },
  };
  return definition.validate(request, result.settings, context);
}

/** Javy-style IO: stdin/stdout through javy/fs, the action from the host's argv. */
export const javyIO: PolicyIO = {
  action: () => policyAction(),
  // The glue reads stdin natively; taking it in one exact-size buffer saves the
  // 1 KiB doubling reads (and copies) of readFileSync. Plain Javy: readFileSync.
  readStdin: () => (typeof __lpp_readStdinWhole === "function" ? __lpp_readStdinWhole() : null) ?? readFileSync(0),
  writeStdout: (bytes) => writeFileSync(1, bytes),
};

/**
 * Declare the module's policy. Under this project's toolchain the top level runs
 * at build time (no IO allowed), so the run is registered for `_start`; under a
 * plain Javy build there is no registrar and the policy runs immediately.
 */
export function definePolicy<S>(definition: PolicyDefinition<S>): void {
  const run = () => runPolicy(definition, javyIO);
  if (typeof __lpp_register === "function") __lpp_register(run);
  else run();
}
