/**
 * The pure analysis behind reject-listenlocal-reloader-probes: versions, the
 * operator's spellings, the trusted locations, its command line as Go's flag
 * package reads it, which objects it reconciles (as prometheus-operator decides)
 * and the verdict.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../../scripts/generate-settings.js";
import { parseMetadata } from "../../src/toolchain/metadata.js";
import { readManifestsParallel } from "../../src/audit/read-parallel.js";
import { RUNS, SEED } from "../generators.js";
import { DEPLOY } from "../../src/cli/scaffold.js";
import { ROOT, runCli } from "../helpers.js";
import { assess, decide, isAffectedVersion, judgeOperator, monitoringResource, needsOperatorCheck, type MonitoringResource } from "../../src/analysis/prometheus-operator.js";
import {
  DEFAULT_TRUSTED_OPERATORS,
  formatVersion,
  operatorImage,
  type OperatorEvidence,
  operatorsInDeployments,
  parseImageReference,
  parseOperatorFlags,
  parseOperatorLocation,
  parseVersion,
  trustedDeployments,
  trustedNamespaces,
} from "../../src/analysis/prometheus-operator-identity.js";
import { matchesLabels, operatorSelects, parseLabelSelector } from "../../src/analysis/prometheus-operator-selection.js";

const deployment = (image: string, container: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  metadata: { name: "prometheus-operator", namespace: "monitoring", ...metadata },
  spec: { ...extra, template: { spec: { containers: [{ name: "op", image, ...container }] } } },
});
const evidence = (image: string, args: string[] = ["--enable-config-reloader-probes"], metadata: Record<string, unknown> = {}) =>
  operatorsInDeployments([deployment(image, { args }, {}, metadata)])[0]!;
const cr = (kind: string, apiVersion: string, spec: unknown, metadata: Record<string, unknown> = {}) => ({ apiVersion, kind, metadata: { name: "x", namespace: "monitoring", ...metadata }, spec });
const resource = (kind = "Prometheus", metadata: Record<string, unknown> = {}): MonitoringResource =>
  monitoringResource(cr(kind, kind === "PrometheusAgent" ? "monitoring.coreos.com/v1alpha1" : "monitoring.coreos.com/v1", { listenLocal: true }, metadata))!;

describe("versions", () => {
  it.each([
    ["v0.74.0", { major: 0, minor: 74, patch: 0 }],
    ["0.74.0", { major: 0, minor: 74, patch: 0 }],
    ["v0.75.0-rc.1", { major: 0, minor: 75, patch: 0 }],
    ["0.70.0-debian-12-r1", { major: 0, minor: 70, patch: 0 }],
    ["v0.74", { major: 0, minor: 74, patch: null }],
    ["latest", null],
    ["v0.74.0.1", null],
    ["main-2024", null],
    ["v4", null],
    [`0.74.0-${"x".repeat(200)}`, null],
  ])("%s", (tag, expected) => expect(parseVersion(tag)).toEqual(expected));

  it("the affected range is [v0.65.0, v0.75.0), a major.minor tag included", () => {
    const affected = (t: string) => isAffectedVersion(parseVersion(t)!);
    expect(["v0.64.9", "v0.64.0", "v0.64", "v0.75.0", "v0.75", "v0.93.0", "v1.0.0"].map(affected)).toEqual([false, false, false, false, false, false, false]);
    expect(["v0.65.0", "v0.65", "v0.70.1", "v0.74.0", "v0.74.99", "v0.74"].map(affected)).toEqual([true, true, true, true, true, true]);
  });
});

describe("how real installs spell the operator's image", () => {
  const identity = (image: string, extraImages: string[] = []) => operatorImage(parseImageReference(image)!, image, { extraImages });
  it.each([
    // upstream, its mirrors, Bitnami, Chainguard: the tag is the operator's version
    ["quay.io/prometheus-operator/prometheus-operator:v0.74.0", "prometheus-operator image", true],
    ["ghcr.io/prometheus-operator/prometheus-operator:v0.74.0", "prometheus-operator image", true],
    ["registry.example.com:5000/mirror/prometheus-operator:v0.70.0", "prometheus-operator image", true],
    ["docker.io/bitnami/prometheus-operator:0.74.0-debian-12-r3", "prometheus-operator image", true],
    ["cgr.dev/chainguard/prometheus-operator:latest", "prometheus-operator image", true],
    ["quay.io/prometheus-operator/prometheus-operator:v0.74.0@sha256:0123", "prometheus-operator image", true],
    // Rancher's rancher-monitoring (with or without its system default registry)
    ["rancher/mirrored-prometheus-operator-prometheus-operator:v0.72.0", "Rancher mirror", true],
    ["registry.rancher.com/rancher/mirrored-prometheus-operator-prometheus-operator:v0.65.1", "Rancher mirror", true],
    // OpenShift: the tag is OpenShift's version
    ["registry.redhat.io/openshift4/ose-prometheus-operator:v4.10.0-202204090935.p0.g73ddd44.assembly.stream", "OpenShift build", false],
    ["registry.redhat.io/openshift4/ose-prometheus-operator-rhel9@sha256:abcd", "OpenShift build", false],
  ] as const)("%s → %s", (image, spelling, tagIsVersion) => expect(identity(image)).toEqual({ spelling, tagIsVersion }));

  it("ignores the config-reloader, the admission webhook and look-alike names", () => {
    for (const image of [
      "quay.io/prometheus-operator/prometheus-config-reloader:v0.74.0",
      "rancher/mirrored-prometheus-operator-prometheus-config-reloader:v0.72.0",
      "quay.io/prometheus-operator/admission-webhook:v0.74.0",
      "nginx:1.27",
      "example.com/prometheus-operator-fork:v0.74.0",
      "prometheus-operator.example.com/x:v0.74.0",
    ])
      expect(identity(image), image).toBeNull();
  });

  it("operatorImages: * globs over the repository or the image as written, their tag read as the version", () => {
    expect(identity("registry.corp.example/mirrors/po:v0.74.0")).toBeNull();
    expect(identity("registry.corp.example/mirrors/po:v0.74.0", ["registry.corp.example/mirrors/po"])).toEqual({ spelling: 'operatorImages pattern "registry.corp.example/mirrors/po"', tagIsVersion: true });
    expect(identity("registry.corp.example/mirrors/po:v0.74.0", ["*/mirrors/p*"])).not.toBeNull();
    expect(identity("registry.corp.example/mirrors/po:v0.74.0", ["registry.corp.example/mirrors/po:v0.7*"])).not.toBeNull();
    expect(identity("registry.corp.example/mirrors/other:v0.74.0", ["registry.corp.example/mirrors/po"])).toBeNull();
  });

  it("parses references: registry port, tag, digest", () => {
    expect(parseImageReference("host:5000/a/b:v1@sha256:00")).toEqual({ repository: "host:5000/a/b", name: "b", tag: "v1", digest: "sha256:00" });
    expect(parseImageReference("host:5000/a/b")).toEqual({ repository: "host:5000/a/b", name: "b" });
    expect(parseImageReference("b@sha256:00")).toEqual({ repository: "b", name: "b", digest: "sha256:00" });
    expect(parseImageReference("")).toBeNull();
    expect(parseImageReference("x".repeat(2000))).toBeNull();
  });
});

