/**
 * `loopback-probes audit` end to end: real manifests, the built modules, every
 * output format, --diff, --fix and the exit codes.
 */
import Ajv from "ajv";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { auditRequest, resourcePlural } from "../../src/audit/evaluate.js";
import { fleetYaml } from "../../src/bench/fleet.js";
import { ROOT, runCli, wasmPath } from "../helpers.js";

const modules = ["--policy", wasmPath("reject-loopback-probes"), "--rewrite-policy", wasmPath("rewrite-loopback-probes")];
const audit = (args: string[], input?: string) => runCli(["audit", ...modules, ...args], input === undefined ? {} : { input });
const EXAMPLES = join(ROOT, "examples");
const BROKEN = ["alertmanager-listenlocal-broken.yaml", "grafana-behind-proxy.yaml", "kube-state-metrics-telemetry-loopback.yaml", "prometheus-listenlocal-broken.yaml"];
const schema = (name: string) => JSON.parse(readFileSync(join(ROOT, "tests", "schemas", name), "utf8"));

function tempCopyOfExamples(): string {
  const dir = mkdtempSync(join(tmpdir(), "lpp-audit-"));
  cpSync(EXAMPLES, dir, { recursive: true });
  return dir;
}

describe("loopback-probes audit", () => {
  it("finds the broken examples and passes the fixed one and the look-alikes (table)", () => {
    const r = audit(["examples/"]);
    expect(r.code).toBe(1);
    // Findings are grouped under "file — object" lines (layout: tests/e2e/audit-reports.test.ts).
    const groups = r.stdout.split("\n").filter((l) => l.startsWith("examples/"));
    expect(new Set(groups.map((l) => l.split(" — ")[0]!.replace("examples/", "")))).toEqual(new Set(BROKEN));
    expect(r.stdout).toContain("7 findings in 4 objects; 8 objects in 8 files: 4 passed, 4 failed, 0 errors");
    expect(r.stdout).not.toContain("\u001b["); // no colour when not a terminal
    expect(audit(["examples/prometheus-listenlocal-fixed.yaml"]).code).toBe(0);
  });

  it("--diff shows the rewrite policy's JSON Patch per failing object", () => {
    const r = audit(["--diff", "examples/prometheus-listenlocal-broken.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("JSON Patch from rewrite-loopback-probes");
    expect(r.stdout).toContain("path: /spec/template/spec/containers/1/livenessProbe/exec");
    expect(r.stdout).toContain("exec wget -q -O /dev/null http://127.0.0.1:8080/healthz");
  });

  it("json: one entry per object with structured findings", () => {
    const r = audit(["--format", "json", "examples/"]);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ files: 8, objects: 8, pass: 4, fail: 4, error: 0, findings: 7 });
    const prom = out.results.find((x: { name: string; status: string }) => x.name === "prometheus-kube-prometheus-stack-prometheus" && x.status === "fail");
    expect(prom.findings.map((f: { probe: string }) => f.probe).sort()).toEqual(["livenessProbe", "readinessProbe"]);
    expect(prom.findings[0]).toMatchObject({ container: "config-reloader", handler: "httpGet", port: 8080, reason: "loopback-only-listener", binds: ["--listen-address=127.0.0.1:8080"], boundAddress: "127.0.0.1:8080" });
    expect(prom.line).toBe(5);
  });

  // PolicyReport and SARIF output: tests/e2e/audit-reports.test.ts.

  it("reads Lists from stdin, and reports bad documents without stopping", () => {
    const items = readdirSync(EXAMPLES).map((f) => parse(readFileSync(join(EXAMPLES, f), "utf8")));
    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items });
    const r = audit(["--format", "json", "-"], list);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).summary).toMatchObject({ objects: 8, fail: 4 });

    const dir = mkdtempSync(join(tmpdir(), "lpp-bad-"));
    const good = readFileSync(join(EXAMPLES, "prometheus-listenlocal-fixed.yaml"), "utf8");
    writeFileSync(join(dir, "mixed.yaml"), `${good}---\n: : not yaml [\n---\n- a list\n---\nkind: NoApiVersion\n`);
    const bad = audit([dir]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/mixed\.yaml:\d+:\d+ \(document 2\): not valid YAML/);
    expect(bad.stdout).toContain("1 passed");
    const json = JSON.parse(audit(["--format", "json", dir]).stdout);
    expect(json.errors).toEqual([expect.objectContaining({ documentIndex: 1, kind: "yaml", line: expect.any(Number), column: expect.any(Number) })]);
    expect(json.skipped.map((x: { documentIndex: number; reason: string }) => [x.documentIndex, x.reason])).toEqual([
      [2, "not-an-object"],
      [3, "not-an-object"],
    ]);
    // errors win over findings: exit 2 (the audit is incomplete), and the findings are still reported
    writeFileSync(join(dir, "broken.yaml"), readFileSync(join(EXAMPLES, "prometheus-listenlocal-broken.yaml")));
    const both = audit([dir]);
    expect(both.code).toBe(2);
    expect(both.stdout).toMatch(/2 findings in 1 object/);
  });

  it("exits 2 on bad usage and unreadable input", () => {
    expect(audit(["no/such/file.yaml"]).code).toBe(2);
    expect(audit(["--format", "xml", "examples/"]).code).toBe(2);
    const r = audit(["--settings-json", '{"colour": 1}', "examples/"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown key "colour"');
    // A big input: the settings are checked while it is read (on this thread, or on reader threads with
    // --threads), and the reading stops there: nothing is reported.
    const big = mkdtempSync(join(tmpdir(), "lpp-audit-big-"));
    writeFileSync(join(big, "fleet.yaml"), fleetYaml(1500).text);
    for (let i = 0; i < 40; i++) writeFileSync(join(big, `small-${i}.yaml`), fleetYaml(3).text);
    for (const threads of [[], ["--threads", "2"]]) {
      const onBig = audit(["-f", "json", ...threads, "--settings-json", '{"colour": 1}', big]);
      expect(onBig, threads.join(" ")).toMatchObject({ code: 2, stdout: "" });
      expect(onBig.stderr).toContain('settings rejected by');
      expect(onBig.stderr).toContain('unknown key "colour"');
    }
    rmSync(big, { recursive: true, force: true });
  });

  it("skips objects the policy's rules do not select, as the audit scanner would", () => {
    const r = audit(["--format", "json", "-"], JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: {} }));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results[0].status).toBe("skip");
  });

  it("an object that opts its broken container out is reported as skipped, with the reason, in every format", () => {
    const doc = parse(readFileSync(join(EXAMPLES, "alertmanager-listenlocal-broken.yaml"), "utf8")) as { metadata: { annotations?: Record<string, string> } };
    doc.metadata.annotations = { "loopback-probes.kubewarden.io/skip-containers": "config-reloader", "loopback-probes.kubewarden.io/skip-reason": "fixed upstream in v0.75" };
    const input = JSON.stringify(doc);
    const json = audit(["--format", "json", "-"], input);
    expect(json.code).toBe(0);
    const [result] = JSON.parse(json.stdout).results;
    expect(result).toMatchObject({ status: "skip", skipReason: "opt-out" });
    expect(result.message).toContain('probes of "config-reloader" not checked');
    expect(result.message).toContain("reason: fixed upstream in v0.75");
    const table = audit(["-"], input);
    expect(table.stdout).toMatch(/skipped: <stdin>:\d+: .*alertmanager-main: probes of "config-reloader" not checked/);
    expect(table.stdout).toMatch(/1 skipped \(1 by its opt-out annotation; --show-skipped lists them\)/);
    const reports = parseAllDocuments(audit(["--format", "policyreport", "-"], input).stdout).map((d) => d.toJS()) as { summary: Record<string, number>; results: { result: string; message: string }[] }[];
    expect(reports).toHaveLength(1);
    expect(reports[0]!.summary).toMatchObject({ skip: 1, pass: 0, fail: 0 });
    expect(reports[0]!.results[0]).toMatchObject({ result: "skip" });
    expect(reports[0]!.results[0]!.message).toContain("skip-containers");
    // Without the annotation the same object is a finding.
    expect(audit(["-"], readFileSync(join(EXAMPLES, "alertmanager-listenlocal-broken.yaml"), "utf8")).code).toBe(1);
  });

  it("--fix rewrites files in place, keeping comments and untouched documents", () => {
    const dir = tempCopyOfExamples();
    const file = join(dir, "prometheus-listenlocal-broken.yaml");
    const original = readFileSync(file, "utf8");
    const multi = join(dir, "multi.yaml");
    const untouched = readFileSync(join(dir, "kubebuilder-manager.yaml"), "utf8");
    writeFileSync(multi, `${untouched}---\n${readFileSync(join(dir, "alertmanager-listenlocal-broken.yaml"), "utf8")}`);
    const r = audit(["--fix", dir]);
    expect(r.code).toBe(1); // kube-state-metrics' readiness probe is left for its owner (see below)
    expect(r.stderr).toContain("fixed 1 object in");
    // What --fix fixed is shown fixed; a rewrite done is no warning; what it left undone is one.
    expect(r.stdout).toMatch(/prometheus-listenlocal-broken\.yaml — StatefulSet\/monitoring\/prometheus-kube-prometheus-stack-prometheus\n.*fixed by --fix\n/);
    expect(r.stdout).not.toMatch(/warning: .*→ exec probe/);
    expect(r.stdout).toMatch(/warning: .*kube-state-metrics.*→ not rewritten/);
    expect(r.stdout).toMatch(/\(\d+ fixed by --fix, 1 not\)/);
    // Left to find: only what the rewrite deliberately keeps — kube-state-metrics' readiness
    // probe (its image has no shell, so no exec probe can run; liveness was removed).
    const after = audit(["--format", "json", dir]);
    expect(after.code).toBe(1);
    const failing = JSON.parse(after.stdout).results.filter((x: { status: string }) => x.status === "fail");
    expect(failing.map((x: { name: string }) => x.name)).toEqual(["kube-state-metrics"]);
    expect(failing[0].findings.map((f: { container: string; probe: string }) => `${f.container} ${f.probe}`)).toEqual(["kube-state-metrics readinessProbe"]);
    const fixed = readFileSync(file, "utf8");
    expect(fixed).toContain("# prometheus-operator v0.74 with --enable-config-reloader-probes"); // comments kept
    expect(fixed).toContain('command: ["/bin/prometheus-config-reloader"]'); // formatting of untouched parts kept
    const exec = [
      "            exec:",
      "              command:",
      "                - sh",
      "                - -c",
      '                - if [ -x "$(command -v curl)" ]; then exec curl --fail --globoff http://127.0.0.1:8080/healthz; elif [ -x "$(command -v wget)" ]; then exec wget -q -O /dev/null http://127.0.0.1:8080/healthz; else exit 1; fi',
      "",
    ].join("\n");
    // Exactly the two probe handlers change; every other byte of the file stays.
    expect(fixed).toBe(original.replaceAll("            httpGet:\n              path: /healthz\n              port: 8080\n", exec));
    expect(readFileSync(multi, "utf8").startsWith(untouched)).toBe(true); // the first document is byte-identical
    expect(readFileSync(multi, "utf8")).toContain("exec curl --fail --globoff http://localhost:8080/healthz");
  });

  it("synthesizes requests exactly like the audit scanner", () => {
    const request = auditRequest({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s", namespace: "n", uid: "u-1" } });
    expect(request).toEqual({
      uid: "u-1",
      kind: { group: "apps", version: "v1", kind: "StatefulSet" },
      resource: { group: "apps", version: "v1", resource: "StatefulSet" },
      operation: "CREATE",
      name: "s",
      namespace: "n",
      object: { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s", namespace: "n", uid: "u-1" } },
    });
    expect(auditRequest({ apiVersion: "v1", kind: "Pod" }).uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(["Pod", "Ingress", "NetworkPolicy", "StatefulSet"].map(resourcePlural)).toEqual(["pods", "ingresses", "networkpolicies", "statefulsets"]);
  });
});
