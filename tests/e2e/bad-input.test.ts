/**
 * Bad input never crashes a policy. Every case runs through BOTH built modules
 * exactly as policy-server runs them and must give: exit 0, no trap, exactly one
 * JSON document on stdout, and (where something is wrong) a message saying what.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_CHECKED_CONTAINERS, MAX_FINDING_RECORDS_CHARS } from "../../src/analysis/reachability.js";
import { BIG_NUMBERS, shapeCase, WORST_KNOBS } from "../../src/bench/worst-case.js";
import { MAX_ANSWER_BYTES, MAX_LISTED_WARNINGS } from "../../src/kubewarden/bounded.js";
import { MAX_INPUT_BYTES } from "../../src/kubewarden/input-guard.js";
import { WORK_BUDGET_HARD_NUMBERS, WORK_BUDGET_WARNING } from "../../policies/shared/work-budget.js";
import { ROOT, runRaw, type RawRun } from "../helpers.js";

const POLICIES = ["reject-loopback-probes", "rewrite-loopback-probes"] as const;
const enc = (s: string) => new TextEncoder().encode(s);
const broken = JSON.parse(readFileSync(join(ROOT, "policies", "reject-loopback-probes", "test_data", "prometheus-listenlocal-broken.json"), "utf8"));
const wrap = (object: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ request: { ...broken, object, ...extra }, settings: {} });
const statefulSet = (spec: unknown) => ({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "bad", namespace: "ns" }, spec: { template: { spec } } });

const answerBytes = (r: RawRun) => r.stdout.length;
/** Exit 0, no trap, one JSON document (runRaw parses it), at most MAX_ANSWER_BYTES, no "policy error". */
function wellFormed(r: RawRun): void {
  expect(r.trap).toBeUndefined();
  expect(r.exitCode).toBe(0);
  expect(typeof r.json).toBe("object");
  expect(answerBytes(r)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
  expect(r.text).not.toContain("policy error");
}
/** The rewrite's warning when the rewritten object would not fit in the answer. */
const TOO_LARGE = /: not rewritten \(the answer with the rewritten object would be (at least )?\d+ bytes, more than the limit of 1048576\); the probes below can never succeed$/;
const answer = (r: RawRun) => ({ accepted: r.json.accepted, message: String(r.json.message ?? ""), warnings: (r.json.warnings as string[] | undefined) ?? [] });

describe.each(POLICIES)("%s: bad input", (policy) => {
  const validate = (stdin: string | Uint8Array) => runRaw(policy, "validate", stdin);

  it.each([
    ["empty stdin", "", "empty input"],
    ["whitespace only", "  \n", "not valid JSON"],
    ["non-JSON", "<xml/>", "not valid JSON"],
    ["truncated JSON", '{"request": {"uid": "x"', "not valid JSON"],
    ["a number", "42", "expected a JSON object"],
    ["null", "null", "expected a JSON object"],
    ["a list", "[]", "expected a JSON object"],
    ["a string", '"hello"', "expected a JSON object"],
    ["request missing", '{"settings": {}}', '"request" field is missing'],
    ["request not an object", '{"request": [1]}', '"request" must be an AdmissionRequest object'],
    ["object of a wrong type", '{"request": {"uid": "u", "object": 7}}', '"request.object" must be an object or null'],
    ["nesting 10,000 levels deep", `{"request": {"uid": "u", "object": ${"[".repeat(10_000)}${"]".repeat(10_000)}}}`, "nested too deeply"],
    ["invalid settings", JSON.stringify({ request: broken, settings: { nope: true } }), 'invalid settings: settings: unknown key "nope"'],
  ])("%s → one JSON rejection saying what was wrong", async (_label, stdin, message) => {
    const r = await validate(stdin);
    wellFormed(r);
    expect(answer(r).accepted).toBe(false);
    expect(answer(r).message).toContain(message);
  });

  it("input over the size limit → rejection naming the limit", async () => {
    const r = await validate(new Uint8Array(MAX_INPUT_BYTES + 1).fill(0x20));
    wellFormed(r);
    expect(answer(r).message).toContain(`input too large: ${MAX_INPUT_BYTES + 1} bytes (limit ${MAX_INPUT_BYTES})`);
  });

  it.each([
    ["DELETE (object null)", wrap(null, { operation: "DELETE", oldObject: broken.object })],
    ["an unknown kind", wrap({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { containers: "anything" } })],
    ["a workload without a pod template", wrap({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } })],
    ["no operation and no uid", JSON.stringify({ request: { object: statefulSet({ containers: [] }) } })],
  ])("%s → accepted, nothing to check", async (_label, stdin) => {
    const r = await validate(stdin);
    wellFormed(r);
    expect(answer(r).accepted).toBe(true);
    expect(r.json).not.toHaveProperty("mutated_object");
  });

  it.each([
    ["containers not a list", { containers: "nginx" }, "spec.template.spec.containers must be a list, got a string"],
    ["a container that is a number", { containers: [3] }, "spec.template.spec.containers[0] must be an object, got a number"],
    ["ports as strings", { containers: [{ name: "a", ports: ["8080"] }] }, "spec.template.spec.containers[0].ports[0] must be an object, got a string"],
    ["containerPort as a string", { containers: [{ name: "a", ports: [{ containerPort: "8080" }] }] }, "containers[0].ports[0].containerPort must be a number, got a string"],
    ["a probe that is a number", { containers: [{ name: "a", livenessProbe: 5 }] }, "containers[0].livenessProbe must be an object, got a number"],
    ["args with non-strings", { containers: [{ name: "a", args: ["--listen-address", 8080, null] }] }, "containers[0].args[1] must be a string, got a number"],
    ["env not a list", { containers: [{ name: "a", env: { A: "1" } }] }, "containers[0].env must be a list, got an object"],
    ["httpGet.port an object", { containers: [{ name: "a", readinessProbe: { httpGet: { port: { n: 1 } } } }] }, "readinessProbe.httpGet.port must be a number or a port name, got an object"],
    ["hostNetwork a string", { hostNetwork: "yes", containers: [] }, "spec.template.spec.hostNetwork must be a boolean, got a string"],
    ["container name missing", { containers: [{ image: "x" }] }, "containers[0].name must be a string, got nothing"],
  ])("wrong types: %s → the path and the expected type", async (_label, spec, message) => {
    const r = await validate(wrap(statefulSet(spec)));
    wellFormed(r);
    const a = answer(r);
    if (policy === "reject-loopback-probes") {
      expect(a.accepted).toBe(false);
      expect(r.json.code).toBe(400);
      expect(a.message).toContain("StatefulSet ns/bad: cannot check the probes of a malformed object");
      expect(a.message).toContain(message);
    } else {
      expect(a.accepted).toBe(true);
      expect(r.json).not.toHaveProperty("mutated_object");
      expect(a.warnings.join("\n")).toContain(message);
    }
  });

  it("many wrong types → the first five and an ellipsis", async () => {
    const r = await validate(wrap(statefulSet({ containers: Array.from({ length: 20 }, () => 1) })));
    wellFormed(r);
    const text = answer(r).message + answer(r).warnings.join("");
    expect(text.match(/must be an object/g)).toHaveLength(5);
    expect(text).toContain("; …");
  });

  /**
   * Rejected, naming how many probes; or rewritten (`mutated`) or left alone because the
   * rewritten object would not fit in the answer, with at most MAX_LISTED_WARNINGS lines
   * about single probes and one saying how many more.
   */
  const expectFindingsOrRewrite = (r: RawRun, count: number, mutated = true) => {
    wellFormed(r);
    if (policy === "reject-loopback-probes") {
      expect(r.json.accepted).toBe(false);
      expect(answer(r).message).toContain(`${count} probe${count === 1 ? "" : "s"} can never succeed`);
      return;
    }
    expect(r.json.accepted).toBe(true);
    expect(r.json.mutated_object !== undefined).toBe(mutated);
    const warnings = answer(r).warnings;
    expect(warnings).toHaveLength(Math.min(count, MAX_LISTED_WARNINGS + 1) + (mutated ? 0 : 1));
    if (!mutated) expect(warnings[0]).toMatch(TOO_LARGE);
    if (count > MAX_LISTED_WARNINGS)
      expect(warnings.at(-1)).toMatch(mutated ? new RegExp(`… and ${count - MAX_LISTED_WARNINGS} more probes \\(${count - MAX_LISTED_WARNINGS} rewritten to exec probes\\)$`) : new RegExp(`… and ${count - MAX_LISTED_WARNINGS} more probes that can never succeed$`));
  };

  it("a 5 MB object is evaluated normally", async () => {
    const object = structuredClone(broken.object);
    object.metadata.annotations = { big: "x".repeat(5 * 1024 * 1024) };
    const stdin = wrap(object);
    expect(stdin.length).toBeGreaterThan(5 * 1024 * 1024);
    expectFindingsOrRewrite(await validate(stdin), 2, false);
  });

  it("invalid UTF-8 is decoded with replacement characters, not a crash", async () => {
    const object = structuredClone(broken.object);
    object.metadata.annotations = { note: "MARK" };
    const text = wrap(object);
    const i = text.indexOf("MARK");
    const bytes = new Uint8Array([...enc(text.slice(0, i)), 0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80, ...enc(text.slice(i + 4))]);
    expectFindingsOrRewrite(await validate(bytes), 2);
  });

  it("huge strings in args are read", async () => {
    const spec = { containers: [{ name: "big", args: ["--listen-address=127.0.0.1:8080", `--junk=${"j".repeat(2 * 1024 * 1024)}`, "y ".repeat(200_000)], livenessProbe: { httpGet: { port: 8080 } } }] };
    expectFindingsOrRewrite(await validate(wrap(statefulSet(spec))), 1, false);
  });

  const loopbackContainers = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ name: `c${i}`, args: [`--listen-address=127.0.0.1:${10000 + (i % 50)}`], readinessProbe: { httpGet: { port: 10000 + (i % 50), path: "/" } } }));

  it("a request that would outlast policy-server's deadline is stopped by the work budget and let through with a warning", async () => {
    // One URL list of 280,000 loopback URLs (~6 MB): several seconds of analysis in QuickJS,
    // far past the budget on any machine; the glue interrupts it and writes the declared answer.
    const urls = Array.from({ length: 280_000 }, (_, i) => `http://127.0.0.1:${1 + (i % 60000)}`).join(",");
    const r = await validate(wrap(statefulSet({ containers: [{ name: "etcd", args: [`--listen-client-urls=${urls}`], livenessProbe: { httpGet: { port: 2379 } } }] })));
    wellFormed(r);
    expect(r.json).toEqual({ accepted: true, warnings: [WORK_BUDGET_WARNING] });
  });

  it(`more than ${WORK_BUDGET_HARD_NUMBERS} numbers JSON.parse must round exactly are answered before parsing, as past the work budget`, async () => {
    // int64-sized and exponent numbers cost QuickJS's JSON.parse ~0.1 M instructions each, and the parse cannot be interrupted.
    const numbers = (n: number) => `[${Array.from({ length: n }, (_, i) => (i % 2 ? "9007199254740993" : "1e400")).join(",")}]`;
    const broken = (n: number) => wrap(statefulSet({ containers: [{ name: "app", args: ["--listen-address=127.0.0.1:8080"], livenessProbe: { httpGet: { port: 8080 } } }] })).replace('"spec":{"template"', `"x-numbers":${numbers(n)},"spec":{"template"`);
    const over = await validate(broken(WORK_BUDGET_HARD_NUMBERS + 1));
    wellFormed(over);
    expect(over.json).toEqual({ accepted: true, warnings: [WORK_BUDGET_WARNING] });
    // At the limit the request is checked as usual.
    expectFindingsOrRewrite(await validate(broken(WORK_BUDGET_HARD_NUMBERS)), 1);
  });

  it(`up to ${MAX_CHECKED_CONTAINERS} containers are all checked`, async () => {
    expectFindingsOrRewrite(await validate(wrap(statefulSet({ containers: loopbackContainers(MAX_CHECKED_CONTAINERS) }))), MAX_CHECKED_CONTAINERS);
  });

  it("past the container limit the object is accepted unchecked, and the answer says so", async () => {
    const r = await validate(wrap(statefulSet({ containers: loopbackContainers(3000) })));
    wellFormed(r);
    expect(r.json.accepted).toBe(true);
    expect(answer(r).warnings).toEqual([`StatefulSet ns/bad: not checked: 3000 containers, more than the ${MAX_CHECKED_CONTAINERS} this policy checks in one pod`]);
  });

  it.each([
    ["a list", "[]", "settings: must be an object"],
    ["a number", "5", "settings: must be an object"],
    ["a string", '"x"', "settings: must be an object"],
    ["a wrong field type", '{"listenFlags": "listen-address"}', "listenFlags: must be a list"],
    ["an unknown key", '{"flags": []}', 'unknown key "flags"'],
    ["empty flag names", '{"extraListenFlags": [{"name": "--"}]}', "extraListenFlags[0].name"],
    ["non-JSON", "{", "not valid JSON"],
    ["empty", "", "empty input"],
  ])("validate-settings with %s → valid:false and why", async (_label, stdin, message) => {
    const r = await runRaw(policy, "validate-settings", stdin);
    wellFormed(r);
    expect(r.json.valid).toBe(false);
    expect(String(r.json.message)).toContain(message);
  });

  it("validate-settings accepts null as no settings, like {}", async () => {
    expect((await runRaw(policy, "validate-settings", "null")).json).toEqual({ valid: true });
  });
});