describe("the operator's version: the tag where it is the version, else app.kubernetes.io/version beside app.kubernetes.io/name: prometheus-operator", () => {
  const kubePrometheusLabels = { labels: { "app.kubernetes.io/name": "prometheus-operator", "app.kubernetes.io/version": "0.74.0" } };
  // kube-prometheus-stack's operator: its app.kubernetes.io/version is the chart's version.
  const stackLabels = { labels: { "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator", "app.kubernetes.io/version": "61.3.0", "app.kubernetes.io/component": "prometheus-operator" } };
  const find = (image: string, metadata: Record<string, unknown> = {}, containerName = "op", template?: Record<string, unknown>) =>
    operatorsInDeployments([
      { metadata: { name: "po", namespace: "monitoring", ...metadata }, spec: { template: { ...(template ? { metadata: template } : {}), spec: { containers: [{ name: containerName, image, args: ["--enable-config-reloader-probes"] }] } } } },
    ]);

  it("a digest-pinned upstream image with a tag: the tag", () => {
    expect(find("quay.io/prometheus-operator/prometheus-operator:v0.74.0@sha256:4f8e…")[0]).toMatchObject({ version: { minor: 74 }, identifiedBy: "prometheus-operator image" });
  });
  it("digest only: kube-prometheus' labels say the version (on the Deployment or its pod template)", () => {
    expect(find("quay.io/prometheus-operator/prometheus-operator@sha256:4f8e", kubePrometheusLabels)[0]).toMatchObject({ version: { minor: 74, patch: 0 }, versionSource: "label app.kubernetes.io/version: 0.74.0" });
    expect(find("quay.io/prometheus-operator/prometheus-operator@sha256:4f8e", {}, "op", kubePrometheusLabels)[0]).toMatchObject({ version: { minor: 74 } });
  });
  it("digest only, no such labels: unknown, saying why (kube-prometheus-stack's chart version is never read as the operator's)", () => {
    for (const metadata of [{}, stackLabels]) {
      const [op] = find("quay.io/prometheus-operator/prometheus-operator@sha256:4f8e0123456789abcdef0123", metadata);
      expect(op!.version).toBeNull();
      expect(op!.versionProblem).toContain("pinned by digest only (sha256:4f8e0123456789ab…)");
      expect(op!.versionProblem).toContain("no app.kubernetes.io/version label beside app.kubernetes.io/name: prometheus-operator");
      expect(judgeOperator(op!)).toMatchObject({ affected: "unknown" });
    }
  });
  it("the tag wins over a label that disagrees (the tag is what runs)", () => {
    expect(find("quay.io/prometheus-operator/prometheus-operator:v0.70.0", kubePrometheusLabels)[0]!.version).toEqual({ major: 0, minor: 70, patch: 0 });
  });
  it("OpenShift builds: never the tag (v4.16.0 is OpenShift's version); the labels, or unknown", () => {
    const [noLabels] = find("registry.redhat.io/openshift4/ose-prometheus-operator:v4.16.0");
    expect(noLabels!.version).toBeNull();
    expect(noLabels!.versionProblem).toContain("an OpenShift build's tag is not the operator's version");
    expect(find("registry.redhat.io/openshift4/ose-prometheus-operator:v4.16.0", kubePrometheusLabels)[0]!.version).toMatchObject({ minor: 74 });
  });
  it("OpenShift's release images (a name that says nothing): container prometheus-operator + app.kubernetes.io/name label", () => {
    const releaseImage = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:0123";
    const [op] = find(releaseImage, kubePrometheusLabels, "prometheus-operator");
    expect(op).toMatchObject({ version: { minor: 74 }, identifiedBy: "container prometheus-operator in a Deployment labelled app.kubernetes.io/name: prometheus-operator" });
    // Either alone is not enough.
    expect(find(releaseImage, kubePrometheusLabels, "operator")).toEqual([]);
    expect(find(releaseImage, {}, "prometheus-operator")).toEqual([]);
    expect(find(releaseImage, stackLabels, "prometheus-operator")).toEqual([]);
  });
  it("a label that is not a version: unknown, quoting it", () => {
    const [op] = find("quay.io/prometheus-operator/prometheus-operator@sha256:00", { labels: { "app.kubernetes.io/name": "prometheus-operator", "app.kubernetes.io/version": "main" } });
    expect(op!.versionProblem).toContain('its app.kubernetes.io/version label "main" is not a version either');
  });
});

