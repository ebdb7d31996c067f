/**
 * `loopback-probes audit` output formats end to end, through the built modules:
 * PolicyReport v2 against the CRD schema, SARIF against the SARIF subset (probe
 * and bind positions, URIs, fixes that equal what --fix writes), the fitted
 * table, --diff with every format, and the rewrite's warnings everywhere.
 */
import Ajv from "ajv";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { ROOT, runCli, wasmPath } from "../helpers.js";
import { crdSchema, UPSTREAM_FILES, UPSTREAM_PRESENT } from "../support/upstream.js";

const modules = ["--policy", wasmPath("reject-loopback-probes"), "--rewrite-policy", wasmPath("rewrite-loopback-probes")];
const audit = (args: string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}) => runCli(["audit", ...modules, ...args], options);
const EXAMPLES = join(ROOT, "examples");
const schema = (name: string) => JSON.parse(readFileSync(join(ROOT, "tests", "schemas", name), "utf8"));
const validatePolicyReport = new Ajv({ allErrors: true, strict: true }).compile(schema("policyreport-v1alpha2.schema.json"));
const validateSarif = new Ajv({ allErrors: true, strict: true }).compile(schema("sarif-2.1.0-required.schema.json"));

/** A Deployment whose grpc liveness probe targets a loopback-only port: the rewrite removes it, with a warning. */
const GRPC_DEPLOYMENT = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "grpc-app", namespace: "apps" },
  spec: {
    selector: { matchLabels: { app: "grpc-app" } },
    template: {
      metadata: { labels: { app: "grpc-app" } },
      spec: { containers: [{ name: "server", image: "example/server:1", args: ["--grpc-address=127.0.0.1:9000"], livenessProbe: { grpc: { port: 9000 } } }] },
    },
  },
};

interface SarifResult {
  ruleId: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn?: number } } }[];
  relatedLocations?: { physicalLocation: { region: { startLine: number } }; message: { text: string } }[];
  fixes?: { artifactChanges: { artifactLocation: { uri: string }; replacements: { deletedRegion: { charOffset: number; charLength: number }; insertedContent: { text: string } }[] }[] }[];
  properties?: { rewriteWarnings?: string[] };
}
const sarifResults = (stdout: string): SarifResult[] => {
  const log = JSON.parse(stdout);
  expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
  return log.runs[0].results;
};

