/**
 * Kubewarden policy resources as `kwctl run` reads them, and policy group
 * expressions as policy-server evaluates them (the subset the controller admits).
 */
import { describe, expect, it } from "vitest";
import { evaluateGroupExpression, parseGroupExpression } from "../../src/toolchain/group-expression.js";
import { parsePolicyDefinitions } from "../../src/toolchain/policy-definition.js";
import { evaluateGroup, validateGroupSettings } from "../../src/toolchain/policy-group.js";

describe("group expressions", () => {
  const members = ["a", "b", "c"];
  const run = async (expression: string, answers: Record<string, boolean>) => {
    const called: string[] = [];
    const result = await evaluateGroupExpression(parseGroupExpression(expression, members), async (m) => {
      called.push(m);
      return answers[m]!;
    });
    return { result, called };
  };

  it("&& and || short-circuit left to right; ! binds tighter than ==, which binds tighter than && and ||", async () => {
    expect(await run("a() && b()", { a: false, b: true })).toEqual({ result: false, called: ["a"] });
    expect(await run("a() || b()", { a: true, b: false })).toEqual({ result: true, called: ["a"] });
    expect(await run("a() || b() && c()", { a: false, b: true, c: false })).toEqual({ result: false, called: ["a", "b", "c"] });
    expect((await run("(a() || b()) && c()", { a: true, b: false, c: true })).result).toBe(true);
    expect((await run("!a() == b()", { a: false, b: true })).result).toBe(true);
    expect((await run("a() != b() && true", { a: true, b: false })).result).toBe(true);
    expect((await run("!(a() || false)", { a: false })).result).toBe(true);
    expect(await run("a() && a()", { a: true })).toEqual({ result: true, called: ["a"] });
  });

  it("says what it does not evaluate, and where", () => {
    const err = (e: string) => {
      try {
        parseGroupExpression(e, members);
        return "parsed";
      } catch (x) {
        return (x as Error).message;
      }
    };
    expect(err("a() + 1")).toContain('"+" at position 5 is not part of what a policy group expression may use here');
    expect(err("d()")).toBe("d() at position 1 is not a member of the group (members: a, b, c)");
    expect(err("a(")).toContain('expected ")" at the end');
    expect(err("a() b()")).toContain('unexpected "b" at position 5');
    expect(err("a")).toContain('expected "("');
    expect(err("  ")).toBe("the expression is empty");
    expect(err("(".repeat(300) + "a()" + ")".repeat(300))).toContain("nests deeper than");
    expect(err("a() || ".repeat(1000) + "a()")).toContain("longer than");
  });
});

