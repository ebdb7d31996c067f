import { describe, expect, it } from "vitest";
import { jsonDepthPortable, MAX_JSON_DEPTH, parseInput } from "../../src/kubewarden/input-guard.js";
import { type PolicyDefinition, type PolicyIO, runPolicy } from "../../src/kubewarden/policy.js";
import { accept, mutate, reject } from "../../src/kubewarden/protocol.js";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

function run(def: PolicyDefinition<{ strict: boolean }>, action: string, stdin: Uint8Array): Record<string, unknown> {
  const out: Uint8Array[] = [];
  const io: PolicyIO = { action: () => action, readStdin: () => stdin, writeStdout: (b) => out.push(b) };
  runPolicy(def, io);
  expect(out).toHaveLength(1);
  return JSON.parse(new TextDecoder().decode(out[0])) as Record<string, unknown>;
}

const policy: PolicyDefinition<{ strict: boolean }> = {
  parseSettings(raw) {
    if (typeof raw !== "object" || raw === null) return { ok: false, message: "settings must be an object" };
    const strict = (raw as { strict?: unknown }).strict ?? false;
    if (typeof strict !== "boolean") return { ok: false, message: "strict: expected a boolean" };
    return { ok: true, settings: { strict } };
  },
  validate(request, settings) {
    if (request.object?.metadata?.name === "boom") throw new Error("exploded");
    if (request.object?.metadata?.name === "mutate") return mutate({ ...request.object, spec: { x: 1 } }, { warnings: ["w"] });
    return settings.strict ? reject("strict says no") : accept();
  },
};
const request = (name: string) => ({ uid: "1", operation: "CREATE", object: { metadata: { name } } });

describe("runPolicy (protocol layer in plain Node)", () => {
  it("accepts, rejects and mutates with snake_case answers", () => {
    expect(run(policy, "validate", enc({ request: request("a"), settings: {} }))).toEqual({ accepted: true });
    expect(run(policy, "validate", enc({ request: request("a"), settings: { strict: true } }))).toEqual({
      accepted: false,
      message: "strict says no",
    });
    const m = run(policy, "validate", enc({ request: request("mutate") }));
    expect(m.mutated_object).toEqual({ metadata: { name: "mutate" }, spec: { x: 1 } });
    expect(m.warnings).toEqual(["w"]);
  });

  it("answers validate-settings with valid / valid:false and the reason", () => {
    expect(run(policy, "validate-settings", enc({ strict: true }))).toEqual({ valid: true });
    expect(run(policy, "validate-settings", enc({ strict: "yes" }))).toEqual({ valid: false, message: "strict: expected a boolean" });
  });

  it("rejects validate when the settings are bad, naming the settings error", () => {
    const r = run(policy, "validate", enc({ request: request("a"), settings: { strict: 1 } }));
    expect(r).toEqual({ accepted: false, message: "invalid settings: strict: expected a boolean" });
  });

  it("turns an exception into a rejection that carries its message", () => {
    expect(run(policy, "validate", enc({ request: request("boom") }))).toEqual({ accepted: false, message: "policy error: exploded" });
  });

  it.each([
    ["", "empty input"],
    ["{", "not valid JSON"],
    ["42", "expected a JSON object"],
    ["[]", "expected a JSON object"],
    ["{}", '"request" field is missing'],
    ['{"request": 3}', '"request" must be an AdmissionRequest object'],
    ['{"request": {"object": "x"}}', '"request.object" must be an object or null'],
  ])("rejects malformed validate input %j with a message saying what was wrong", (input, expected) => {
    const r = run(policy, "validate", enc(input));
    expect(r.accepted).toBe(false);
    expect(r.message).toContain(expected);
  });

  it("answers settings errors in the settings shape", () => {
    const r = run(policy, "validate-settings", enc("not json"));
    expect(r.valid).toBe(false);
    expect(r.message).toContain("not valid JSON");
  });

  it("rejects an unknown action", () => {
    const r = run(policy, "mutate-everything", enc("{}"));
    expect(r).toEqual({ accepted: false, message: 'unknown action "mutate-everything": expected "validate" or "validate-settings"' });
  });

  it("refuses input nested deeper than the limit before parsing it", () => {
    const deep = "[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1);
    const r = run(policy, "validate", enc(deep));
    expect(r.message).toContain("nested too deeply");
    const ok = "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH);
    expect(parseInput(enc(ok)).ok).toBe(true);
  });
});

describe("jsonDepthPortable", () => {
  it.each([
    ["{}", 1],
    ['{"a":[1,{"b":[]}]}', 4],
    ['"[[[["', 0],
    ['["\\"[[["]', 1],
    ['{"a":"\\\\"}', 1],
    ["[[[", 3],
  ])("%s has depth %i", (text, depth) => {
    expect(jsonDepthPortable(enc(text), 100)).toBe(depth);
  });
  it("stops counting past the limit", () => {
    expect(jsonDepthPortable(enc("[".repeat(1000)), 10)).toBe(11);
  });
});