describe("trusted locations: only Deployments there are ever read", () => {
  const locations = ["monitoring", "platform/prometheus-operator", "platform/po-2"].map(parseOperatorLocation);
  const d = (namespace: string | undefined, name: string) => ({ metadata: { name, ...(namespace === undefined ? {} : { namespace }) } });
  it("asks for each namespace once, in order; the default list is the kube-prometheus, OpenShift and Rancher namespaces", () => {
    expect(trustedNamespaces(locations)).toEqual(["monitoring", "platform"]);
    expect(DEFAULT_TRUSTED_OPERATORS).toEqual(["monitoring", "openshift-monitoring", "openshift-user-workload-monitoring", "cattle-monitoring-system"]);
    expect(parseOperatorLocation("a/b")).toEqual({ namespace: "a", name: "b" });
  });
  it("keeps a whole namespace, only the named Deployments of a namespace/name location, and says which names are missing", () => {
    const { deployments, missing } = trustedDeployments(
      [
        { namespace: "monitoring", items: [d("monitoring", "a"), d(undefined, "b")] },
        { namespace: "platform", items: [d("platform", "prometheus-operator"), d("platform", "tenant-look-alike")] },
      ],
      locations,
    );
    expect(deployments).toEqual([d("monitoring", "a"), d(undefined, "b"), d("platform", "prometheus-operator")]);
    expect(missing).toEqual(["platform/po-2"]);
  });
  it("an answer that says another namespace than the one asked for is dropped, whoever answered", () => {
    const { deployments } = trustedDeployments([{ namespace: "monitoring", items: [d("team-a", "prometheus-operator"), "junk", null] }], locations);
    expect(deployments).toEqual([]);
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
    [["--tls-insecure", "--enable-config-reloader-probes"], "on"],
    [["run", "--enable-config-reloader-probes"], "off"],
    [["--", "--enable-config-reloader-probes"], "off"],
    [["--localhost", "--enable-config-reloader-probes"], "off"],
  ] as const)("%j → probes %s", (args, probes) => expect(parseOperatorFlags(args).probes).toBe(probes));

  it("reads --localhost (default localhost) and keeps every value of repeated flags, in order", () => {
    expect(parseOperatorFlags([]).localhost).toBe("localhost");
    expect(parseOperatorFlags(["--localhost=127.0.0.1"]).localhost).toBe("127.0.0.1");
    const flags = parseOperatorFlags(["--localhost", "::1", "--localhost=::2", "--namespaces=a", "--namespaces", "b"]);
    expect(flags.localhost).toBe("::2");
    expect(flags.values.get("namespaces")).toEqual(["a", "b"]);
  });

  it("takes flags from command[1:] + args when command runs the operator, and refuses to guess through a shell", () => {
    const [fromArgs] = operatorsInDeployments([deployment("quay.io/prometheus-operator/prometheus-operator:v0.74.0", { args: ["--enable-config-reloader-probes"] })]);
    expect(fromArgs!.flags.probes).toBe("on");
    const [fromCommand] = operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { command: ["/bin/operator", "--enable-config-reloader-probes"], args: ["--localhost=127.0.0.1"] })]);
    expect(fromCommand!.flags).toMatchObject({ probes: "on", localhost: "127.0.0.1" });
    const [chainguard] = operatorsInDeployments([deployment("cgr.dev/chainguard/prometheus-operator:0.74.0", { command: ["/usr/bin/operator"], args: ["--enable-config-reloader-probes"] })]);
    expect(chainguard!.flags.probes).toBe("on");
    const [shell] = operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { command: ["sh", "-c", "exec /bin/operator --enable-config-reloader-probes"] })]);
    expect(shell!.flags.probes).toBe("unknown");
    const [bad] = operatorsInDeployments([deployment("x/prometheus-operator:v0.74.0", { args: "--enable-config-reloader-probes" })]);
    expect(bad!.flags.probes).toBe("unknown");
  });

  it("finds only operator containers, and notes Deployments scaled to zero", () => {
    const found = operatorsInDeployments([deployment("nginx:1"), deployment("x/prometheus-operator:v0.74.0", {}, { replicas: 0 }), "not an object", { metadata: { name: "empty" } }]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ name: "monitoring/prometheus-operator", scaledToZero: true });
    expect(judgeOperator(found[0]!)).toEqual({ affected: false, why: "scaled to 0 replicas" });
  });
});

