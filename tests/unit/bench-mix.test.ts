import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { geometricMean, trafficMix } from "../../src/bench/mix.js";
import { ROOT } from "../helpers.js";

describe("bench --mix", () => {
  it("geometric mean", () => {
    expect(geometricMean([1, 4])).toBeCloseTo(2, 12);
    expect(geometricMean([0.5, 2, 1])).toBeCloseTo(1, 12);
    expect(geometricMean([])).toBeNaN();
  });

  it("sends every workload of the folder as a CREATE with default settings, then the policy's test_data", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpp-mix-"));
    try {
      writeFileSync(
        join(dir, "app.yaml"),
        [
          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {template: {spec: {containers: [{name: web, image: web:1}]}}}",
          "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}",
          "apiVersion: v1\nkind: Pod\nmetadata: {name: one}\nspec: {containers: [{name: c}]}",
        ].join("\n---\n"),
      );
      const policyDir = join(ROOT, "policies", "reject-loopback-probes");
      const mix = trafficMix(dir, policyDir);
      const workloads = mix.filter((r) => !r.label.startsWith("test_data/"));
      expect(workloads.map((r) => r.label)).toEqual([expect.stringMatching(/app\.yaml#1$/), expect.stringMatching(/app\.yaml#3$/)]);
      const first = JSON.parse(new TextDecoder().decode(workloads[0]!.stdin));
      expect(first.settings).toEqual({});
      expect(first.request.operation).toBe("CREATE");
      expect(first.request.object.metadata.name).toBe("web");
      expect(mix.length - workloads.length).toBeGreaterThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
