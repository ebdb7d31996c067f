/**
 * The audit's output formats as pure functions: fitted tables, PolicyReport v2
 * layout, SARIF positions, URIs and fixes — on synthetic audit results, checked
 * against the CRD and SARIF schemas the repository keeps.
 */
import Ajv from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FindingRecord } from "../../src/analysis/reachability.js";
import { type AuditReport, bindPaths, mentionsFlag, probePath, type SourceAccess } from "../../src/audit/report/common.js";
import { formatJson } from "../../src/audit/report/json.js";
import { policyReports } from "../../src/audit/report/policyreport.js";
import { type ReportedPolicy, reportName, type ScannerReportOptions } from "../../src/audit/report/scanner-report.js";
import { artifactLocation, lineReplacement, sarifLog } from "../../src/audit/report/sarif.js";
import { fitWidths, formatTable, truncate, useColor } from "../../src/audit/report/table.js";
import type { AuditResult, PolicyVerdict } from "../../src/audit/evaluate.js";
import type { PolicyMetadata } from "../../src/toolchain/metadata.js";
import { ROOT } from "../helpers.js";

const schema = (name: string) => JSON.parse(readFileSync(join(ROOT, "tests", "schemas", name), "utf8"));
const ajv = () => new Ajv({ allErrors: true, strict: true });
const validatePolicyReport = ajv().compile(schema("policyreport-v1alpha2.schema.json"));
const validateSarif = ajv().compile(schema("sarif-2.1.0-required.schema.json"));

function statefulSet(name: string, namespace: string | undefined, extraMeta: Record<string, string> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, ...(namespace ? { namespace } : {}), ...extraMeta },
    spec: {
      template: {
        spec: {
          initContainers: [{ name: "sidecar", restartPolicy: "Always", env: [{ name: "LISTEN_ADDRESS", value: "127.0.0.1:9000" }] }],
          containers: [
            { name: "app", args: ["--verbose"] },
            { name: "reloader", args: ["--cluster.listen-address=", "--listen-address=127.0.0.1:8080"], livenessProbe: { httpGet: { port: 8080 } }, readinessProbe: { tcpSocket: { port: 9000 } } },
          ],
        },
      },
    },
  };
}

const finding = (over: Partial<FindingRecord> = {}): FindingRecord => ({
  container: "reloader",
  probe: "livenessProbe",
  handler: "httpGet",
  port: 8080,
  reason: "loopback-only-listener",
  binds: ["--listen-address=127.0.0.1:8080"],
  boundAddress: "127.0.0.1:8080",
  message: 'container "reloader" livenessProbe httpGet port 8080: bound only on loopback',
  fix: "probe with exec",
  ...over,
});

/** One verdict of one policy (reject-loopback-probes unless named). */
const verdict = (status: PolicyVerdict["status"], over: Partial<PolicyVerdict> = {}): PolicyVerdict => ({ policy: "reject-loopback-probes", status, findings: [], warnings: [], ...over });

/** An audit result; without verdicts, reject-loopback-probes' verdict is derived from the status, message and findings. */
function result(status: AuditResult["status"], object: Record<string, unknown>, over: Partial<AuditResult> = {}, line = 1): AuditResult {
  const manifest = { file: "deploy/app.yaml", documentIndex: 0, itemIndex: null, line, object } as AuditResult["manifest"];
  // Not enumerable: the reports never read it here, and results stay structured-clonable.
  Object.defineProperty(manifest, "locate", { value: () => null, enumerable: false });
  const optOut = over.skipReason === "opt-out";
  const derived =
    status === "skip" && !optOut
      ? []
      : [verdict(status === "skip" ? "pass" : status, { findings: over.findings ?? [], ...(over.message && !optOut ? { message: over.message } : {}), ...(optOut ? { optOut: over.message ?? "opted out" } : {}) })];
  return { manifest, status, findings: [], verdicts: over.verdicts ?? derived, ...over };
}

const metadata = (over: Partial<PolicyMetadata> = {}): PolicyMetadata => ({
  protocolVersion: "v1",
  rules: [],
  annotations: { "io.kubewarden.policy.severity": "medium", "io.kubewarden.policy.category": "Best Practices" },
  mutating: false,
  backgroundAudit: true,
  contextAwareResources: [],
  executionMode: "wasi",
  policyType: "kubernetes",
  ...over,
});