describe("custom resources", () => {
  it("reads the four kinds at their served apiVersion only, with labels and the controller-id annotation", () => {
    expect(monitoringResource(cr("Prometheus", "monitoring.coreos.com/v1", { listenLocal: true }))).toMatchObject({ kind: "Prometheus", listenLocal: true, controllerId: "" });
    expect(monitoringResource(cr("PrometheusAgent", "monitoring.coreos.com/v1alpha1", {}))).toMatchObject({ listenLocal: false });
    expect(monitoringResource(cr("PrometheusAgent", "monitoring.coreos.com/v1", {}))).toBeNull();
    expect(monitoringResource(cr("ServiceMonitor", "monitoring.coreos.com/v1", {}))).toBeNull();
    expect(monitoringResource(cr("toString", "monitoring.coreos.com/v1", {}))).toBeNull();
    expect(monitoringResource(cr("Prometheus", "monitoring.coreos.com/v1", { listenLocal: "true" }))).toMatchObject({ listenLocal: false });
    const r = resource("Prometheus", { labels: { team: "a", n: 1, toString: "x" }, annotations: { "operator.prometheus.io/controller-id": "ns/po" } });
    expect([...r.labels]).toEqual([["team", "a"], ["toString", "x"]]);
    expect(r.controllerId).toBe("ns/po");
    expect(resource("Prometheus", { annotations: { constructor: "x" } }).controllerId).toBe("");
  });
  it("ProcessSignal removes the reloader of Prometheus and PrometheusAgent only", () => {
    const check = (kind: string, av: string) => needsOperatorCheck(monitoringResource(cr(kind, av, { listenLocal: true, reloadStrategy: "ProcessSignal" }))!);
    expect(check("Prometheus", "monitoring.coreos.com/v1")).toBe(false);
    expect(check("PrometheusAgent", "monitoring.coreos.com/v1alpha1")).toBe(false);
    expect(check("Alertmanager", "monitoring.coreos.com/v1")).toBe(true);
  });
});

