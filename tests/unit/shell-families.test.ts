/**
 * The shell and wrapper families (tests/cases/shell-families.yml) judged by the
 * analysis itself: a finding exactly when the case says `fail`, the warning it
 * names, and a rewrite that aims its exec probe at the loopback bind it flags.
 * The same cases run through both built policies under both engines in
 * tests/e2e/shell-families.test.ts.
 */
import { describe, expect, it } from "vitest";
import { checkWorkload } from "../../src/analysis/reachability.js";
import { rewriteUnreachableProbes } from "../../src/analysis/rewrite.js";
import { caseObject, shellCases } from "../support/shell-cases.js";

const cases = shellCases();

describe("shell and wrapper families: the analysis", () => {
  it("covers every family with cases on both sides", () => {
    const families = new Map<string, Set<string>>();
    for (const c of cases) (families.get(c.family) ?? families.set(c.family, new Set()).get(c.family)!).add(c.result);
    for (const [family, results] of families) if (family !== "work bounds" && family !== "clients") expect([family, [...results].sort()]).toEqual([family, ["fail", "pass"]]);
  });

  it.each(cases.map((c) => [`${c.family}: ${c.name}`, c] as const))("%s", (_label, c) => {
    const object = caseObject(c);
    const check = checkWorkload(object);
    expect(check.malformed).toEqual([]);
    expect(check.findings.length > 0, check.findings.map((f) => f.message).join("\n") || "no finding").toBe(c.result === "fail");
    if (c.warning) expect(check.warnings.join("\n")).toContain(c.warning);
    else expect(check.warnings).toEqual([]);
    if (c.result === "fail") {
      const f = check.findings[0]!;
      expect(f.reason).toBe("loopback-only-listener");
      const rewritten = rewriteUnreachableProbes(object, check.findings, "exec");
      expect(JSON.stringify(rewritten.object)).toContain(`${f.listeners[0]!.host}:${f.listeners[0]!.port}`);
      expect(checkWorkload(rewritten.object).findings).toEqual([]);
    }
  });
});