describe("audit --format policyreport (v2, as Kubewarden's audit scanner writes them)", () => {
  it("one schema-valid report per audited object, monitor mode by default as the shipped manifest", () => {
    const r = audit(["--format", "policyreport", "examples/"], { env: { SOURCE_DATE_EPOCH: "1700000000" } });
    expect(r.code).toBe(1);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    for (const doc of docs) expect(validatePolicyReport(doc), JSON.stringify(validatePolicyReport.errors)).toBe(true);
    expect(docs).toHaveLength(8); // every audited example object, none skipped
    expect(docs.every((d) => d.kind === "PolicyReport")).toBe(true);
    const alertmanager = docs.find((d) => d.scope.name === "alertmanager-main");
    expect(alertmanager.metadata).toEqual({
      name: "statefulset-alertmanager-main",
      namespace: "monitoring",
      labels: { "app.kubernetes.io/managed-by": "kubewarden", "kubewarden.io/policyreport-version": "v2", "app.kubernetes.io/created-by": "loopback-probes-audit" },
    });
    expect(alertmanager.scope).toEqual({ apiVersion: "apps/v1", kind: "StatefulSet", namespace: "monitoring", name: "alertmanager-main" });
    expect(alertmanager.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
    expect(alertmanager.results).toHaveLength(1);
    expect(alertmanager.results[0]).toMatchObject({
      source: "kubewarden",
      policy: "clusterwide-reject-loopback-probes",
      category: "Best Practices",
      severity: "info",
      timestamp: { seconds: 1700000000, nanos: 0 },
      result: "fail",
      resourceSelector: {},
      properties: { validating: "true", "policy-name": "reject-loopback-probes", "policy-uid": "", "policy-resource-version": "" },
    });
    expect(alertmanager.results[0].message).toContain("--listen-address=localhost:8080");
    const passed = docs.filter((d) => d.summary.pass === 1);
    expect(passed).toHaveLength(4);
    expect(passed.every((d) => d.results[0].message === undefined)).toBe(true);
    // The default --mode is the mode deploy/ ships the validating policy in.
    expect(parse(readFileSync(join(ROOT, "deploy", "reject-loopback-probes.yaml"), "utf8")).spec.mode).toBe("monitor");
    // protect mode: the policy's severity
    const protect = parseAllDocuments(audit(["--format", "policyreport", "--mode", "protect", "examples/"]).stdout).map((d) => d.toJS());
    expect(new Set(protect.map((d) => d.results[0].severity))).toEqual(new Set(["medium"]));
  });

  it("a manifest exported from a cluster (with a UID) gets the scanner's name and an ownerReference", () => {
    const object = { ...GRPC_DEPLOYMENT, metadata: { ...GRPC_DEPLOYMENT.metadata, uid: "3f1d2c4e-8a1b-4c5d-9e6f-0a1b2c3d4e5f", resourceVersion: "123" } };
    const r = audit(["--format", "policyreport", "--policy-name", "probes", "--policy-namespace", "apps", "--managed-by", "platform-ci", "-"], { input: JSON.stringify(object) });
    const [doc] = parseAllDocuments(r.stdout).map((d) => d.toJS());
    expect(validatePolicyReport(doc), JSON.stringify(validatePolicyReport.errors)).toBe(true);
    expect(doc.metadata.name).toBe("3f1d2c4e-8a1b-4c5d-9e6f-0a1b2c3d4e5f");
    expect(doc.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "Deployment", name: "grpc-app", uid: "3f1d2c4e-8a1b-4c5d-9e6f-0a1b2c3d4e5f" }]);
    expect(doc.metadata.labels["app.kubernetes.io/managed-by"]).toBe("platform-ci");
    expect(doc.scope).toMatchObject({ uid: "3f1d2c4e-8a1b-4c5d-9e6f-0a1b2c3d4e5f", resourceVersion: "123" });
    expect(doc.results[0].policy).toBe("namespaced-apps-probes");
    expect(doc.results[0].properties["policy-namespace"]).toBe("apps");
  });

  it("refuses --diff (a PolicyReport has no place for a patch); --fix still reports the rewrite's warnings on stderr", () => {
    const r = audit(["--format", "policyreport", "--diff", "examples/"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--diff does not go with --format policyreport");
    const label = audit(["--format", "policyreport", "--managed-by", "not a label", "examples/"]);
    expect(label.code).toBe(2);
    expect(label.stderr).toContain("--managed-by must be a Kubernetes label value");
    const dir = mkdtempSync(join(tmpdir(), "lpp-reports-"));
    writeFileSync(join(dir, "grpc.yaml"), stringify(GRPC_DEPLOYMENT));
    const fixed = audit(["--format", "policyreport", "--fix", dir]);
    expect(parseAllDocuments(fixed.stdout).map((d) => d.toJS())[0].kind).toBe("PolicyReport"); // stdout stays applyable
    expect(fixed.stderr).toMatch(/warning: .*grpc\.yaml:1: .*livenessProbe grpc port 9000 → removed/);
  });
});

describe("audit --format sarif", () => {
  it("places each finding at its probe and the bind as a related location, URIs relative to the repository root", () => {
    // Run from a subdirectory: URIs stay relative to the repository root.
    const r = audit(["--format", "sarif", "alertmanager-listenlocal-broken.yaml"], { cwd: EXAMPLES });
    const results = sarifResults(r.stdout);
    expect(results.map((x) => x.locations[0]!.physicalLocation.region)).toEqual([
      { startLine: 41, startColumn: 11 },
      { startLine: 50, startColumn: 11 },
    ]);
    for (const x of results) {
      expect(x.locations[0]!.physicalLocation.artifactLocation).toEqual({ uri: "examples/alertmanager-listenlocal-broken.yaml", uriBaseId: "%SRCROOT%" });
      expect(x.relatedLocations!.map((l) => [l.physicalLocation.region.startLine, l.message.text])).toEqual([[37, "binds the probed port: --listen-address=localhost:8080"]]);
      expect(x.fixes).toBeUndefined(); // only with --diff
    }
    const log = JSON.parse(r.stdout);
    expect(log.runs[0].originalUriBaseIds["%SRCROOT%"].uri).toBe(`file://${ROOT}/`);
    for (const rule of log.runs[0].tool.driver.rules) expect(rule.help.markdown).toBeTruthy();
  });

  it("an env var bind, stdin and Lists get positions too", () => {
    const grafana = readFileSync(join(EXAMPLES, "grafana-behind-proxy.yaml"), "utf8");
    const results = sarifResults(audit(["--format", "sarif", "-"], { input: grafana }).stdout);
    expect(results).toHaveLength(1);
    const lines = grafana.split("\n");
    const at = results[0]!.locations[0]!.physicalLocation;
    expect(at.artifactLocation.uri).toBe("stdin");
    expect(lines[at.region.startLine - 1]!.trim()).toBe("readinessProbe:");
    expect(lines[results[0]!.relatedLocations![0]!.physicalLocation.region.startLine - 1]).toContain("GF_SERVER_HTTP_ADDR");

    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }, GRPC_DEPLOYMENT] }, null, 2);
    const [inList] = sarifResults(audit(["--format", "sarif", "-"], { input: list }).stdout);
    expect(list.split("\n")[inList!.locations[0]!.physicalLocation.region.startLine - 1]!.trim()).toBe('"livenessProbe": {');
  });

  it("malformed documents: their own rule, with line and column", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpp-reports-"));
    writeFileSync(join(dir, "bad.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\nkey: [unclosed\nother: 1\n");
    const r = audit(["--format", "sarif", join(dir, "bad.yaml"), join(dir, "missing.yaml")]);
    expect(r.code).toBe(2);
    // A path that cannot be read at all: a tool notification, the run marked unsuccessful.
    const [invocation] = JSON.parse(r.stdout).runs[0].invocations;
    expect(invocation.executionSuccessful).toBe(false);
    expect(invocation.toolExecutionNotifications[0].message.text).toMatch(/cannot read .*missing\.yaml/);
    const [bad] = sarifResults(r.stdout).filter((x) => x.ruleId === "unreadable-document");
    expect(bad!.message.text).toMatch(/^document 2: not valid YAML/);
    const region = bad!.locations[0]!.physicalLocation.region;
    expect(region.startLine).toBeGreaterThanOrEqual(6);
    expect(region.startColumn).toBeGreaterThanOrEqual(1);
    expect(bad!.locations[0]!.physicalLocation.artifactLocation.uri).toMatch(/^file:\/\/\/.*\/bad\.yaml$/); // outside the repository: absolute
  });

  it("--diff adds fixes whose replacements produce exactly what --fix writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpp-reports-"));
    cpSync(join(EXAMPLES, "prometheus-listenlocal-broken.yaml"), join(dir, "prom.yaml"));
    const original = readFileSync(join(dir, "prom.yaml"), "utf8");
    const results = sarifResults(audit(["--format", "sarif", "--diff", join(dir, "prom.yaml")]).stdout);
    expect(results).toHaveLength(2);
    const [replacement] = results[0]!.fixes![0]!.artifactChanges[0]!.replacements;
    const applied = original.slice(0, replacement!.deletedRegion.charOffset) + replacement!.insertedContent.text + original.slice(replacement!.deletedRegion.charOffset + replacement!.deletedRegion.charLength);
    audit(["--fix", join(dir, "prom.yaml")]);
    expect(applied).toBe(readFileSync(join(dir, "prom.yaml"), "utf8"));
    expect(applied).not.toBe(original);
  });

  it("carries the rewrite's warnings with the findings", () => {
    const [grpc] = sarifResults(audit(["--format", "sarif", "--diff", "-"], { input: JSON.stringify(GRPC_DEPLOYMENT) }).stdout);
    expect(grpc!.properties!.rewriteWarnings!.join("\n")).toMatch(/livenessProbe grpc port 9000 → removed/);
  });
});