interface ReportOptionsOver {
  mode?: ReportedPolicy["mode"];
  metadata?: PolicyMetadata;
  policyNamespace?: string;
  managedBy?: string;
  /** Further policies of the audit, by their verdict name. */
  more?: [string, ReportedPolicy][];
}
/** Report options for reject-loopback-probes deployed as in deploy/ (and any `more`). */
const reportOptions = (over: ReportOptionsOver = {}): ScannerReportOptions => ({
  policies: new Map<string, ReportedPolicy>([
    ["reject-loopback-probes", { name: "reject-loopback-probes", mode: over.mode ?? "monitor", metadata: over.metadata ?? metadata(), ...(over.policyNamespace ? { namespace: over.policyNamespace } : {}) }],
    ...(over.more ?? []),
  ]),
  now: 1700000000,
  managedBy: over.managedBy ?? "kubewarden",
  defaultNamespace: "default",
});

describe("table layout", () => {
  it("truncates at the end, or at the start for paths", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abcdef", 4, true)).toBe("…def");
    expect(truncate("abc", 4)).toBe("abc");
  });

  it("fitWidths cuts the least important columns first, never below their minimum", () => {
    // 3 columns of 20 + 2 gaps of 2 = 64; fit 50 → cut 14, first from column 2 (down to 10), then column 0.
    expect(fitWidths([20, 20, 20], [5, 5, 10], 50, [2, 0, 1])).toEqual([16, 20, 10]);
    expect(fitWidths([20, 20, 20], [20, 20, 20], 10, [0, 1, 2])).toEqual([20, 20, 20]);
    expect(fitWidths([5, 5], [1, 1], 80, [0, 1])).toEqual([5, 5]);
  });

  const failing = result("fail", statefulSet("a-very-long-statefulset-name-that-goes-on-and-on", "monitoring"), {
    findings: [finding(), finding({ probe: "readinessProbe", handler: "tcpSocket", port: 9000, binds: ["LISTEN_ADDRESS=127.0.0.1:9000"], boundAddress: "127.0.0.1:9000" })],
    rewriteWarnings: ['StatefulSet monitoring/x: container "reloader" readinessProbe grpc port 9000 → removed'],
  });
  const errored = result("error", statefulSet("b", "monitoring"), { message: `internal error: ${"x".repeat(150)}` }, 40);
  const report: AuditReport = { results: [failing, errored, result("pass", statefulSet("c", "x"))], errors: [{ file: "bad.yaml", documentIndex: 1, kind: "yaml", message: "not valid YAML/JSON: oops" }], files: ["deploy/app.yaml", "bad.yaml"] };

  it("fits the width it is given, with reason and the binding setting", () => {
    for (const width of [80, 100, 120]) {
      const out = formatTable(report, { color: false, diff: false, wide: false, width });
      const lines = out.split("\n");
      // Free text (messages, warnings, errors, the summary) is never cut; the table is.
      for (const l of lines.filter((x) => !/^(warning:|error:|  ↳ |\d+ finding)/.test(x))) expect(l.length, l).toBeLessThanOrEqual(width);
      expect(out).toContain(`  ↳ internal error: ${"x".repeat(150)}\n`);
      expect(out).toContain("REASON");
      expect(out).toContain("BOUND BY");
    }
    const out = formatTable(report, { color: false, diff: false, wide: false, width: 120 });
    expect(out).toContain("--listen-address=127.0.0.1:8080");
    expect(out).toContain("LISTEN_ADDRESS=127.0.0.1:9000");
    expect(out).toContain("bound only on loopback");
    expect(out).toContain("deploy/app.yaml — StatefulSet/monitoring/a-very-long-statefulset-name-that-goes-on-and-on");
    expect(out).toContain("warning: deploy/app.yaml:1: StatefulSet monitoring/x");
    expect(out).toContain("error: bad.yaml (document 2): not valid YAML/JSON: oops");
    expect(out).toContain("1 rewrite warning");
  });

  it("--wide puts file:line and the object on every row and cuts nothing", () => {
    const out = formatTable(report, { color: false, diff: false, wide: true, width: 40 });
    const rows = out.split("\n").filter((l) => l.startsWith("deploy/app.yaml:"));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).not.toContain("…");
    expect(rows[0]).toContain("StatefulSet/monitoring/a-very-long-statefulset-name-that-goes-on-and-on");
    expect(rows[2]).toMatch(/^deploy\/app\.yaml:40 /);
  });

  it("colours every status, and only when asked", () => {
    const plain = formatTable(report, { color: false, diff: false, wide: false, width: 120 });
    expect(plain).not.toContain("\u001b[");
    const colour = formatTable(report, { color: true, diff: false, wide: false, width: 120 });
    expect(colour).toContain("\u001b[31mbound only on loopback\u001b[0m"); // fail: red
    expect(colour).toContain("\u001b[33mpolicy error\u001b[0m"); // error: yellow
    expect(colour).toContain("\u001b[32m1 passed\u001b[0m");
    expect(colour).toContain("\u001b[31m1 failed\u001b[0m");
    expect(colour).toContain("\u001b[33m2 errors (1 in objects, 1 unreadable document)\u001b[0m"); // the unreadable document counts

    // Without escape codes, the coloured table is the plain one.
    expect(colour.replace(/\u001b\[\d+m/g, "")).toBe(plain);
  });

  it("colour only on a terminal, never with --no-color or NO_COLOR", () => {
    expect(useColor({ isTTY: true, noColorFlag: false, env: {} })).toBe(true);
    expect(useColor({ isTTY: false, noColorFlag: false, env: {} })).toBe(false);
    expect(useColor({ isTTY: true, noColorFlag: true, env: {} })).toBe(false);
    expect(useColor({ isTTY: true, noColorFlag: false, env: { NO_COLOR: "1" } })).toBe(false);
    expect(useColor({ isTTY: true, noColorFlag: false, env: { NO_COLOR: "" } })).toBe(true); // no-color.org: set and not empty
  });
});

