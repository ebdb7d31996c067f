/**
 * `loopback-probes audit` end to end: real manifests, the built modules, every
 * output format, --diff, --fix and the exit codes.
 */
import Ajv from "ajv";
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { auditRequest, resourcePlural } from "../../src/cli/audit-core.js";
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
    const rows = r.stdout.split("\n").filter((l) => l.startsWith("examples/"));
    expect(new Set(rows.map((l) => l.split(":")[0]!.replace("examples/", "")))).toEqual(new Set(BROKEN));
    expect(rows.find((l) => l.includes("prometheus-listenlocal-broken.yaml"))).toMatch(/config-reloader\s+livenessProbe httpGet\s+8080\s+127\.0\.0\.1:8080\s+exec probe/);
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

  it("policyreport: valid wgpolicyk8s.io/v1alpha2 reports per namespace, fields as the audit scanner writes them", () => {
    const r = audit(["--format", "policyreport", "examples/"], undefined);
    expect(r.code).toBe(1);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema("policyreport-v1alpha2.schema.json"));
    for (const doc of docs) expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`).sort()).toEqual([
      "PolicyReport/example-system/polr-ns-example-system",
      "PolicyReport/kube-system/polr-ns-kube-system",
      "PolicyReport/monitoring/polr-ns-monitoring",
      "PolicyReport/observability/polr-ns-observability",
    ]);
    const monitoring = docs.find((d) => d.metadata.namespace === "monitoring");
    expect(monitoring.summary).toEqual({ pass: 2, fail: 2, warn: 0, error: 0, skip: 0 });
    const fail = monitoring.results.find((x: { result: string }) => x.result === "fail");
    expect(fail).toMatchObject({
      source: "kubewarden",
      policy: "clusterwide-reject-loopback-probes",
      category: "Best Practices",
      severity: "medium",
      scored: true,
      properties: { validating: "true", "policy-name": "clusterwide-reject-loopback-probes" },
    });
    expect(fail.resources[0]).toMatchObject({ apiVersion: "apps/v1", kind: "StatefulSet", namespace: "monitoring" });
    const monitor = parseAllDocuments(audit(["--format", "policyreport", "--mode", "monitor", "examples/"]).stdout).map((d) => d.toJS());
    expect(new Set(monitor.flatMap((d) => d.results.map((x: { severity: string }) => x.severity)))).toEqual(new Set(["info"]));
  });

  it("sarif: a valid SARIF 2.1.0 log with rule ids, messages and file/line regions", () => {
    const r = audit(["--format", "sarif", "examples/"]);
    const log = JSON.parse(r.stdout);
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema("sarif-2.1.0-required.schema.json"));
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    const results = log.runs[0].results;
    expect(results).toHaveLength(7);
    const ruleIds = new Set(log.runs[0].tool.driver.rules.map((x: { id: string }) => x.id));
    for (const x of results) expect(ruleIds.has(x.ruleId)).toBe(true);
    const prom = results.find((x: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => x.locations[0]!.physicalLocation.artifactLocation.uri === "examples/prometheus-listenlocal-broken.yaml");
    expect(prom.locations[0].physicalLocation.region.startLine).toBe(5);
    expect(prom.message.text).toContain("--listen-address=127.0.0.1:8080");
  });

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
    expect(bad.stdout).toMatch(/mixed\.yaml \(document 2\): not valid YAML/);
    expect(bad.stdout).toMatch(/mixed\.yaml \(document 3\): expected a Kubernetes object/);
    expect(bad.stdout).toMatch(/mixed\.yaml \(document 4\): not a Kubernetes object/);
    expect(bad.stdout).toContain("1 passed");
    // findings win over bad documents: exit 1
    writeFileSync(join(dir, "broken.yaml"), readFileSync(join(EXAMPLES, "prometheus-listenlocal-broken.yaml")));
    expect(audit([dir]).code).toBe(1);
  });

  it("exits 2 on bad usage and unreadable input", () => {
    expect(audit(["no/such/file.yaml"]).code).toBe(2);
    expect(audit(["--format", "xml", "examples/"]).code).toBe(2);
    const r = audit(["--settings-json", '{"colour": 1}', "examples/"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown key "colour"');
  });

  it("skips objects the policy's rules do not select, as the audit scanner would", () => {
    const r = audit(["--format", "json", "-"], JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: {} }));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results[0].status).toBe("skip");
  });

  it("--fix rewrites files in place, keeping comments and untouched documents", () => {
    const dir = tempCopyOfExamples();
    const file = join(dir, "prometheus-listenlocal-broken.yaml");
    const original = readFileSync(file, "utf8");
    const multi = join(dir, "multi.yaml");
    const untouched = readFileSync(join(dir, "kubebuilder-manager.yaml"), "utf8");
    writeFileSync(multi, `${untouched}---\n${readFileSync(join(dir, "alertmanager-listenlocal-broken.yaml"), "utf8")}`);
    const r = audit(["--fix", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("fixed 1 object in");
    // Left to find: only what the rewrite deliberately keeps — kube-state-metrics' readiness
    // probe (its image has no shell, so no exec probe can run; liveness was removed).
    const after = audit([dir]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/Deployment\/kube-system\/kube-state-metrics\s+kube-state-metrics\s+readinessProbe/);
    expect(after.stdout).toContain("1 finding in 1 object");
    expect(after.stdout).not.toContain("livenessProbe");
    expect(after.stdout).not.toContain("config-reloader");
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
