/** The bench fleet: deterministic, N objects as the audit reads them, the stated number of loopback binds. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findUnreachableProbes } from "../../src/analysis/reachability.js";
import { readManifests } from "../../src/audit/read.js";
import { fleetYaml } from "../../src/bench/fleet.js";

describe("fleetYaml", () => {
  it("is deterministic, reads back as N objects, and has exactly `broken` workloads with findings", () => {
    const fleet = fleetYaml(200);
    expect(fleetYaml(200).text).toBe(fleet.text);
    const dir = mkdtempSync(join(tmpdir(), "lpp-fleet-test-"));
    try {
      writeFileSync(join(dir, "fleet.yaml"), fleet.text);
      const { objects, errors } = readManifests([join(dir, "fleet.yaml")]);
      expect(errors).toEqual([]);
      expect(objects).toHaveLength(200);
      expect(fleet.broken).toBe(5);
      expect(objects.filter((o) => findUnreachableProbes(o.object).length > 0)).toHaveLength(fleet.broken);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