/**
 * Adversarial shapes measured in a review (issue 9): before the per-port index
 * and the message caps, the 31 KB request below answered 14.6 MB, the 63 KB one
 * ran out of memory, the 100 KB URL list too, and the env bomb drove the heap to
 * 512 MiB. Answers are bounded in bytes (deterministic; no clocks).
 */
describe.each(POLICIES)("%s: adversarial requests give bounded answers", (policy) => {
  const validate = (stdin: string) => runRaw(policy, "validate", stdin);
  const manyListeners = (n: number) =>
    statefulSet({ containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, args: ["--listen-address=127.0.0.1:8080"], readinessProbe: { httpGet: { port: 8080 } } })) });
  const bytes = answerBytes;
  /** The reject policy's answer stays far below the answer limit; the rewrite's carries the object it rewrites. */
  const bound = (_input: string) => (policy === "reject-loopback-probes" ? 128 * 1024 : MAX_ANSWER_BYTES);

  it.each([
    ["31 KB", 310],
    ["63 KB", 631],
  ])("%s of containers all binding one loopback port, each probing it", async (_label, n) => {
    const stdin = wrap(manyListeners(n));
    const r = await validate(stdin);
    wellFormed(r);
    expect(bytes(r)).toBeLessThanOrEqual(bound(stdin));
    if (policy === "reject-loopback-probes") {
      const message = answer(r).message;
      expect(message).toContain(`${n} probes can never succeed`);
      expect(message).toContain(`and ${n - 3} more`); // binds listed per probe
      expect(message).toContain(`… and ${n - 20} more probes`);
      expect(message.split("\n").filter((l) => l.startsWith("Fix: "))).toHaveLength(1);
      const records = JSON.parse(String((r.json.audit_annotations as Record<string, string>).findings)) as { binds: string[]; bindsOmitted: number }[];
      expect(records).toHaveLength(100);
      expect(records[0]!.binds).toHaveLength(3);
      expect(records[0]!.bindsOmitted).toBe(n - 3);
    } else {
      expect(r.json.accepted).toBe(true);
      expect(r.json.mutated_object).toBeDefined();
      const warnings = answer(r).warnings;
      expect(warnings).toHaveLength(MAX_LISTED_WARNINGS + 1);
      expect(warnings.at(-1)).toBe(`StatefulSet ns/bad: … and ${n - MAX_LISTED_WARNINGS} more probes (${n - MAX_LISTED_WARNINGS} rewritten to exec probes)`);
    }
  });

  it("a 100 KB --listen-client-urls list", async () => {
    const urls = Array.from({ length: 4700 }, () => "http://127.0.0.1:2379").join(",");
    const stdin = wrap(statefulSet({ containers: [{ name: "etcd", args: [`--listen-client-urls=${urls}`], livenessProbe: { httpGet: { port: 2379 } } }] }));
    expect(stdin.length).toBeGreaterThan(100 * 1024);
    const r = await validate(stdin);
    wellFormed(r);
    expect(bytes(r)).toBeLessThanOrEqual(policy === "reject-loopback-probes" ? 8 * 1024 : bound(stdin));
    if (policy === "reject-loopback-probes") expect(answer(r).message).toMatch(/--listen-client-urls=http:\/\/127\.0\.0\.1:2379,http.{0,120}…\(\d+ characters\) and 4699 more/);
  });

  it("the env expansion bomb Vi=$(Vi-1)$(Vi-1): accepted, no error, a small answer", async () => {
    const env = [{ name: "V0", value: "ab" }];
    for (let i = 1; i < 40; i++) env.push({ name: `V${i}`, value: `$(V${i - 1})$(V${i - 1})` });
    for (const container of [
      { name: "bomb", env },
      { name: "bomb", env: [...env, { name: "LISTEN_ADDRESS", value: "$(V39)" }], args: ["--listen-address=$(V39)"], livenessProbe: { httpGet: { port: 8080 } } },
    ]) {
      const r = await validate(wrap(statefulSet({ containers: [container] })));
      wellFormed(r);
      expect(r.json.accepted).toBe(true);
      expect(bytes(r)).toBeLessThan(1024);
    }
  });

  it("a 60,000-character container name against many-* patterns", async () => {
    const containers = [5_000, 60_000].map((n) => ({ name: "a".repeat(n), args: ["--listen-address=127.0.0.1:8080"], livenessProbe: { httpGet: { port: 8080 } } }));
    const settings = { includeContainers: ["*a*a*a*b", "*config*reloader*", `${"*a".repeat(40)}*c`] };
    const r = await validate(JSON.stringify({ request: { ...broken, object: statefulSet({ containers }) }, settings }));
    wellFormed(r);
    expect(r.json.accepted).toBe(true); // no pattern matches: nothing in scope
    expect(r.json).not.toHaveProperty("mutated_object");
    const matching = await validate(JSON.stringify({ request: { ...broken, object: statefulSet({ containers }) }, settings: { includeContainers: ["*a*a*a*a"] } }));
    wellFormed(matching);
    expect(bytes(matching)).toBeLessThanOrEqual(bound(JSON.stringify(containers)));
    if (policy === "reject-loopback-probes") expect(answer(matching).message).toContain("…(60000 characters)");
  });

  it.each(["toString", "__proto__", "constructor", "hasOwnProperty"])("kind %j holding a pod spec with loopback probes: nothing to check", async (kind) => {
    const object = { apiVersion: "v1", kind, metadata: { name: "x", namespace: "ns" }, spec: manyListeners(3).spec.template.spec };
    const r = await validate(JSON.stringify({ request: { ...broken, kind: { group: "", version: "v1", kind }, object }, settings: {} }));
    wellFormed(r);
    expect(r.json.accepted).toBe(true);
    expect(r.json).not.toHaveProperty("mutated_object");
  });

  it("int64 beyond 2^53, 1e400 and -0 in every container stay as written when the probes next to them are rewritten", async () => {
    const { stdin, units } = shapeCase("big-numbers", 40 * 1024, { ...WORST_KNOBS, probes: 1 });
    const r = await runRaw(policy, "validate", stdin);
    wellFormed(r);
    if (policy === "reject-loopback-probes") {
      expect(answer(r).message).toContain(`${units} probes can never succeed`);
      return;
    }
    const mutated = r.text.slice(r.text.indexOf('"mutated_object":'));
    expect(mutated.split(`"runAsUser":${BIG_NUMBERS.big}`)).toHaveLength(units + 1);
    expect(mutated.split(`"runAsGroup":${BIG_NUMBERS.huge}`)).toHaveLength(units + 1);
    expect(mutated.split(`"x-zero":${BIG_NUMBERS.negativeZero}}`)).toHaveLength(units + 1);
    expect(mutated).toContain(`"terminationGracePeriodSeconds":${BIG_NUMBERS.big}`);
    expect(mutated.split('"exec":{"command":["sh","-c"')).toHaveLength(units + 1);
  });

  /** One failing probe next to an annotation of `filler`: the object is about as large as the filler. */
  const nearTheLimit = (filler: string) => {
    const object = structuredClone(manyListeners(1));
    (object.metadata as Record<string, unknown>).annotations = { filler };
    return wrap(object);
  };
  it.each([
    ["fits: rewritten", "x".repeat(MAX_ANSWER_BYTES - 4096), true, null],
    ["too large once rewritten (ASCII: known before the object is built)", "x".repeat(MAX_ANSWER_BYTES - 200), false, "at least "],
    ["too large in bytes, not in characters (é is 2 bytes)", "é".repeat(MAX_ANSWER_BYTES / 2), false, ""],
  ])("an object next to the answer limit, %s", async (_label, filler, rewritten, atLeast) => {
    const r = await validate(nearTheLimit(filler));
    wellFormed(r);
    if (policy === "reject-loopback-probes") {
      expect(answer(r).message).toContain("1 probe can never succeed");
      return;
    }
    expect(r.json.accepted).toBe(true);
    expect(r.json.mutated_object !== undefined).toBe(rewritten);
    if (!rewritten) {
      expect(answer(r).warnings[0]).toMatch(TOO_LARGE);
      expect(answer(r).warnings[0]).toContain(`would be ${atLeast}${atLeast ? "" : "1"}`);
      expect(answer(r).warnings[1]).toContain('container "c0" readinessProbe httpGet port 8080: bound only on loopback');
    }
  });

  it("names, binds and port names full of control characters (6 bytes each in JSON): the answer stays within the limit", async () => {
    const junk = (n: number) => "\u0001".repeat(n);
    const containers = Array.from({ length: 120 }, (_, i) => ({
      name: `${junk(150)}${i}`,
      args: [`--listen-metrics-urls=http://127.0.0.1:8080/${junk(300)}`],
      ports: [{ name: junk(200), containerPort: 8080 }],
      readinessProbe: { httpGet: { port: junk(200) } },
    }));
    const object = statefulSet({ containers });
    object.metadata = { name: junk(300), namespace: junk(300), labels: { "app.kubernetes.io/managed-by": "prometheus-operator" } } as typeof object.metadata;
    const r = await validate(wrap(object));
    wellFormed(r);
    console.info(`${policy}: control-character junk: ${bytes(r)} bytes of answer, audit annotations: ${Object.keys((r.json.audit_annotations as object | null) ?? {}).join(", ") || "none"}`);
    if (policy === "reject-loopback-probes") {
      expect(r.json.accepted).toBe(false);
      expect(answer(r).message).toContain("120 probes can never succeed");
      // The findings annotation keeps as many records as fit its character budget, never none.
      const records = JSON.parse((r.json.audit_annotations as Record<string, string>).findings!) as unknown[];
      expect(records.length).toBeGreaterThan(0);
      expect(records.length).toBeLessThan(120);
      expect((r.json.audit_annotations as Record<string, string>).findings!.length).toBeLessThanOrEqual(MAX_FINDING_RECORDS_CHARS);
    } else {
      expect(r.json.accepted).toBe(true);
      expect(answer(r).warnings.length).toBeLessThanOrEqual(MAX_LISTED_WARNINGS + 2);
    }
  });

  it("a 1 MB port name, a 1 MB opt-out list and a 1 MB reason: every line stays short", async () => {
    const object = statefulSet({
      containers: [
        { name: "typo", args: ["--listen-address=127.0.0.1:8080"], readinessProbe: { httpGet: { port: "p".repeat(1024 * 1024) } } },
        { name: "skipped", args: ["--listen-address=127.0.0.1:9090"], livenessProbe: { httpGet: { port: 9090 } } },
      ],
    });
    object.metadata = {
      name: "bad",
      namespace: "ns",
      annotations: {
        "loopback-probes.kubewarden.io/skip-containers": ["skipped", ...Array.from({ length: 100_000 }, (_, i) => `n${i}`)].join(","),
        "loopback-probes.kubewarden.io/skip-reason": "r".repeat(1024 * 1024),
      },
    } as typeof object.metadata;
    const r = await validate(wrap(object));
    wellFormed(r);
    expect(bytes(r)).toBeLessThan(64 * 1024);
    if (policy === "reject-loopback-probes") {
      expect(r.json.accepted).toBe(false);
      const annotations = r.json.audit_annotations as Record<string, string>;
      expect(annotations["opt-out"]!.length).toBeLessThan(2048);
      expect(JSON.parse(annotations["opt-out"]!)).toMatchObject({ skippedProbes: 1 });
    } else {
      expect(r.json.accepted).toBe(true);
      for (const w of answer(r).warnings) expect(w.length).toBeLessThan(2100);
      expect(answer(r).warnings.join("\n")).toContain("not rewritten (no port named");
    }
  });
});

