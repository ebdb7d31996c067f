/**
 * `audit` on an input big enough to be read on worker threads, with
 * evaluation starting while reading goes on: the report is the one the
 * reference reader (readManifests) and evaluation give, line for line; and
 * `--fix` on it fixes every finding. Through the built modules.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditObjects } from "../../src/audit/evaluate.js";
import { auditPolicies } from "../../src/audit/policies.js";
import { readManifests } from "../../src/audit/read.js";
import { formatJson } from "../../src/audit/report/json.js";
import { manifestSourceAccess } from "../../src/audit/sources.js";
import { fleetYaml } from "../../src/bench/fleet.js";
import { EvaluationPool } from "../../src/toolchain/evaluation-pool.js";
import { loadPolicy } from "../../src/toolchain/evaluate.js";
import { runCli, wasmPath } from "../helpers.js";

const POLICY = "reject-loopback-probes";
let dir: string;
let file: string;
let broken: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lpp-audit-fleet-"));
  file = join(dir, "fleet.yaml");
  // 1.2 MB: over the size read on the main thread; a bad document and a List in the middle.
  const fleet = fleetYaml(800);
  broken = fleet.broken;
  const docs = fleet.text.split(/^---\n/m);
  docs.splice(400, 0, "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n  - c\n", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: listed}\n");
  writeFileSync(file, docs.join("---\n"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("audit of a fleet read on worker threads", () => {
  it("reports exactly what the reference reader and evaluation report (json: every object, line, finding location, error)", async () => {
    const r = runCli(["audit", "--policy", wasmPath(POLICY), "--format", "json", "--quiet", file]);
    expect(r.code).toBe(2); // findings, and a document that is not YAML
    // The reference, in this process: the sequential reader, then every object evaluated.
    const policy = await loadPolicy(new Uint8Array(readFileSync(wasmPath(POLICY))));
    const manifests = readManifests([file]);
    const pool = new EvaluationPool({ [POLICY]: policy.bytes });
    const results = await auditObjects(manifests.objects, {
      pool,
      validators: auditPolicies([{ name: POLICY, file: wasmPath(POLICY), policy }], {}, manifests.objects.map((o) => o.object)),
      namespace: "default",
    }).finally(() => pool.close());
    const reference = formatJson({ results, errors: manifests.errors, skipped: manifests.skipped, files: manifests.files, unreadable: manifests.unreadable, source: manifestSourceAccess(manifests.sources, () => null) });
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(reference));
    const out = JSON.parse(r.stdout) as { results: { status: string; findings: { line: number }[] }[]; errors: { line: number }[] };
    expect(out.results).toHaveLength(801);
    expect(out.results.filter((x) => x.status === "fail")).toHaveLength(broken);
    expect(out.errors).toHaveLength(1);
  });

  it("--fix fixes every finding in place; the file then audits clean of findings", () => {
    const fixed = runCli(["audit", "--policy", wasmPath(POLICY), "--rewrite-policy", wasmPath("rewrite-loopback-probes"), "--fix", "--quiet", file]);
    expect(fixed.stderr).toContain(`fixed ${broken} objects in`);
    const again = JSON.parse(runCli(["audit", "--policy", wasmPath(POLICY), "--format", "json", "--quiet", file]).stdout) as { results: { status: string }[] };
    expect(again.results.filter((x) => x.status === "fail")).toEqual([]);
  });
});
