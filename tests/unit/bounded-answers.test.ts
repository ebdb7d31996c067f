/**
 * Answers are bounded whatever the request holds (issue 9), in plain Node:
 * the helpers, the JSON edit that is not built when too long, and runPolicy's
 * last guard on the answer's size. Through the built modules:
 * tests/e2e/bad-input.test.ts and tests/e2e/fuel-budget.test.ts.
 */
import { describe, expect, it } from "vitest";
import { clipText, clipWarnings, listLines, MAX_ANSWER_BYTES, MAX_LISTED_WARNINGS, MAX_WARNING_CHARS, utf8Length } from "../../src/kubewarden/bounded.js";
import { editJsonText, editJsonValue } from "../../src/kubewarden/json-text.js";
import { type PolicyDefinition, runPolicy } from "../../src/kubewarden/policy.js";
import { accept, mutate, RawJson, reject, type ValidationResponse } from "../../src/kubewarden/protocol.js";

describe("bounded text", () => {
  it("clips with the original length and never splits a surrogate pair", () => {
    expect(clipText("abcdef", 6)).toBe("abcdef");
    expect(clipText("abcdef", 3)).toBe("abc…(6 characters)");
    expect(clipText("ab😀cd", 3)).toBe("ab…(6 characters)");
    expect(clipWarnings(["x".repeat(MAX_WARNING_CHARS + 1)])[0]).toBe(`${"x".repeat(MAX_WARNING_CHARS)}…(${MAX_WARNING_CHARS + 1} characters)`);
  });
  it("lists at most MAX_LISTED_WARNINGS lines, then one for the rest", () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const lines = listLines(items, (i) => `#${i}`, (rest) => `… and ${rest.length} more from #${rest[0]}`);
    expect(lines).toHaveLength(MAX_LISTED_WARNINGS + 1);
    expect(lines.at(-1)).toBe(`… and ${100 - MAX_LISTED_WARNINGS} more from #${MAX_LISTED_WARNINGS}`);
    expect(listLines([1, 2], String, () => "never")).toEqual(["1", "2"]);
  });
  it("counts UTF-8 bytes", () => {
    expect(utf8Length("aé😀")).toBe(1 + 2 + 4);
  });
});

describe("JSON edits with a length limit", () => {
  const request = '{"request": {"uid": "u", "object": {"n": 9007199254740993, "p": {"x": 1}, "q": [1e400, -0]}, "oldObject": {"p": 0}}}';
  it("edits the value at a path in the same scan that finds it, and returns only its text", () => {
    expect(editJsonValue(request, ["request", "object"], [{ path: ["p"], value: { exec: true } }])).toEqual({ ok: true, text: '{"n": 9007199254740993, "p": {"exec":true}, "q": [1e400, -0]}' });
    expect(editJsonValue(request, ["request", "object"], [{ path: ["p"] }])).toEqual({ ok: true, text: '{"n": 9007199254740993, "q": [1e400, -0]}' });
    expect(editJsonValue(request, ["request", "object"], [{ path: ["n"] }])).toEqual({ ok: true, text: '{"p": {"x": 1}, "q": [1e400, -0]}' });
    expect(editJsonValue(request, ["request", "object"], [])).toEqual({ ok: true, text: '{"n": 9007199254740993, "p": {"x": 1}, "q": [1e400, -0]}' });
    expect(editJsonValue(request, ["request", "nope"], []).ok).toBe(false);
    expect(editJsonValue(request, ["request", "object"], [{ path: ["nope"], value: 1 }]).ok).toBe(false);
  });
  it("reports the length instead of building a result longer than the limit", () => {
    const exact = editJsonValue(request, ["request", "object"], [{ path: ["p"], value: "x".repeat(100) }]);
    expect(exact.ok).toBe(true);
    const length = exact.ok ? exact.text.length : 0;
    expect(editJsonValue(request, ["request", "object"], [{ path: ["p"], value: "x".repeat(100) }], length).ok).toBe(true);
    expect(editJsonValue(request, ["request", "object"], [{ path: ["p"], value: "x".repeat(100) }], length - 1)).toEqual({ ok: false, message: `the edited text would be ${length} characters, more than ${length - 1}`, length });
    expect(editJsonText('{"a": 1}', [], 3)).toMatchObject({ ok: false, length: 8 });
  });
});