describe("audit table, json and --diff", () => {
  it("fits $COLUMNS, cuts nothing when not a terminal without it, names reason and binding setting, no colour; --wide does not cut", () => {
    const r = audit(["examples/"], { env: { NO_COLOR: "", COLUMNS: "120" } });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("\u001b[");
    const table = r.stdout.split("\n\n")[0]!.split("\n");
    for (const line of table) expect(line.length, line).toBeLessThanOrEqual(120);
    // A CI log or a file has no width: nothing is cut, the FIX column included.
    const uncut = audit(["examples/"], { env: { NO_COLOR: "", COLUMNS: "" } }).stdout;
    expect(uncut).not.toContain("…");
    expect(uncut).toMatch(/exec probe \(curl\/wget\)\n/);
    expect(table[0]).toMatch(/^LINE\s+CONTAINER\s+PROBE\s+PORT\s+BOUND BY\s+REASON\s+FIX$/);
    const group = table.indexOf("examples/alertmanager-listenlocal-broken.yaml — StatefulSet/monitoring/alertmanager-main");
    expect(table[group + 1]).toMatch(/^41:11\s+config-reloader\s+liveness httpGet\s+8080\s+--listen-address=localhost:8080\s+bound only on loopback\s+exec probe/);
    expect(r.stdout).toMatch(/GF_SERVER_HTTP_ADDR=127\.0\.0\.1/);

    const wide = audit(["--wide", "--no-color", "examples/"]).stdout.split("\n");
    const row = wide.find((l) => l.startsWith("examples/prometheus-listenlocal-broken.yaml:90:11"))!;
    expect(row).toMatch(/StatefulSet\/monitoring\/prometheus-kube-prometheus-stack-prometheus\s+config-reloader\s+liveness httpGet\s+8080\s+--listen-address=127\.0\.0\.1:8080\s+bound only on loopback\s+exec probe \(curl\/wget\)$/);
  });

  it("--diff works with every format but policyreport: table and json show patches and the rewrite's warnings", () => {
    const input = JSON.stringify(GRPC_DEPLOYMENT);
    const table = audit(["--diff", "-"], { input });
    expect(table.stdout).toContain("JSON Patch from rewrite-loopback-probes");
    expect(table.stdout).toMatch(/warning: <stdin>:1: Deployment apps\/grpc-app: .*livenessProbe grpc port 9000 → removed/);
    expect(table.stdout).toContain("1 rewrite warning");
    const json = JSON.parse(audit(["--diff", "--format", "json", "-"], { input }).stdout);
    expect(json.results[0].patch).toEqual([{ op: "remove", path: "/spec/template/spec/containers/0/livenessProbe" }]);
    expect(json.results[0].rewriteWarnings.join("\n")).toMatch(/→ removed/);
    expect(json.results[0].findings[0]).toMatchObject({ line: 1, column: expect.any(Number) });
    expect(json.summary.warnings).toBe(1);
  });
});

