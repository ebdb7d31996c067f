/**
 * The pure analysis behind reject-listenlocal-reloader-probes: versions, image
 * references, the operator's command line as Go's flag package reads it, namespace
 * scoping and the verdict.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../../scripts/generate-settings.js";
import { parseMetadata } from "../../src/toolchain/metadata.js";
import { ROOT, runCli } from "../helpers.js";
import {
  affectedMessage,
  assess,
  isAffectedVersion,
  judgeOperator,
  monitoringResource,
  needsOperatorCheck,
  operatorsInDeployments,
  parseOperatorFlags,
  parseOperatorImage,
  parseVersion,
  uncertainMessage,
} from "../../src/analysis/prometheus-operator.js";

const deployment = (image: string, container: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  metadata: { name: "prometheus-operator", namespace: "monitoring" },
  spec: { ...extra, template: { spec: { containers: [{ name: "op", image, ...container }] } } },
});

describe("versions", () => {
  it.each([
    ["v0.74.0", { major: 0, minor: 74, patch: 0 }],
    ["0.74.0", { major: 0, minor: 74, patch: 0 }],
    ["v0.75.0-rc.1", { major: 0, minor: 75, patch: 0 }],
    ["0.70.0-debian-12-r1", { major: 0, minor: 70, patch: 0 }],
    ["latest", null],
    ["v0.74", null],
    ["v0.74.0.1", null],
    ["main-2024", null],
  ])("%s", (tag, expected) => expect(parseVersion(tag)).toEqual(expected));

  it("the affected range is [v0.65.0, v0.75.0)", () => {
    const affected = (t: string) => isAffectedVersion(parseVersion(t)!);
    expect(["v0.64.9", "v0.64.0", "v0.75.0", "v0.93.0", "v1.0.0"].map(affected)).toEqual([false, false, false, false, false]);
    expect(["v0.65.0", "v0.70.1", "v0.74.0", "v0.74.99"].map(affected)).toEqual([true, true, true, true]);
  });
});

describe("operator images", () => {
  it("reads the version from the tag of …/prometheus-operator images, mirrors included", () => {
    expect(parseOperatorImage("quay.io/prometheus-operator/prometheus-operator:v0.74.0")).toMatchObject({ version: { minor: 74 }, tag: "v0.74.0" });
    expect(parseOperatorImage("registry.example.com:5000/mirror/prometheus-operator:v0.70.0")).toMatchObject({ version: { minor: 70 } });
    expect(parseOperatorImage("prometheus-operator:v0.66.0@sha256:abc")).toMatchObject({ version: { minor: 66 }, digest: "sha256:abc" });
  });
  it("says why the version is unknown", () => {
    expect(parseOperatorImage("quay.io/prometheus-operator/prometheus-operator@sha256:0123456789abcdef0123")).toMatchObject({ version: null, problem: expect.stringContaining("pinned by digest only") });
    expect(parseOperatorImage("quay.io/prometheus-operator/prometheus-operator:main")).toMatchObject({ version: null, problem: 'tag "main" is not a version' });
    expect(parseOperatorImage("quay.io/prometheus-operator/prometheus-operator")).toMatchObject({ version: null, problem: expect.stringContaining("no tag") });
  });
  it("ignores other images, the config-reloader included", () => {
    for (const image of ["quay.io/prometheus-operator/prometheus-config-reloader:v0.74.0", "nginx:1.27", "example.com/prometheus-operator-fork:v0.74.0", "prometheus-operator.example.com/x:v0.74.0"])
      expect(parseOperatorImage(image), image).toBeNull();
  });
});

describe("the operator's command line (Go flag semantics)", () => {
  it.each([
    [[], "off"],
    [["--enable-config-reloader-probes"], "on"],
    [["-enable-config-reloader-probes"], "on"],
    [["--enable-config-reloader-probes=true"], "on"],
    [["--enable-config-reloader-probes=1"], "on"],
    [["--enable-config-reloader-probes=false"], "off"],
    [["--enable-config-reloader-probes=F"], "off"],
    [["--enable-config-reloader-probes", "--enable-config-reloader-probes=false"], "off"],
    [["--enable-config-reloader-probes=false", "--enable-config-reloader-probes"], "on"],
    [["--enable-config-reloader-probes=yes"], "unknown"],
    [["--enable-config-reloader-probes=$(PROBES)"], "unknown"],
    // A bool flag takes no separate value: "false" is the first non-flag argument and ends parsing.
    [["--enable-config-reloader-probes", "false"], "on"],
    [["--log-level", "debug", "--enable-config-reloader-probes"], "on"],
    [["run", "--enable-config-reloader-probes"], "off"],
    [["--", "--enable-config-reloader-probes"], "off"],
    [["--localhost", "--enable-config-reloader-probes"], "off"],
  ] as const)("%j → probes %s", (args, probes) => expect(parseOperatorFlags(args).probes).toBe(probes));

  it("reads --localhost (default localhost) and keeps the last value of repeated flags", () => {
    expect(parseOperatorFlags([]).localhost).toBe("localhost");
    expect(parseOperatorFlags(["--localhost=127.0.0.1"]).localhost).toBe("127.0.0.1");
    expect(parseOperatorFlags(["--localhost", "::1", "--namespaces=a", "--namespaces=b"]).values.get("namespaces")).toBe("b");
  });

  it("takes flags from command[1:] + args when command runs the operator, and refuses to guess through a shell", () => {
    const [fromArgs] = operatorsInDeployments([deployment("quay.io/prometheus-operator/prometheus-operator:v0.74.0", { args: ["--enable-config-reloader-probes"] })]);
    expect(fromArgs!.flags.probes).toBe("on");
    const [fromCommand] = operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { command: ["/bin/operator", "--enable-config-reloader-probes"], args: ["--localhost=127.0.0.1"] })]);
    expect(fromCommand!.flags).toMatchObject({ probes: "on", localhost: "127.0.0.1" });
    const [shell] = operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { command: ["sh", "-c", "exec /bin/operator --enable-config-reloader-probes"] })]);
    expect(shell!.flags.probes).toBe("unknown");
    const [bad] = operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { args: "--enable-config-reloader-probes" })]);
    expect(bad!.flags.probes).toBe("unknown");
  });

  it("finds only operator containers, and notes Deployments scaled to zero", () => {
    const found = operatorsInDeployments([
      deployment("nginx:1"),
      deployment("x/prometheus-operator:v0.74.0", {}, { replicas: 0 }),
      "not an object",
      { metadata: { name: "empty" } },
    ]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ name: "monitoring/prometheus-operator", scaledToZero: true });
    expect(judgeOperator(found[0]!)).toEqual({ affected: false, why: "scaled to 0 replicas" });
  });
});

describe("custom resources and the verdict", () => {
  const cr = (kind: string, apiVersion: string, spec: unknown) => ({ apiVersion, kind, metadata: { name: "x", namespace: "monitoring" }, spec });
  it("reads the four kinds at their served apiVersion only", () => {
    expect(monitoringResource(cr("Prometheus", "monitoring.coreos.com/v1", { listenLocal: true }))).toMatchObject({ kind: "Prometheus", listenLocal: true });
    expect(monitoringResource(cr("PrometheusAgent", "monitoring.coreos.com/v1alpha1", {}))).toMatchObject({ listenLocal: false });
    expect(monitoringResource(cr("PrometheusAgent", "monitoring.coreos.com/v1", {}))).toBeNull();
    expect(monitoringResource(cr("ServiceMonitor", "monitoring.coreos.com/v1", {}))).toBeNull();
    expect(monitoringResource(cr("toString", "monitoring.coreos.com/v1", {}))).toBeNull();
    expect(monitoringResource(cr("Prometheus", "monitoring.coreos.com/v1", { listenLocal: "true" }))).toMatchObject({ listenLocal: false });
  });
  it("ProcessSignal removes the reloader of Prometheus and PrometheusAgent only", () => {
    const check = (kind: string, av: string) => needsOperatorCheck(monitoringResource(cr(kind, av, { listenLocal: true, reloadStrategy: "ProcessSignal" }))!);
    expect(check("Prometheus", "monitoring.coreos.com/v1")).toBe(false);
    expect(check("PrometheusAgent", "monitoring.coreos.com/v1alpha1")).toBe(false);
    expect(check("Alertmanager", "monitoring.coreos.com/v1")).toBe(true);
  });
  it("namespace scoping: --namespaces, --<kind>-instance-namespaces, --deny-namespaces", () => {
    const op = (args: string[]) => operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { args: ["--enable-config-reloader-probes", ...args] })])[0]!;
    const res = monitoringResource(cr("Alertmanager", "monitoring.coreos.com/v1", { listenLocal: true }))!;
    expect(assess(res, [op(["--namespaces=monitoring,other"])]).affected).toHaveLength(1);
    expect(assess(res, [op(["--namespaces=other"])]).cleared[0]!.why).toBe("does not watch namespace monitoring");
    expect(assess(res, [op(["--namespaces=monitoring", "--alertmanager-instance-namespaces=x"])]).affected).toHaveLength(0);
    expect(assess(res, [op(["--prometheus-instance-namespaces=x"])]).affected).toHaveLength(1);
    expect(assess(res, [op(["--deny-namespaces=monitoring"])]).affected).toHaveLength(0);
  });
  it("one message naming the operator, the consequence and the three fixes; bounded with many operators", () => {
    const res = monitoringResource(cr("ThanosRuler", "monitoring.coreos.com/v1", { listenLocal: true }))!;
    const ops = Array.from({ length: 40 }, (_, i) => ({ ...operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { args: ["--enable-config-reloader-probes"] })])[0]!, name: `ns${i}/op` }));
    const a = assess(res, ops);
    const message = affectedMessage(res, a);
    expect(message).toContain("ThanosRuler monitoring/x sets spec.listenLocal: true, and prometheus-operator ns0/op (v0.74.0, --enable-config-reloader-probes)");
    expect(message).toContain("and 35 more");
    expect(message).toContain("listening only on localhost:8080");
    expect(message.length).toBeLessThan(2000);
    const unknown = assess(res, [operatorsInDeployments([deployment("x/prometheus-operator:main", { args: ["--enable-config-reloader-probes"] })])[0]!]);
    expect(unknown.unknown).toHaveLength(1);
    expect(uncertainMessage(res, unknown)).toContain('monitoring/prometheus-operator: tag "main" is not a version');
  });
});

describe("reject-listenlocal-reloader-probes files", () => {
  const dir = join(ROOT, "policies", "reject-listenlocal-reloader-probes");
  it("generated files are up to date (run `npm run generate`)", async () => {
    for (const [file, content] of Object.entries(await generatedFiles(dir))) expect(readFileSync(join(dir, file), "utf8"), file).toBe(content);
  });
  it("metadata: validating, versioned like the package, the four kinds, Deployments as context", () => {
    const metadata = parseMetadata(readFileSync(join(dir, "metadata.yml"), "utf8"));
    expect(metadata.mutating).toBe(false);
    expect(metadata.annotations["io.kubewarden.policy.version"]).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    expect(metadata.rules.flatMap((r) => r.resources).sort()).toEqual(["alertmanagers", "prometheusagents", "prometheuses", "thanosrulers"]);
    expect(metadata.contextAwareResources).toEqual([{ apiVersion: "apps/v1", kind: "Deployment" }]);
    const questions = parse(readFileSync(join(dir, "questions-ui.yml"), "utf8")).questions as { variable: string }[];
    expect(questions.map((q) => q.variable)).toEqual(Object.keys(JSON.parse(readFileSync(join(dir, "settings.schema.json"), "utf8")).properties));
  });
});

describe("scaffold manifest of a context-aware policy", () => {
  it("grants the contextAwareResources the metadata declares", () => {
    const r = runCli(["scaffold", "manifest", "policies/reject-listenlocal-reloader-probes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(parse(r.stdout).spec.contextAwareResources).toEqual([{ apiVersion: "apps/v1", kind: "Deployment" }]);
    expect(parse(runCli(["scaffold", "manifest", "policies/reject-loopback-probes"]).stdout).spec.contextAwareResources).toBeUndefined();
  });
  it("deploy/reject-listenlocal-reloader-probes.yaml is what scaffold manifest prints (monitor mode)", () => {
    const r = runCli(["scaffold", "manifest", "policies/reject-listenlocal-reloader-probes", "--mode", "monitor"]);
    expect(r.stdout).toBe(readFileSync(join(ROOT, "deploy", "reject-listenlocal-reloader-probes.yaml"), "utf8"));
  });
});
