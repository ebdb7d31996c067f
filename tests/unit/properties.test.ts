/**
 * Properties of the analysis and the rewrite over generated workloads.
 * Quick profile in `npm test`; `npm run fuzz` runs the same with ≥ 100,000 cases.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { checkWorkload, findUnreachableProbes } from "../../src/analysis/reachability.js";
import { rewriteUnreachableProbes, type RewriteStrategy } from "../../src/analysis/rewrite.js";
import { podTemplateOf } from "../../src/analysis/workload.js";
import { RUNS, SEED, workload } from "../generators.js";

const params = { numRuns: RUNS, seed: SEED };
const strategy = fc.constantFrom<RewriteStrategy>("exec", "remove");

/** The object with every probe that had a finding deleted. */
function withoutOffendingProbes(object: unknown, offending: { list: string; index: number; kind: string }[]): unknown {
  const copy = JSON.parse(JSON.stringify(object)) as unknown;
  const spec = podTemplateOf(copy)!.spec as unknown as Record<string, Record<string, unknown>[]>;
  for (const o of offending) delete spec[o.list]![o.index]![o.kind];
  return copy;
}

describe("properties (generated workloads)", () => {
  beforeAll(() => console.info(`fast-check: ${RUNS} runs per property, seed ${SEED} (replay with FUZZ_SEED=${SEED})`));

  it("the validator is total: any JSON value gives a list, never an exception", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => Array.isArray(findUnreachableProbes(v))), params);
    fc.assert(fc.property(workload, (w) => Array.isArray(findUnreachableProbes(w))), params);
    fc.assert(fc.property(fc.anything({ maxDepth: 5 }), (v) => Array.isArray(checkWorkload(v).malformed)), params);
  });

  it("well-typed workloads are never called malformed", () => {
    fc.assert(
      fc.property(workload, (w) => {
        const check = checkWorkload(w);
        expect(check.malformed).toEqual([]);
        expect(check.findings).toEqual(findUnreachableProbes(w));
      }),
      params,
    );
  });

  it("the rewrite's output passes the validator, except probes it deliberately keeps (and says so)", () => {
    fc.assert(
      fc.property(workload, strategy, (w, s) => {
        const { object, changes } = rewriteUnreachableProbes(w, findUnreachableProbes(w), s);
        const kept = changes.filter((c) => c.action === "kept").map((c) => c.finding.message);
        expect(findUnreachableProbes(object).map((f) => f.message)).toEqual(kept);
      }),
      params,
    );
  });

  it("the rewrite is idempotent", () => {
    fc.assert(
      fc.property(workload, strategy, (w, s) => {
        const once = rewriteUnreachableProbes(w, findUnreachableProbes(w), s).object;
        const twice = rewriteUnreachableProbes(once, findUnreachableProbes(once), s);
        expect(twice.changes.filter((c) => c.action !== "kept")).toEqual([]);
        expect(twice.object).toEqual(once);
      }),
      params,
    );
  });

  it("nothing outside the offending probes changes, and offending probes do change", () => {
    fc.assert(
      fc.property(workload, strategy, (w, s) => {
        const findings = findUnreachableProbes(w);
        const { object, changes } = rewriteUnreachableProbes(w, findings, s);
        expect(changes).toHaveLength(findings.length);
        const offending = findings.map((f) => ({ list: f.target.containerList, index: f.target.containerIndex, kind: f.target.probeKind }));
        expect(withoutOffendingProbes(object, offending)).toEqual(withoutOffendingProbes(w, offending));
        for (const f of findings) {
          const before = (podTemplateOf(w)!.spec as unknown as Record<string, Record<string, unknown>[]>)[f.target.containerList]![f.target.containerIndex]![f.target.probeKind];
          const after = (podTemplateOf(object)!.spec as unknown as Record<string, Record<string, unknown>[]>)[f.target.containerList]![f.target.containerIndex]![f.target.probeKind];
          const change = changes.find((c) => c.finding === f)!;
          if (change.action === "kept") {
            expect(after).toEqual(before);
            continue;
          }
          expect(after).not.toEqual(before);
          if (after !== undefined) expect(Object.keys(after as object)).toContain("exec");
        }
      }),
      params,
    );
  });

  it("generates findings often enough to mean something", () => {
    const sample = fc.sample(workload, { numRuns: 500, seed: 42 });
    const withFindings = sample.filter((w) => findUnreachableProbes(w).length > 0).length;
    expect(withFindings).toBeGreaterThan(50);
    expect(withFindings).toBeLessThan(450);
  });
});