describe("which objects an operator reconciles (prometheus-operator v0.65–v0.74 semantics)", () => {
  type Row = [label: string, args: string[], kind: string, namespace: string, expected: boolean | "unknown", why?: string];
  const rows: Row[] = [
    ["no flags: every namespace", [], "Prometheus", "team-b", true],
    ["--namespaces lists it", ["--namespaces=monitoring,team-b"], "Alertmanager", "team-b", true],
    ["--namespaces does not list it", ["--namespaces=monitoring"], "Alertmanager", "team-b", false, "watches Alertmanager objects only in --namespaces=monitoring, not in namespace team-b"],
    ["repeated --namespaces add up", ["--namespaces=a", "--namespaces=team-b"], "Prometheus", "team-b", true],
    ["entries are not trimmed", ["--namespaces=a, team-b"], "Prometheus", "team-b", false],
    ["--namespaces= is every namespace", ["--namespaces="], "Prometheus", "team-b", true],
    ["an empty entry among others is every namespace too", ["--namespaces=a,"], "Prometheus", "team-b", true],
    ["--deny-namespaces excludes it", ["--deny-namespaces=team-b,x"], "ThanosRuler", "team-b", false, "its --deny-namespaces=team-b,x excludes namespace team-b"],
    ["--deny-namespaces lists others", ["--deny-namespaces=x"], "ThanosRuler", "team-b", true],
    ["--namespaces with --deny-namespaces: the operator does not start", ["--namespaces=team-b", "--deny-namespaces=x"], "Prometheus", "team-b", false, "does not start"],
    ["--prometheus-instance-namespaces wins over --namespaces for Prometheus", ["--namespaces=a", "--prometheus-instance-namespaces=team-b"], "Prometheus", "team-b", true],
    ["… and for PrometheusAgent", ["--namespaces=a", "--prometheus-instance-namespaces=team-b"], "PrometheusAgent", "team-b", true],
    ["… not for Alertmanager", ["--namespaces=a", "--prometheus-instance-namespaces=team-b"], "Alertmanager", "team-b", false],
    ["--alertmanager-instance-namespaces", ["--alertmanager-instance-namespaces=x"], "Alertmanager", "team-b", false, "--alertmanager-instance-namespaces=x"],
    ["--thanos-ruler-instance-namespaces", ["--thanos-ruler-instance-namespaces=team-b"], "ThanosRuler", "team-b", true],
    ["a named instance list ignores --deny-namespaces", ["--prometheus-instance-namespaces=team-b", "--deny-namespaces=team-b"], "Prometheus", "team-b", true],
    ["an all-namespaces instance list keeps --deny-namespaces", ["--prometheus-instance-namespaces=", "--deny-namespaces=team-b"], "Prometheus", "team-b", false],
    ["a list from an environment variable", ["--namespaces=$(WATCH)"], "Prometheus", "team-b", "unknown", "its --namespaces depends on an environment variable"],
  ];
  it.each(rows)("%s", (_l, args, kind, namespace, expected, why) => {
    const s = operatorSelects(evidence("quay.io/prometheus-operator/prometheus-operator:v0.74.0", args), resource(kind, { namespace }));
    expect(s.selects).toBe(expected);
    if (why) expect((s as { why: string }).why).toContain(why);
  });

  it("instance selectors match the object's labels, per kind, the last occurrence kept", () => {
    const op = (args: string[]) => evidence("quay.io/prometheus-operator/prometheus-operator:v0.74.0", args);
    const sel = (args: string[], kind: string, labels: Record<string, string>) => operatorSelects(op(args), resource(kind, { labels })).selects;
    expect(sel(["--prometheus-instance-selector=team=a"], "Prometheus", { team: "a" })).toBe(true);
    expect(sel(["--prometheus-instance-selector=team=a"], "Prometheus", { team: "b" })).toBe(false);
    expect(sel(["--prometheus-instance-selector=team=a"], "PrometheusAgent", {})).toBe(false);
    expect(sel(["--prometheus-instance-selector=team=a"], "Alertmanager", {})).toBe(true);
    expect(sel(["--alertmanager-instance-selector", "tier in (platform, shared)"], "Alertmanager", { tier: "shared" })).toBe(true);
    expect(sel(["--thanos-ruler-instance-selector=!legacy"], "ThanosRuler", { legacy: "" })).toBe(false);
    expect(sel(["--prometheus-instance-selector=team=b", "--prometheus-instance-selector=team=a"], "Prometheus", { team: "a" })).toBe(true);
    expect(sel(["--prometheus-instance-selector="], "Prometheus", {})).toBe(true);
    expect(operatorSelects(op(["--prometheus-instance-selector=team=(a"]), resource()).selects).toBe("unknown");
    expect((operatorSelects(op(["--prometheus-instance-selector=team=a"]), resource("Prometheus", { labels: { team: "b" } })) as { why: string }).why).toBe(
      "its --prometheus-instance-selector=team=a does not match the labels of Prometheus monitoring/x",
    );
  });

  it("--controller-id and the object's annotation must agree from v0.73.0; earlier releases ignore the annotation", () => {
    const annotated = resource("Prometheus", { annotations: { "operator.prometheus.io/controller-id": "openshift-monitoring/prometheus-operator" } });
    const plain = resource();
    const op = (tag: string, args: string[] = []) => evidence(`quay.io/prometheus-operator/prometheus-operator:${tag}`, ["--enable-config-reloader-probes", ...args]);
    const id = ["--controller-id=openshift-monitoring/prometheus-operator"];
    expect(operatorSelects(op("v0.74.0", id), annotated).selects).toBe(true);
    expect(operatorSelects(op("v0.74.0", id), plain)).toEqual({ selects: false, why: "reconciles only objects annotated operator.prometheus.io/controller-id: openshift-monitoring/prometheus-operator" });
    expect(operatorSelects(op("v0.74.0"), annotated)).toEqual({ selects: false, why: "reconciles only objects without a operator.prometheus.io/controller-id annotation" });
    expect(operatorSelects(op("v0.72.0"), annotated).selects).toBe(true);
    // Version unknown: it may be a release that ignores the annotation (the verdict is then unknown anyway).
    expect(operatorSelects(op("main"), annotated).selects).toBe(true);
  });
});