describe("every result belongs to the policy that produced it (the whole bundle on a render)", () => {
  // What a user audits: a chart render (Prometheus CRs + the operator) and a broken StatefulSet, with both validating policies.
  const bundleDir = mkdtempSync(join(tmpdir(), "lpp-bundle-"));
  for (const name of ["reject-loopback-probes", "reject-listenlocal-reloader-probes"]) cpSync(wasmPath(name), join(bundleDir, `${name}.wasm`));
  const input = `${readFileSync(join(ROOT, "tests", "fixtures", "operator-render", "render.yaml"), "utf8")}\n---\n${readFileSync(join(EXAMPLES, "prometheus-listenlocal-broken.yaml"), "utf8")}`;
  const run = (args: string[]) => runCli(["audit", "--bundle", bundleDir, ...args, "-"], { input, env: { SOURCE_DATE_EPOCH: "1700000000" } });
  // Checked against the upstream CRD where it is present (tests/support/upstream.ts); the
  // field-by-field comparison with openreports.go in tests/unit/openreport.test.ts runs everywhere.
  const validateReport = UPSTREAM_PRESENT ? new Ajv({ allErrors: true, strict: false }).compile(crdSchema(UPSTREAM_FILES.openReport, "v1alpha1")) : null;
  const listenLocalMeta = parse(readFileSync(join(ROOT, "policies", "reject-listenlocal-reloader-probes", "metadata.yml"), "utf8")).annotations;

  it("reports: the Prometheus CR's result is reject-listenlocal-reloader-probes', the StatefulSet's reject-loopback-probes'", () => {
    for (const format of ["policyreport", "openreport", "report"]) {
      const r = run(["--format", format, "--mode", "protect"]);
      expect(r.code, r.stderr).toBe(1);
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
      const prometheus = docs.find((d) => d.scope.kind === "Prometheus" && d.scope.name === "monitoring-prometheus");
      expect(prometheus.results).toHaveLength(1);
      expect(prometheus.results[0]).toMatchObject({
        policy: "clusterwide-reject-listenlocal-reloader-probes",
        result: "fail",
        category: listenLocalMeta["io.kubewarden.policy.category"],
        severity: listenLocalMeta["io.kubewarden.policy.severity"],
        properties: { "policy-name": "reject-listenlocal-reloader-probes", "context-aware": "true", validating: "true" },
      });
      expect(prometheus.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
      const sts = docs.find((d) => d.scope.kind === "StatefulSet");
      expect(sts.results.map((x: { policy: string }) => x.policy)).toEqual(["clusterwide-reject-loopback-probes"]);
      expect(sts.results[0].properties["context-aware"]).toBeUndefined();
      expect(docs[0].apiVersion).toBe(format === "policyreport" ? "wgpolicyk8s.io/v1alpha2" : "openreports.io/v1alpha1");
      for (const doc of docs) expect(doc.summary.fail + doc.summary.pass + doc.summary.error + doc.summary.skip).toBe(doc.results.length);
      if (format !== "policyreport" && validateReport) for (const doc of docs) expect(validateReport(doc), JSON.stringify(validateReport.errors)).toBe(true);
    }
    // --policy-name renames one policy of the bundle by its module name.
    const renamed = parseAllDocuments(run(["--format", "openreport", "--policy-name", "reject-listenlocal-reloader-probes=listenlocal"]).stdout).map((d) => d.toJS());
    expect(renamed.find((d) => d.scope.kind === "Prometheus").results[0].policy).toBe("clusterwide-listenlocal");
    expect(run(["--format", "openreport", "--policy-name", "listenlocal"]).stderr).toContain("give MODULE=NAME");
  });

  it("json: the summary counts what the records hold, per policy too; each finding names its policy", () => {
    const out = JSON.parse(run(["--format", "json"]).stdout);
    const records = out.results.flatMap((r: { findings: unknown[] }) => r.findings);
    const verdicts = out.results.flatMap((r: { verdicts: { policy: string; result: string; findings: number }[] }) => r.verdicts);
    expect(out.summary.findings).toBe(records.length);
    expect(records.length).toBe(2);
    expect(records.every((f: { policy: string }) => f.policy === "reject-loopback-probes")).toBe(true);
    expect(out.summary.rejectionsWithoutFindings).toBe(verdicts.filter((v: { result: string; findings: number }) => v.result === "fail" && v.findings === 0).length);
    expect(out.summary.rejectionsWithoutFindings).toBe(4);
    for (const [policy, counts] of Object.entries(out.summary.policies as Record<string, { fail: number; pass: number; findings: number }>)) {
      const own = verdicts.filter((v: { policy: string }) => v.policy === policy);
      expect(counts.fail).toBe(own.filter((v: { result: string }) => v.result === "fail").length);
      expect(counts.pass).toBe(own.filter((v: { result: string }) => v.result === "pass").length);
      expect(counts.findings).toBe(own.reduce((n: number, v: { findings: number }) => n + v.findings, 0));
    }
    const prom = out.results.find((r: { kind: string; name: string }) => r.kind === "Prometheus" && r.name === "monitoring-prometheus");
    expect(prom.verdicts).toEqual([expect.objectContaining({ policy: "reject-listenlocal-reloader-probes", result: "fail", findings: 0 })]);
  });

  it("sarif names the policy of every result; the table counts findings and rejections apart", () => {
    const results = sarifResults(run(["--format", "sarif"]).stdout) as (SarifResult & { properties: { policy: string } })[];
    expect(results.filter((r) => r.properties.policy === "reject-listenlocal-reloader-probes").map((r) => r.ruleId)).toEqual(Array(4).fill("unreachable-probe"));
    expect(results.filter((r) => r.properties.policy === "reject-loopback-probes").map((r) => r.ruleId)).toEqual(["loopback-only-listener", "loopback-only-listener"]);
    expect(run([]).stdout).toContain("2 findings and 4 rejections without probe details in 5 objects");
  });
});