describe("where findings are written", () => {
  const object = statefulSet("s", "n");
  it("finds the probe by container name, sidecars included", () => {
    expect(probePath(object, finding())).toEqual(["spec", "template", "spec", "containers", 1, "livenessProbe"]);
    expect(probePath(object, finding({ container: "sidecar", probe: "startupProbe" }))).toEqual(["spec", "template", "spec", "initContainers", 0, "startupProbe"]);
    expect(probePath(object, finding({ container: "missing" }))).toBeNull();
    expect(probePath({ kind: "ConfigMap" }, finding())).toBeNull();
  });

  it("recognises a flag only as a whole flag, also inside sh -c scripts", () => {
    expect(mentionsFlag("--listen-address=127.0.0.1:8080", "--listen-address")).toBe(true);
    expect(mentionsFlag("--listen-address", "--listen-address")).toBe(true);
    expect(mentionsFlag("--cluster.listen-address=", "--listen-address")).toBe(false);
    expect(mentionsFlag("--listen-addresses=x", "--listen-address")).toBe(false);
    expect(mentionsFlag("exec app --cluster.listen-address= --listen-address 127.0.0.1:1", "--listen-address")).toBe(true);
  });

  it("finds the flag word or env entry that binds, the probed container first", () => {
    expect(bindPaths(object, finding())).toEqual([{ bind: "--listen-address=127.0.0.1:8080", path: ["spec", "template", "spec", "containers", 1, "args", 1] }]);
    expect(bindPaths(object, finding({ binds: ["LISTEN_ADDRESS=127.0.0.1:9000"] }))).toEqual([{ bind: "LISTEN_ADDRESS=127.0.0.1:9000", path: ["spec", "template", "spec", "initContainers", 0, "env", 0] }]);
    expect(bindPaths(object, finding({ binds: ["--not-there=1"] }))).toEqual([]);
  });
});