describe("runPolicy's last guard: an answer over MAX_ANSWER_BYTES is replaced by a small one saying so", () => {
  const run = (definition: PolicyDefinition<null>, action = "validate") => {
    const out: Uint8Array[] = [];
    const stdin = new TextEncoder().encode(action === "validate" ? JSON.stringify({ request: { uid: "u", operation: "CREATE", object: { kind: "Pod" } }, settings: {} }) : "{}");
    runPolicy(definition, { action: () => action, readStdin: () => stdin, writeStdout: (b) => out.push(b) });
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    return JSON.parse(new TextDecoder().decode(out[0])) as ValidationResponse & { valid?: boolean };
  };
  const answering = (answer: ValidationResponse, onOwnError?: "accept" | "reject"): PolicyDefinition<null> => ({
    parseSettings: () => ({ ok: true, settings: null }),
    validate: () => answer,
    ...(onOwnError ? { onOwnError } : {}),
  });
  // Control characters are escaped as \u00XX: 6 bytes of answer per character.
  const huge = "\u0001".repeat(MAX_ANSWER_BYTES / 6 + 1);

  it("a rejection keeps its decision, code and the start of its message; audit annotations go", () => {
    const r = run(answering(reject(`head ${huge}`, { code: 403, audit_annotations: { findings: huge } })));
    expect(r.accepted).toBe(false);
    expect(r.code).toBe(403);
    expect(r.message).toMatch(/^head \u0001+…\(\d+ characters\)\n\(answer too large: \d+ bytes, more than the limit of 1048576: message shortened, audit annotations left out\)$/);
    expect(r.audit_annotations).toBeUndefined();
  });
  it("a rejection too large only through its annotations keeps its whole message", () => {
    const r = run(answering(reject("short", { audit_annotations: { findings: huge } })));
    expect(r.message).toMatch(/^short\n\(answer too large: \d+ bytes, more than the limit of 1048576: audit annotations left out\)$/);
  });
  it("an oversized acceptance of a reject policy is a refusal (its own error)", () => {
    const r = run(answering(accept({ warnings: [huge] })));
    expect(r).toEqual({ accepted: false, message: expect.stringMatching(/^answer too large: \d+ bytes, more than the limit of 1048576$/) });
  });
  it("an oversized mutation of a policy that never refuses is an acceptance with a warning and no mutation", () => {
    const r = run(answering(mutate(new RawJson(JSON.stringify({ kind: "Pod", big: "x".repeat(MAX_ANSWER_BYTES) }))), "accept"));
    expect(r.accepted).toBe(true);
    expect(r.mutated_object).toBeUndefined();
    expect(r.warnings).toEqual([expect.stringMatching(/^not checked: answer too large: \d+ bytes, more than the limit of 1048576$/)]);
  });
  it("an answer of exactly the limit goes out as it is", () => {
    const fill = (n: number) => mutate(new RawJson(JSON.stringify({ s: "y".repeat(n) })));
    const overhead = new TextEncoder().encode(JSON.stringify({ accepted: true, mutated_object: { s: "" } })).length;
    const r = run(answering(fill(MAX_ANSWER_BYTES - overhead), "accept"));
    expect((r.mutated_object as { s: string }).s).toHaveLength(MAX_ANSWER_BYTES - overhead);
    expect(run(answering(fill(MAX_ANSWER_BYTES - overhead + 1), "accept")).mutated_object).toBeUndefined();
  });
  it("validate-settings answers too large are invalid settings", () => {
    const definition: PolicyDefinition<null> = { parseSettings: () => ({ ok: false, message: huge }), validate: () => accept() };
    expect(run(definition, "validate-settings")).toEqual({ valid: false, message: expect.stringMatching(/^answer too large: /) });
  });
});