/** Bind detection and attribution (issue 12 items 2, 3) and owner advice (issue 11 item 8), through the built modules. */
describe.each(POLICIES)("%s: binds as programs parse them", (policy) => {
  const validate = (object: unknown) => runRaw(policy, "validate", wrap(object));
  const flagged = (r: RawRun) => (policy === "reject-loopback-probes" ? r.json.accepted === false : r.json.mutated_object !== undefined);
  const probe = (port: number) => ({ livenessProbe: { httpGet: { path: "/healthz", port } } });

  it.each([
    ["OPA --addr=localhost:8181", { name: "opa", image: "openpolicyagent/opa:0.9.2", args: ["run", "--server", "--addr=localhost:8181"], ...probe(8181) }],
    ["a quoted value in sh -c", { name: "a", command: ["sh", "-c", "exec /app --listen-address='127.0.0.1:8080';"], ...probe(8080) }],
    ["a quoted host in sh -c", { name: "a", command: ["sh", "-c", 'exec /app --listen-address="127.0.0.1":8080 &\nwait'], ...probe(8080) }],
    ["${VAR} from env in sh -c", { name: "a", command: ["sh", "-c", "exec /app --listen-address=${ADDR}"], env: [{ name: "ADDR", value: "127.0.0.1:8080" }], ...probe(8080) }],
    ["127.1 and a Go port", { name: "a", args: ["--listen-address=127.1:+8080"], ...probe(8080) }],
    ["0x7f000001", { name: "a", args: ["--bind=0x7f000001:8080"], ...probe(8080) }],
    ["the last of repeated flags", { name: "a", args: ["--listen-address=:8080", "--listen-address=127.0.0.1:8080"], ...probe(8080) }],
    ["a relaxed env name", { name: "a", env: [{ name: "1ADDR", value: "localhost:8080" }], args: ["--listen=$(1ADDR)"], ...probe(8080) }],
  ])("%s → flagged", async (_label, container) => {
    const r = await validate(statefulSet({ containers: [container] }));
    wellFormed(r);
    expect(flagged(r)).toBe(true);
  });

  it.each([
    ["pg_dumpall in a backup sidecar loop", [
      { name: "postgres", image: "postgres:16", livenessProbe: { tcpSocket: { port: 5432 } }, readinessProbe: { tcpSocket: { port: 5432 } } },
      { name: "backup", command: ["/bin/sh", "-c"], args: ["while true; do pg_dumpall --host=localhost --port=5432 > /b/dump.sql; sleep 3600; done"] },
    ]],
    ["tctl in a setup container", [
      { name: "temporal", livenessProbe: { tcpSocket: { port: 7233 } } },
      { name: "setup", command: ["sh", "-c", "until tctl --address 127.0.0.1:7233 cluster health; do sleep 1; done; tctl --address 127.0.0.1:7233 namespace register default; sleep infinity"] },
    ]],
    ["a flag after --", [{ name: "a", command: ["/app", "--", "--listen-address=127.0.0.1:8080"], ...probe(8080) }]],
    ["a repeated flag whose last value is not loopback", [{ name: "a", args: ["--listen-address=127.0.0.1:8080", "--listen-address=:8080"], ...probe(8080) }]],
  ])("%s → not flagged", async (_label, containers) => {
    const r = await validate(statefulSet({ containers }));
    wellFormed(r);
    expect(r.json.accepted).toBe(true);
    expect(r.json).not.toHaveProperty("mutated_object");
  });

  it("objects rendered by prometheus-operator get the upgrade advice once", async () => {
    const object = structuredClone(broken.object);
    object.metadata.ownerReferences = [{ apiVersion: "monitoring.coreos.com/v1", kind: "Prometheus", name: "k8s", uid: "u", controller: true }];
    const r = await validate(object);
    wellFormed(r);
    if (policy === "reject-loopback-probes") {
      const message = answer(r).message;
      expect(message.match(/upgrade prometheus-operator to v0\.75\.0 or later/g)).toHaveLength(1);
      expect(message.match(/^Fix: /gm)).toHaveLength(1);
      expect(message.split("\n").filter((l) => l.startsWith("- "))).toHaveLength(2);
    } else expect(flagged(r)).toBe(true);
  });
});