describe("PolicyReport v2", () => {
  const failing = result("fail", statefulSet("prom", "monitoring"), { message: "2 probes can never succeed", findings: [finding()] });
  const passing = result("pass", statefulSet("ok", undefined));
  const exported = result("pass", statefulSet("live", "prod", { uid: "0d4c3c52-4b5b-4a0a-9a43-0fdd5a6c1e01", resourceVersion: "4711" }));
  const errored = result("error", statefulSet("err", "monitoring"), { message: "internal server error: boom" });
  const namespace = result("pass", { apiVersion: "v1", kind: "Namespace", metadata: { name: "monitoring" } });
  const skipped = result("skip", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "x" } });
  const report: AuditReport = { results: [failing, passing, exported, errored, namespace, skipped], errors: [], files: ["deploy/app.yaml"] };

  it("writes one schema-valid report per audited object, none for objects no rule selects", () => {
    const docs = policyReports(report, reportOptions());
    expect(docs).toHaveLength(5);
    for (const doc of docs) expect(validatePolicyReport(doc), JSON.stringify(validatePolicyReport.errors)).toBe(true);
    expect(docs.map((d) => [d.kind, (d.metadata as { namespace?: string }).namespace, (d.metadata as { name: string }).name])).toEqual([
      ["PolicyReport", "monitoring", "statefulset-prom"],
      ["PolicyReport", "default", "statefulset-ok"],
      ["PolicyReport", "prod", "0d4c3c52-4b5b-4a0a-9a43-0fdd5a6c1e01"],
      ["PolicyReport", "monitoring", "statefulset-err"],
      ["ClusterPolicyReport", undefined, "namespace-monitoring"],
    ]);
  });

  it("has the scanner's labels, scope, ownerReferences (only with a UID), summary and result fields", () => {
    const [prom, , live, err, ns] = policyReports(report, reportOptions()) as Record<string, any>[];
    expect(prom!.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "kubewarden", "kubewarden.io/policyreport-version": "v2", "app.kubernetes.io/created-by": "loopback-probes-audit" });
    expect(Object.keys(prom!.metadata.labels)).not.toContain("kubewarden.io/audit-scanner-run-uid");
    expect(prom!.metadata.ownerReferences).toBeUndefined();
    expect(prom!.scope).toEqual({ apiVersion: "apps/v1", kind: "StatefulSet", namespace: "monitoring", name: "prom" });
    expect(prom!.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
    expect(prom!.results).toEqual([
      {
        source: "kubewarden",
        policy: "clusterwide-reject-loopback-probes",
        category: "Best Practices",
        severity: "info",
        timestamp: { seconds: 1700000000, nanos: 0 },
        result: "fail",
        scored: true,
        resourceSelector: {},
        message: "2 probes can never succeed",
        properties: { validating: "true", "policy-name": "reject-loopback-probes", "policy-uid": "", "policy-resource-version": "" },
      },
    ]);
    expect(live!.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "StatefulSet", name: "live", uid: "0d4c3c52-4b5b-4a0a-9a43-0fdd5a6c1e01" }]);
    expect(live!.scope).toEqual({ apiVersion: "apps/v1", kind: "StatefulSet", namespace: "prod", name: "live", uid: "0d4c3c52-4b5b-4a0a-9a43-0fdd5a6c1e01", resourceVersion: "4711" });
    expect(live!.results[0].message).toBeUndefined(); // allowed: no message, as the scanner
    expect(err!.summary).toEqual({ pass: 0, fail: 0, warn: 0, error: 1, skip: 0 });
    expect(err!.results[0].result).toBe("error");
    expect(ns!.metadata.namespace).toBeUndefined();
    expect(ns!.scope.namespace).toBeUndefined();
  });

  it("severity: info in monitor mode, else the policy's annotation, else none; namespaced and mutating policies", () => {
    const sev = (o: ReportOptionsOver) => (policyReports(report, reportOptions(o))[0]!.results as { severity?: string }[])[0]!.severity;
    expect(sev({ mode: "monitor" })).toBe("info");
    expect(sev({ mode: "protect" })).toBe("medium");
    expect(sev({ mode: "protect", metadata: metadata({ annotations: {} }) })).toBeUndefined();
    const [doc] = policyReports(report, reportOptions({ policyNamespace: "team-a", metadata: metadata({ mutating: true }), managedBy: "loopback-probes" })) as Record<string, any>[];
    expect(doc!.results[0].policy).toBe("namespaced-team-a-reject-loopback-probes");
    expect(doc!.results[0].properties).toEqual({ mutating: "true", "policy-name": "reject-loopback-probes", "policy-namespace": "team-a", "policy-uid": "", "policy-resource-version": "" });
    expect(doc!.metadata.labels["app.kubernetes.io/managed-by"]).toBe("loopback-probes");
  });

  it("report names are deterministic, valid, never UUID-shaped without a UID, and unique", () => {
    const weird = result("pass", { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "Not_A_Valid_Name", namespace: "x" } });
    const nameless = result("pass", { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { generateName: "web-" } });
    for (const r of [weird, nameless]) {
      expect(reportName(r)).toBe(reportName(structuredClone(r)));
      expect(reportName(r)).toMatch(/^statefulset-[a-z0-9-]*[0-9a-f]{10}$/);
    }
    expect(reportName(weird)).toContain("not-a-valid-name");
    const twice: AuditReport = { results: [failing, { ...failing, manifest: { ...failing.manifest, file: "other.yaml" } }], errors: [], files: [] };
    const names = policyReports(twice, reportOptions()).map((d) => (d.metadata as { name: string }).name);
    expect(new Set(names).size).toBe(2);
  });
});