describe("label selectors (k8s.io/apimachinery labels.Parse)", () => {
  const labels = new Map([
    ["app", "web"],
    ["tier", "3"],
    ["empty", ""],
  ]);
  it.each([
    ["", true],
    ["app", true],
    ["!app", false],
    ["!missing", true],
    ["app=web", true],
    ["app==web", true],
    ["app!=web", false],
    ["missing!=x", true],
    ["empty=", true],
    ["app in (web,api)", true],
    ["app in(api)", false],
    ["app notin (api)", true],
    ["missing notin (x)", true],
    ["missing in (x)", false],
    ["tier>2", true],
    ["tier<2", false],
    ["app>2", false],
    [" app = web , tier ", true],
    ["example.com/owner", false],
  ])("%j matches: %s", (text, expected) => {
    const parsed = parseLabelSelector(text);
    expect(parsed).not.toBeNull();
    expect(matchesLabels(parsed!, labels)).toBe(expected);
  });
  it("an empty value is one", () => expect(parseLabelSelector("app=")).toEqual([{ key: "app", op: "=", values: [""] }]));
  it.each(["=web", "app in web", "app in (web", "app=web,", "app=(x)", "a b", "tier>x", "app=x=y", "ke y=1", "a=b c"])("%j is not one we read exactly", (text) => expect(parseLabelSelector(text)).toBeNull());
  it("a selector longer than 4096 characters is not read", () => expect(parseLabelSelector(`a=${"x".repeat(5000)}`)).toBeNull());
});

describe("the decision: affected, uncertain, no operator, clear", () => {
  const search = { locations: ["monitoring", "cattle-monitoring-system"], missing: [] };
  const named = (op: OperatorEvidence, name: string) => ({ ...op, name });
  const affected = named(evidence("quay.io/prometheus-operator/prometheus-operator:v0.74.0"), "monitoring/po");
  const fixed = named(evidence("rancher/mirrored-prometheus-operator-prometheus-operator:v0.76.0"), "cattle-monitoring-system/rancher-monitoring-operator");
  const elsewhere = named(evidence("quay.io/prometheus-operator/prometheus-operator:v0.74.0", ["--enable-config-reloader-probes", "--namespaces=monitoring"]), "monitoring/po-scoped");
  const unknownVersion = named(evidence("quay.io/prometheus-operator/prometheus-operator@sha256:0000"), "monitoring/po-digest");

  it("two operators that disagree: the affected one decides, the message explains the other", () => {
    const d = decide(resource("Prometheus", { namespace: "team-b" }), [fixed, affected], search);
    expect(d.verdict).toBe("affected");
    const message = (d as { message: string }).message;
    expect(message).toContain("Prometheus team-b/x sets spec.listenLocal: true, and prometheus-operator monitoring/po (v0.74.0, --enable-config-reloader-probes) will render");
    expect(message).toContain("Other operators seen: cattle-monitoring-system/rancher-monitoring-operator (v0.76.0, --enable-config-reloader-probes): renders exec probes (≥ v0.75.0).");
  });
  it("an affected operator that does not reconcile the object changes nothing", () => {
    expect(decide(resource("Prometheus", { namespace: "team-b" }), [elsewhere, fixed], search)).toEqual({ verdict: "clear" });
  });
  it("no operator reconciles it: a warning naming where the policy looked and what it saw there", () => {
    const d = decide(resource("Prometheus", { namespace: "team-b" }), [elsewhere], { ...search, missing: ["platform/po"] });
    expect(d.verdict).toBe("no-operator");
    const message = (d as { message: string }).message;
    expect(message).toContain("no prometheus-operator that reconciles it was found where the policy looks for one (trustedOperators: monitoring, cattle-monitoring-system)");
    expect(message).toContain("Operators seen there: monitoring/po-scoped (v0.74.0, --enable-config-reloader-probes): watches Prometheus objects only in --namespaces=monitoring, not in namespace team-b.");
    expect(message).toContain("Not found: platform/po.");
    expect(message).toContain("add that namespace (or namespace/name) to trustedOperators");
    expect(decide(resource(), [], search).verdict).toBe("no-operator");
  });
  it("an operator that cannot be judged: a warning, the others listed", () => {
    const d = decide(resource(), [unknownVersion, fixed], search);
    expect(d.verdict).toBe("uncertain");
    const message = (d as { message: string }).message;
    expect(message).toContain("could not be checked for monitoring/po-digest: version unknown: its image is pinned by digest only (sha256:0000)");
    expect(message).toContain("Other operators seen: cattle-monitoring-system/rancher-monitoring-operator");
    expect(message).toContain("pin operatorVersion and configReloaderProbes");
  });
  it("an operator cleared on its own stays cleared even when its reach is unknown", () => {
    const off = named(evidence("quay.io/prometheus-operator/prometheus-operator:v0.74.0", ["--namespaces=$(NS)"]), "monitoring/off");
    expect(assess(resource(), [off]).cleared).toHaveLength(1);
    const on = named(evidence("quay.io/prometheus-operator/prometheus-operator:v0.74.0", ["--enable-config-reloader-probes", "--namespaces=$(NS)"]), "monitoring/on");
    expect(assess(resource(), [on]).unknown[0]!.why).toContain("cannot tell whether it reconciles this object: its --namespaces depends on an environment variable");
  });
  it("messages stay bounded with many operators and long names", () => {
    const many = Array.from({ length: 40 }, (_, i) => named(affected, `ns${i}/${"o".repeat(300)}`));
    const d = decide(resource("ThanosRuler"), many, search) as { message: string };
    expect(d.message).toContain("and 35 more");
    expect(d.message).toContain("listening only on localhost:8080");
    expect(d.message.length).toBeLessThan(3000);
  });
});