describe("policy resources", () => {
  const cap = `apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata: {name: probes}
spec:
  module: registry://ghcr.io/x/probes:v1
  mutating: false
  rules: []
  settings: {excludeContainers: [a]}
  contextAwareResources: [{apiVersion: apps/v1, kind: Deployment}]
  message: custom
  timeoutEvalSeconds: 5
`;

  it("reads what kwctl reads from each kind; an AdmissionPolicy never gets context", () => {
    const [p, ap, g] = parsePolicyDefinitions(
      `${cap}---\n---\n${cap.replace("ClusterAdmissionPolicy", "AdmissionPolicy").replace("{name: probes}", "{name: probes, namespace: team}")}---
apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicyGroup
metadata: {name: g}
spec:
  mode: monitor
  expression: "z() && a()"
  message: m
  rules: []
  policies:
    z: {module: "file:///z.wasm"}
    a: {module: "file:///a.wasm", settings: {k: 1}, contextAwareResources: [{apiVersion: v1, kind: Pod}], timeoutEvalSeconds: 3}
`,
      "f.yaml",
    );
    expect(p).toEqual({
      kind: "ClusterAdmissionPolicy",
      name: "probes",
      mode: "protect",
      module: "registry://ghcr.io/x/probes:v1",
      settings: { excludeContainers: ["a"] },
      contextAwareResources: [{ apiVersion: "apps/v1", kind: "Deployment" }],
      timeoutEvalSeconds: 5,
      mutating: false,
      message: "custom",
    });
    expect(ap).toMatchObject({ kind: "AdmissionPolicy", namespace: "team", contextAwareResources: [] });
    expect(g).toEqual({
      kind: "ClusterAdmissionPolicyGroup",
      name: "g",
      mode: "monitor",
      expression: "z() && a()",
      message: "m",
      members: [
        ["a", { module: "file:///a.wasm", settings: { k: 1 }, contextAwareResources: [{ apiVersion: "v1", kind: "Pod" }], timeoutEvalSeconds: 3 }],
        ["z", { module: "file:///z.wasm", settings: {}, contextAwareResources: [] }],
      ],
    });
  });

  it("refuses what kwctl refuses, naming the document", () => {
    const err = (text: string) => {
      try {
        parsePolicyDefinitions(text, "f.yaml");
        return "parsed";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err("apiVersion: v1\nkind: ConfigMap\n")).toBe('f.yaml (document 1): invalid apiVersion Some("v1") (expected policies.kubewarden.io/v1)');
    expect(err("apiVersion: policies.kubewarden.io/v1\nkind: PolicyServer\n")).toBe('f.yaml (document 1): unknown kind Some("PolicyServer"), not a Kubewarden policy');
    expect(err("apiVersion: policies.kubewarden.io/v1\nkind: AdmissionPolicy\n")).toBe("f.yaml (document 1): CRD does not have spec, but it is required for AdmissionPolicy");
    expect(err(cap.replace("settings: {excludeContainers: [a]}", "settings: [1]"))).toContain("spec.settings must be a mapping");
    expect(err(cap.replace("mutating: false", "mode: audit"))).toContain("spec.mode must be protect or monitor");
    expect(err("apiVersion: policies.kubewarden.io/v1\nkind: ClusterAdmissionPolicyGroup\nspec: {expression: a(), message: m, policies: {a-b: {module: x}}}\n")).toContain('"a-b": policy group member name is invalid');
    expect(err("apiVersion: policies.kubewarden.io/v1\nkind: ClusterAdmissionPolicyGroup\nspec: {expression: a(), message: m, policies: {}}\n")).toContain("at least one policy member");
    expect(err("")).toBe("f.yaml: no Kubewarden policy resource in it");
    expect(err("a: [")).toContain("not valid YAML");
    expect(parsePolicyDefinitions(cap.replace("metadata: {name: probes}", "metadata: {}"), "f.yaml")[0]!.name).toBe("crd-without-name");
  });

  it("a group's settings and answer, as policy-evaluator's group evaluator gives them", async () => {
    const [g] = parsePolicyDefinitions("apiVersion: policies.kubewarden.io/v1\nkind: AdmissionPolicyGroup\nmetadata: {name: g}\nspec: {expression: 'b() || a()', message: nope, policies: {a: {module: x}, b: {module: y}}}\n", "f.yaml");
    if (!g || !("members" in g)) throw new Error("not a group");
    const runner = (answers: Record<string, { allowed: boolean; message?: string; patch?: string }>, valid = true) => ({
      validateSettings: async (m: string) => (valid && m !== "bad" ? { valid: true } : { valid: false, message: `${m} is off` }),
      validate: async (m: string) => ({ uid: "u", allowed: answers[m]!.allowed, ...(answers[m]!.patch ? { patch: answers[m]!.patch } : {}), ...(answers[m]!.message ? { status: { message: answers[m]!.message } } : {}) }),
    });
    expect(await evaluateGroup(g, "u", runner({ a: { allowed: true }, b: { allowed: false, message: "b says no" } }))).toEqual({ uid: "u", allowed: true });
    expect(await evaluateGroup(g, "u", runner({ a: { allowed: false }, b: { allowed: true, patch: "x" } }))).toEqual({
      uid: "u",
      allowed: false,
      status: { message: "nope", details: { causes: [{ reason: null, message: null, field: "spec.policies.a" }, { reason: null, message: "mutation is not allowed inside of policy group", field: "spec.policies.b" }] } },
    });
    expect(await validateGroupSettings(g, runner({}, false))).toEqual({ valid: false, message: "g/a: settings not valid: Policy settings are invalid: a is off, g/b: settings not valid: Policy settings are invalid: b is off" });
    expect(await validateGroupSettings(g, runner({}))).toEqual({ valid: true });
  });
});