describe("SARIF", () => {
  const text = "a: 1\nb: 2\nc: 3\n";
  it("lineReplacement covers exactly the changed lines", () => {
    expect(lineReplacement(text, text)).toBeNull();
    expect(lineReplacement(text, "a: 1\nb: 20\nb2: 1\nc: 3\n")).toEqual({ startLine: 2, endLine: 3, endColumn: 1, charOffset: 5, charLength: 5, inserted: "b: 20\nb2: 1\n" });
    expect(lineReplacement(text, "a: 1\nx: 0\nb: 2\nc: 3\n")).toMatchObject({ startLine: 2, endLine: 2, endColumn: 1, charLength: 0, inserted: "x: 0\n" });
    expect(lineReplacement("a\nb", "a\nc")).toEqual({ startLine: 2, endLine: 2, endColumn: 2, charOffset: 2, charLength: 1, inserted: "c" });
    const r = lineReplacement(text, "a: 1\nb: 20\nb2: 1\nc: 3\n")!;
    expect(text.slice(0, r.charOffset) + r.inserted + text.slice(r.charOffset + r.charLength)).toBe("a: 1\nb: 20\nb2: 1\nc: 3\n");
  });

  it("URIs: relative to the source root with %SRCROOT%, absolute file: URIs outside it, stdin named", () => {
    const opts = { sourceRoot: "/repo", cwd: "/repo/sub", stdinUri: "stdin" };
    expect(artifactLocation("x.yaml", opts)).toEqual({ uri: "sub/x.yaml", uriBaseId: "%SRCROOT%" });
    expect(artifactLocation("../a b.yaml", opts)).toEqual({ uri: "a%20b.yaml", uriBaseId: "%SRCROOT%" });
    expect(artifactLocation("../../tmp/x.yaml", opts)).toEqual({ uri: "file:///tmp/x.yaml" });
    expect(artifactLocation("/repository/x.yaml", opts)).toEqual({ uri: "file:///repository/x.yaml" });
    expect(artifactLocation("<stdin>", opts)).toEqual({ uri: "stdin" });
  });

  const failing = result("fail", statefulSet("prom", "monitoring"), { message: "m", findings: [finding()], patch: [{ op: "remove", path: "/x" }], rewriteWarnings: ["grpc probe removed"] }, 3);
  const source: SourceAccess = {
    locate: (_m, path) => (path.at(-1) === "livenessProbe" ? { line: 41, column: 11 } : path.at(-2) === "args" ? { line: 37, column: 15 } : null),
    locateError: () => ({ line: 7, column: 3 }),
    fixedText: () => ({ before: text, after: "a: 1\nb: 20\nc: 3\n" }),
  };
  const report: AuditReport = {
    results: [failing, result("error", statefulSet("e", "monitoring"), { message: "boom" }, 60), result("pass", statefulSet("p", "x"), { rewriteWarnings: ["not rewritten, malformed object"] }, 80)],
    errors: [{ file: "deploy/app.yaml", documentIndex: 2, kind: "yaml", message: "not valid YAML/JSON: bad indentation" }],
    files: ["deploy/app.yaml"],
    unreadable: [{ file: "missing.yaml", documentIndex: null, kind: "unreadable", message: "no such file or directory" }],
    source,
  };
  const options = { version: "1.2.3", informationUri: "https://example.com/lpp", sourceRoot: "/repo", cwd: "/repo", stdinUri: "stdin", fixes: true };

  it("is schema-valid, with probe and bind positions, fixes, error positions and full rule help", () => {
    const log = sarifLog(report, options) as any;
    expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
    const run = log.runs[0];
    expect(run.originalUriBaseIds).toEqual({ "%SRCROOT%": { uri: "file:///repo/" } });
    expect(run.invocations).toEqual([{ executionSuccessful: false, toolExecutionNotifications: [{ level: "error", message: { text: "cannot read missing.yaml: no such file or directory" } }] }]);
    for (const rule of run.tool.driver.rules) {
      expect(rule.help.markdown.length).toBeGreaterThan(40);
      expect(rule.help.text).not.toMatch(/`|\*\*/);
      expect(rule.fullDescription.text.length).toBeGreaterThan(20);
    }
    const byRule = (id: string) => run.results.filter((r: { ruleId: string }) => r.ruleId === id);
    const [probe] = byRule("loopback-only-listener");
    expect(run.tool.driver.rules[probe.ruleIndex].id).toBe("loopback-only-listener");
    expect(probe.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: "deploy/app.yaml", uriBaseId: "%SRCROOT%" }, region: { startLine: 41, startColumn: 11 } });
    expect(probe.relatedLocations).toEqual([
      { id: 0, physicalLocation: { artifactLocation: { uri: "deploy/app.yaml", uriBaseId: "%SRCROOT%" }, region: { startLine: 37, startColumn: 15 } }, message: { text: "binds the probed port: --listen-address=127.0.0.1:8080" } },
    ]);
    expect(probe.fixes[0].artifactChanges[0].replacements).toEqual([
      { deletedRegion: { startLine: 2, startColumn: 1, endLine: 3, endColumn: 1, charOffset: 5, charLength: 5 }, insertedContent: { text: "b: 20\n" } },
    ]);
    expect(probe.fixes[0].description.text).toContain("grpc probe removed");
    expect(probe.properties.rewriteWarnings).toEqual(["grpc probe removed"]);
    const [policyError] = byRule("policy-error");
    expect(policyError.locations[0].physicalLocation.region).toEqual({ startLine: 60, startColumn: 1 });
    const [warning] = byRule("rewrite-warning");
    expect(warning.message.text).toBe("not rewritten, malformed object");
    const [bad] = byRule("unreadable-document");
    expect(bad.level).toBe("error");
    expect(bad.message.text).toBe("document 3: not valid YAML/JSON: bad indentation");
    expect(bad.locations[0].physicalLocation.region).toEqual({ startLine: 7, startColumn: 3 });
  });

  it("fixes only when asked (--diff)", () => {
    const log = sarifLog(report, { ...options, fixes: false }) as any;
    expect(log.runs[0].results.some((r: { fixes?: unknown }) => r.fixes)).toBe(false);
  });

  it("without source access: the object's first line, no fixes", () => {
    const log = sarifLog({ ...report, source: undefined }, options) as any;
    expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
    const probe = log.runs[0].results.find((r: { ruleId: string }) => r.ruleId === "loopback-only-listener");
    expect(probe.locations[0].physicalLocation.region).toEqual({ startLine: 3, startColumn: 1 });
    expect(probe.fixes).toBeUndefined();
    expect(probe.relatedLocations).toBeUndefined();
  });

  it("the schema subset refuses misspelt members and bad values", () => {
    const log = sarifLog(report, options) as any;
    log.runs[0].results[0].locations[0].physicalLocation.region.startColum = 3;
    expect(validateSarif(log)).toBe(false);
    const stdin = sarifLog(report, options) as any;
    stdin.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri = "<stdin>";
    expect(validateSarif(stdin)).toBe(false);
  });
});

describe("JSON", () => {
  it("carries positions, warnings and error positions", () => {
    const r = result("fail", statefulSet("prom", "monitoring"), { findings: [finding()], rewriteWarnings: ["w1"] });
    const source: SourceAccess = { locate: (_m, p) => (p.at(-1) === "livenessProbe" ? { line: 9, column: 5 } : { line: 7, column: 9 }), locateError: () => ({ line: 2, column: 4 }), fixedText: () => null };
    const out = JSON.parse(formatJson({ results: [r], errors: [{ file: "b.yaml", documentIndex: 0, kind: "yaml", message: "bad" }], files: [], source }));
    expect(out.results[0].findings[0]).toMatchObject({ line: 9, column: 5, bindLocations: [{ bind: "--listen-address=127.0.0.1:8080", line: 7, column: 9 }] });
    expect(out.results[0].rewriteWarnings).toEqual(["w1"]);
    expect(out.errors[0]).toEqual({ file: "b.yaml", documentIndex: 0, kind: "yaml", message: "bad", line: 2, column: 4 });
    expect(out.summary.warnings).toBe(1);
  });
});

describe("the table's words match its numbers (issue 27) and it is terminal-safe (issue 21.3)", () => {
  const opts = { color: false, diff: false, wide: false, width: Infinity };
  const summaryLine = (out: string) => out.trimEnd().split("\n").at(-1)!;

  it("counts syntax errors and unreadable paths as errors, lists them, and says when nothing was audited", () => {
    const report: AuditReport = {
      results: [],
      errors: [{ file: "bad.yaml", documentIndex: 0, kind: "yaml", message: "not valid YAML: oops", line: 3, column: 1 }],
      unreadable: [{ file: "locked", documentIndex: null, kind: "unreadable", message: "EACCES: permission denied, scandir 'locked'" }],
      skipped: [
        { file: "chart/templates/deploy.yaml", documentIndex: 0, reason: "unrendered-template", message: "unrendered template: render it first (helm template …)", line: 1 },
        { file: "chart/Chart.yaml", documentIndex: null, reason: "not-a-manifest", message: "a Helm chart's metadata" },
      ],
      files: ["bad.yaml", "chart/templates/deploy.yaml"],
    };
    const out = formatTable(report, opts);
    expect(summaryLine(out)).toBe(
      "no findings; 0 objects in 2 files: 0 passed, 0 failed, 2 errors (1 unreadable document, 1 unreadable path), 2 skipped (1 not a manifest file, 1 unrendered template; --show-skipped lists them)",
    );
    expect(out).toContain("error: cannot read locked: EACCES: permission denied, scandir 'locked'\n");
    expect(out).toContain("error: bad.yaml (document 1): not valid YAML: oops\n");
    expect(out).toMatch(/warning: nothing was audited: no object a policy judges \(2 documents and objects skipped; --show-skipped lists them\); render templates first \(helm template … \| loopback-probes audit -\)/);
    expect(out).not.toContain("skipped: chart/");
    const listed = formatTable(report, { ...opts, showSkipped: true });
    expect(listed).toContain("skipped: chart/templates/deploy.yaml:1: unrendered-template: unrendered template: render it first (helm template …)\n");
    expect(listed).toContain("skipped: chart/Chart.yaml: not-a-manifest: a Helm chart's metadata\n");
    expect(summaryLine(listed)).not.toContain("--show-skipped");
  });

  it("after --fix, fixed findings are shown as fixed; a done rewrite is no warning, one left undone is", () => {
    const fixed = result("fail", statefulSet("fixed", "monitoring"), {
      findings: [finding()],
      fixed: true,
      rewriteWarnings: ['StatefulSet monitoring/fixed: container "reloader" livenessProbe httpGet port 8080 → exec probe from inside the pod (loopback-only-listener); it needs sh plus curl or wget in image "x"'],
    });
    const out = formatTable({ results: [fixed], errors: [], files: ["deploy/app.yaml"] }, opts);
    expect(out).toMatch(/reloader +liveness httpGet +8080 +--listen-address=127\.0\.0\.1:8080 +bound only on loopback +fixed by --fix\n/);
    expect(out).not.toContain("warning:");
    expect(summaryLine(out)).toBe("1 finding in 1 object, all fixed by --fix; 1 object in 1 file: 0 passed, 1 failed (1 fixed), 0 errors, 0 skipped");
    const partly = formatTable({ results: [fixed, result("fail", statefulSet("open", "monitoring"), { findings: [finding()], rewriteWarnings: ["StatefulSet monitoring/open: … → not rewritten (image has no shell)"] })], errors: [], files: ["deploy/app.yaml"] }, opts);
    expect(partly).toContain("warning: deploy/app.yaml:1: StatefulSet monitoring/open: … → not rewritten (image has no shell)\n");
    expect(summaryLine(partly)).toMatch(/^2 findings in 2 objects \(1 fixed by --fix, 1 not\);.*1 rewrite warning$/);
  });

  it("shows every policy's warnings (the context-aware policy's 'cannot decide') and what a template left unjudged", () => {
    const r = result("pass", statefulSet("p", "monitoring"), {
      policyWarnings: ["reject-listenlocal-reloader-probes: cannot decide: prometheus-operator's version is unknown"],
      notes: ["1 value is an unrendered template ({{ … }}): judged as unknown, never a finding", 'not judged: container "app" livenessProbe: it holds a template value'],
    });
    const out = formatTable({ results: [r], errors: [], files: ["deploy/app.yaml"] }, opts);
    expect(out).toContain("warning: deploy/app.yaml:1: StatefulSet/monitoring/p: reject-listenlocal-reloader-probes: cannot decide: prometheus-operator's version is unknown\n");
    expect(out).toContain('note: deploy/app.yaml:1: StatefulSet/monitoring/p: not judged: container "app" livenessProbe: it holds a template value\n');
    expect(summaryLine(out)).toContain("1 policy warning");
  });

  it("not on a terminal, nothing is cut (the FIX column included); on one, the table fits its width", () => {
    const long = result("fail", statefulSet("x".repeat(200), "monitoring"), { findings: [finding({ binds: [`--listen-address=127.0.0.1:8080${"#".repeat(150)}`] })] });
    const report: AuditReport = { results: [long], errors: [], files: ["deploy/app.yaml"] };
    const uncut = formatTable(report, opts);
    expect(uncut).toContain("exec probe (curl/wget)");
    expect(uncut).toContain("#".repeat(150));
    expect(uncut).not.toContain("…");
    for (const l of formatTable(report, { ...opts, width: 100 }).split("\n").filter((x) => x && !/^\d+ finding/.test(x))) expect(l.length, l).toBeLessThanOrEqual(100);
  });

  it("control characters from manifests and policies are shown escaped, colour or not; JSON and SARIF stay valid, and no markdown is built from them", () => {
    const evil = "evil\u001b[2J\u001b]0;owned\u0007\u009b31m\u202egnp.exe\r\nnext";
    const r = result("fail", statefulSet(evil, "monitoring"), {
      findings: [finding({ container: `c${evil}`, binds: [`--listen-address=127.0.0.1:8080${evil}`], message: `m${evil}` })],
      message: `policy says ${evil}`,
      policyWarnings: [`warn ${evil}`],
      rewriteWarnings: [`not rewritten ${evil}`],
      notes: [`not judged: ${evil}`],
    });
    const report: AuditReport = {
      results: [r, result("error", statefulSet("e", "x"), { message: `boom ${evil}` })],
      errors: [{ file: `bad${evil}.yaml`, documentIndex: 0, kind: "yaml", message: `oops ${evil}` }],
      unreadable: [{ file: `gone${evil}`, documentIndex: null, kind: "unreadable", message: "no such file or directory" }],
      files: ["deploy/app.yaml"],
    };
    for (const color of [false, true]) {
      const out = formatTable(report, { ...opts, color, diff: true, showSkipped: true });
      // Only our own colour codes (ESC [ n m) may remain.
      const ours = out.replace(/\u001b\[\d+m/g, "");
      expect(ours).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(ours).toContain("evil\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202egnp.exe\\r\\nnext");
      if (!color) expect(out).not.toContain("\u001b");
    }
    const json = formatJson(report);
    expect(JSON.parse(json).results[0].name).toBe(evil);
    expect(json.replace(/\n/g, "")).not.toMatch(/[\u0000-\u001f]/); // JSON escapes them (raw newlines only between tokens)
    const log = sarifLog(report, { version: "0", informationUri: "https://example.org", sourceRoot: "/repo", cwd: "/repo", stdinUri: "stdin", fixes: false });
    expect(validateSarif(JSON.parse(JSON.stringify(log)))).toBe(true);
    const markdown: string[] = [];
    JSON.stringify(log, (key, value) => {
      if (key === "markdown") markdown.push(String(value));
      return value;
    });
    expect(markdown.length).toBeGreaterThan(0);
    for (const m of markdown) expect(m).not.toMatch(/evil|owned|gnp/);
  });
});