describe("property: Deployments outside the trusted locations never change a decision", () => {
  const trusted = ["monitoring", "cattle-monitoring-system/rancher-monitoring-operator"].map(parseOperatorLocation);
  const namespaces = ["monitoring", "cattle-monitoring-system", "team-a", "team-b", "default", "kube-system"];
  const image = fc.tuple(
    fc.constantFrom("quay.io/prometheus-operator/prometheus-operator", "rancher/mirrored-prometheus-operator-prometheus-operator", "registry.redhat.io/openshift4/ose-prometheus-operator", "nginx"),
    fc.constantFrom(":v0.64.0", ":v0.70.0", ":v0.74.0", ":v0.76.0", "@sha256:00", ":latest"),
  ).map(([repo, ref]) => repo + ref);
  const args = fc.subarray(["--enable-config-reloader-probes", "--namespaces=team-b", "--deny-namespaces=team-b", "--prometheus-instance-namespaces=monitoring", "--prometheus-instance-selector=team=b", "--controller-id=x", "--localhost=127.0.0.1"]);
  const deployment = fc.record({
    namespace: fc.constantFrom(...namespaces),
    name: fc.constantFrom("prometheus-operator", "rancher-monitoring-operator", "look-alike"),
    image,
    args,
    labelled: fc.boolean(),
    replicas: fc.constantFrom(0, 1),
  }).map((d) => ({
    metadata: { name: d.name, namespace: d.namespace, ...(d.labelled ? { labels: { "app.kubernetes.io/name": "prometheus-operator", "app.kubernetes.io/version": "0.74.0" } } : {}) },
    spec: { replicas: d.replicas, template: { spec: { containers: [{ name: "prometheus-operator", image: d.image, args: d.args }] } } },
  }));
  const object = fc.record({ namespace: fc.constantFrom(...namespaces), team: fc.constantFrom("a", "b", undefined), kind: fc.constantFrom("Prometheus", "Alertmanager") });
  const search = { locations: ["monitoring", "cattle-monitoring-system/rancher-monitoring-operator"], missing: [] };
  const decision = (listings: { namespace: string; items: unknown[] }[], r: MonitoringResource) => {
    const { deployments, missing } = trustedDeployments(listings, trusted);
    return decide(r, operatorsInDeployments(deployments), { ...search, missing });
  };

  it("a host answering every namespace's Deployments for each list gives the decision of an honest one", () => {
    fc.assert(
      fc.property(fc.array(deployment, { maxLength: 8 }), object, (all, o) => {
        const r = resource(o.kind, { namespace: o.namespace, ...(o.team ? { labels: { team: o.team } } : {}) });
        const honest = trustedNamespaces(trusted).map((namespace) => ({ namespace, items: all.filter((d) => d.metadata.namespace === namespace) }));
        const careless = trustedNamespaces(trusted).map((namespace) => ({ namespace, items: all }));
        expect(decision(careless, r)).toEqual(decision(honest, r));
        // And adding look-alikes outside the trusted locations changes nothing.
        const tenants = all.map((d) => ({ ...d, metadata: { ...d.metadata, namespace: "team-a" } }));
        const withTenants = honest.map((l) => ({ ...l, items: [...l.items, ...tenants] }));
        expect(decision(withTenants, r)).toEqual(decision(honest, r));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe("the real manifests of ../shared/corpus", () => {
  const corpus = join(ROOT, "..", "shared", "corpus");
  it.runIf(existsSync(corpus))("recognises exactly the operator Deployments among all of them, with their versions and scope", async () => {
    // Only files that can hold a Deployment are parsed (the whole corpus takes long on a loaded machine).
    const files = readFileSync(join(corpus, "INDEX.tsv"), "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.split("\t")[4])
      .filter((f): f is string => f !== undefined && f !== "")
      .map((f) => join(corpus, f))
      .filter((f) => /kind:\s*"?Deployment\b|"kind":\s*"Deployment"/.test(readFileSync(f, "utf8")));
    // Read as the audit reads them: its fast reader, on this thread (tests/unit/read-parallel.test.ts
    // proves it reads the corpus as the reference reader does, at a fifth of the CPU).
    const deployments = (await readManifestsParallel(files, { inlineBelow: Number.POSITIVE_INFINITY })).objects.filter((o) => (o.object as { kind?: unknown }).kind === "Deployment");
    expect(deployments.length).toBeGreaterThan(400);
    const found = deployments.flatMap((d) => operatorsInDeployments([d.object]).map((op) => [relative(corpus, d.file), op.name, op.version && formatVersion(op.version)]));
    expect(found.sort()).toEqual(
      [
        ["metallb__metallb/dev-env/kube-prometheus/manifests/setup/prometheus-operator-deployment.yaml", "monitoring/prometheus-operator", "v0.57.0"],
        // cluster-monitoring-operator leaves the image empty (set from the release image at run time): known by its labels.
        ["openshift__cluster-monitoring-operator/assets/prometheus-operator-user-workload/deployment.yaml", "openshift-user-workload-monitoring/prometheus-operator", "v0.93.1"],
        ["openshift__cluster-monitoring-operator/assets/prometheus-operator/deployment.yaml", "openshift-monitoring/prometheus-operator", "v0.93.1"],
        ["prometheus-operator__kube-prometheus/manifests/prometheusOperator-deployment.yaml", "monitoring/prometheus-operator", "v0.93.1"],
        ["prometheus-operator__kube-prometheus@2e73de01/manifests/setup/prometheus-operator-deployment.yaml", "monitoring/prometheus-operator", "v0.36.0"],
        ["prometheus-operator__prometheus-operator/example/non-rbac/prometheus-operator.yaml", "default/prometheus-operator", "v0.52.0"],
        ["prometheus-operator__prometheus-operator/example/rbac/prometheus-operator/prometheus-operator-deployment.yaml", "default/prometheus-operator", "v0.93.0"],
      ].sort(),
    );
    // OpenShift's platform operator reconciles its own, annotated objects only.
    const cmo = deployments.find((d) => d.file.endsWith("assets/prometheus-operator/deployment.yaml"))!;
    const [op] = operatorsInDeployments([cmo.object]);
    const annotated = { annotations: { "operator.prometheus.io/controller-id": "openshift-monitoring/prometheus-operator" } };
    expect(operatorSelects(op!, resource("Prometheus", { namespace: "openshift-monitoring", ...annotated })).selects).toBe(true);
    expect(operatorSelects(op!, resource("Prometheus", { namespace: "openshift-monitoring" })).selects).toBe(false);
    expect(operatorSelects(op!, resource("Prometheus", { namespace: "team-b", ...annotated })).selects).toBe(false);
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
  it("deploy/reject-listenlocal-reloader-probes.yaml is what scaffold manifest prints (monitor mode, its deadline)", () => {
    const deployed = DEPLOY.policies.find((p) => p.policy === "reject-listenlocal-reloader-probes")!;
    const r = runCli(["scaffold", "manifest", "policies/reject-listenlocal-reloader-probes", "--mode", deployed.mode, "--timeout-eval-seconds", String(deployed.timeoutEvalSeconds)]);
    expect(r.stdout).toBe(readFileSync(join(ROOT, "deploy", "reject-listenlocal-reloader-probes.yaml"), "utf8"));
  });
});
