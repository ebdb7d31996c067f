/**
 * reject-listenlocal-reloader-probes and the host-call protocol, end to end
 * through the built modules under node:wasi: the module calls the
 * `kubewarden:javy/host` import, the runner appends the answer to stdin, the
 * policy reads it back.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { AdmissionRequest } from "../../src/kubewarden/protocol.js";
import { loadPolicy, validate, validateSettings } from "../../src/toolchain/evaluate.js";
import type { HostCallHandler, HostCallRequest } from "../../src/toolchain/host-calls.js";
import { parseSession, replayHandler } from "../../src/toolchain/host-session.js";
import { contextAwareResourcesOf, KubernetesObjects, kubernetesContextHandler } from "../../src/toolchain/kubernetes-context.js";
import { podRequest, ROOT, wasmBytes } from "../helpers.js";

const NAME = "reject-listenlocal-reloader-probes";
const DATA = join(ROOT, "policies", NAME, "test_data");

interface Case {
  request: string;
  session?: string;
  settings?: unknown;
  allowed: boolean;
  messageIncludes?: string[];
  warningsInclude?: string[];
}
const cases = parse(readFileSync(join(DATA, "cases.yml"), "utf8")) as { cases: Case[]; invalidSettings: { settings: unknown; messageIncludes: string[] }[] };
const requestOf = (file: string) => JSON.parse(readFileSync(join(DATA, file), "utf8")) as AdmissionRequest;

/** Records every call, then delegates. */
function spy(inner: HostCallHandler): HostCallHandler & { calls: HostCallRequest[] } {
  const calls: HostCallRequest[] = [];
  return Object.assign((c: HostCallRequest) => (calls.push(c), inner(c)), { calls });
}

describe(`${NAME} test_data (kwctl sessions replayed)`, async () => {
  const policy = await loadPolicy(wasmBytes(NAME));
  const allowed = contextAwareResourcesOf(policy.metadata);

  it("declares apps/v1 Deployment in contextAwareResources", () => {
    expect(allowed).toEqual([{ apiVersion: "apps/v1", kind: "Deployment" }]);
  });

  it.each(cases.cases.map((c) => [`${c.request} ${c.session ?? "(no host)"} ${JSON.stringify(c.settings ?? {})}`, c] as const))("%s", async (_l, c) => {
    const settings = c.settings ?? {};
    expect((await validateSettings(policy, settings)).valid).toBe(true);
    const replay = replayHandler(c.session ? parseSession(readFileSync(join(DATA, "sessions", c.session), "utf8"), c.session) : [], { allowed });
    const host = spy(replay);
    const response = await validate(policy, requestOf(c.request), settings, { hostCall: host });
    expect(response.allowed).toBe(c.allowed);
    for (const text of c.messageIncludes ?? []) expect(response.status?.message).toContain(text);
    for (const text of c.warningsInclude ?? []) expect(response.warnings?.join("\n")).toContain(text);
    if (!c.warningsInclude) expect(response.warnings).toBeUndefined();
    // With a session every recorded exchange is used; without one the host is never asked.
    expect(replay.remaining()).toBe(0);
    if (!c.session) expect(host.calls).toEqual([]);
  });

  it.each(cases.invalidSettings.map((c) => [JSON.stringify(c.settings), c] as const))("refuses settings %s", async (_l, c) => {
    const verdict = await validateSettings(policy, c.settings);
    expect(verdict.valid).toBe(false);
    for (const text of c.messageIncludes) expect(verdict.message).toContain(text);
  });
});

// --- every kind × operator version × flag × listenLocal × reloadStrategy ---

const KINDS = [
  ["Prometheus", "v1", "prometheuses"],
  ["PrometheusAgent", "v1alpha1", "prometheusagents"],
  ["Alertmanager", "v1", "alertmanagers"],
  ["ThanosRuler", "v1", "thanosrulers"],
] as const;
const VERSIONS = ["v0.64.0", "v0.65.0", "v0.74.0", "v0.75.0", "v0.93.0"] as const;
const FLAGS = { on: ["--enable-config-reloader-probes"], off: [], false: ["--enable-config-reloader-probes=false"] } as const;
const RELOAD = [undefined, "ProcessSignal"] as const;

function crRequest(kind: string, version: string, resource: string, spec: Record<string, unknown>): AdmissionRequest {
  const object = { apiVersion: `monitoring.coreos.com/${version}`, kind, metadata: { name: "main", namespace: "monitoring" }, spec };
  return { uid: "u", kind: { group: "monitoring.coreos.com", version, kind }, resource: { group: "monitoring.coreos.com", version, resource }, operation: "CREATE", namespace: "monitoring", name: "main", object };
}
const operator = (image: string, args: readonly string[]) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "prometheus-operator", namespace: "monitoring" },
  spec: { replicas: 1, template: { spec: { containers: [{ name: "prometheus-operator", image, args: ["--kubelet-service=kube-system/kubelet", ...args] }] } } },
});
/** The documented rule (prometheus-operator #6682 / #6698), stated independently of the analysis code. */
function expectAffected(kind: string, versionTag: string, flag: keyof typeof FLAGS, listenLocal: boolean, reload: string | undefined): boolean {
  const minor = Number(versionTag.split(".")[1]);
  const hasReloaderSidecar = !(reload === "ProcessSignal" && (kind === "Prometheus" || kind === "PrometheusAgent"));
  return listenLocal && hasReloaderSidecar && flag === "on" && minor >= 65 && minor < 75;
}

describe(`${NAME}: the affected matrix through the module, host answering from objects`, async () => {
  const policy = await loadPolicy(wasmBytes(NAME));
  const allowed = contextAwareResourcesOf(policy.metadata);
  const rows = KINDS.flatMap(([kind, version, resource]) =>
    VERSIONS.flatMap((v) =>
      (Object.keys(FLAGS) as (keyof typeof FLAGS)[]).flatMap((flag) =>
        [true, false].flatMap((listenLocal) => RELOAD.map((reload) => ({ kind, version, resource, v, flag, listenLocal, reload }))),
      ),
    ),
  );
  it(`covers ${rows.length} combinations`, () => expect(rows.length).toBe(4 * 5 * 3 * 2 * 2));
  it.each(rows.map((r) => [`${r.kind} ${r.v} flag ${r.flag} listenLocal ${r.listenLocal} ${r.reload ?? "HTTP"}`, r] as const))("%s", async (_l, r) => {
    const host = spy(kubernetesContextHandler(new KubernetesObjects([operator(`quay.io/prometheus-operator/prometheus-operator:${r.v}`, FLAGS[r.flag])]), { allowed }));
    const spec: Record<string, unknown> = { listenLocal: r.listenLocal, ...(r.reload ? { reloadStrategy: r.reload } : {}) };
    const response = await validate(policy, crRequest(r.kind, r.version, r.resource, spec), {}, { hostCall: host });
    const affected = expectAffected(r.kind, r.v, r.flag, r.listenLocal, r.reload);
    expect(response.allowed).toBe(!affected);
    expect(response.warnings).toBeUndefined();
    if (affected) {
      expect(response.status?.message).toContain(`${r.kind} monitoring/main sets spec.listenLocal: true, and prometheus-operator monitoring/prometheus-operator (${r.v}, --enable-config-reloader-probes)`);
      // The request the module sent is the SDK's shape, at most one call per evaluation.
      expect(host.calls).toHaveLength(1);
      expect(host.calls[0]).toMatchObject({ binding: "kubewarden", namespace: "kubernetes", operation: "list_resources_all" });
      expect(JSON.parse(new TextDecoder().decode(host.calls[0]!.payload))).toMatchObject({ api_version: "apps/v1", kind: "Deployment" });
    }
    if (!r.listenLocal) expect(host.calls).toEqual([]);
  });
});

describe(`${NAME}: the host refusing`, async () => {
  const policy = await loadPolicy(wasmBytes(NAME));
  const request = crRequest("Prometheus", "v1", "prometheuses", { listenLocal: true });
  const objects = new KubernetesObjects([operator("quay.io/prometheus-operator/prometheus-operator:v0.74.0", FLAGS.on)]);
  it("Deployments not granted (contextAwareResources empty): accepted, with a warning quoting the host", async () => {
    const response = await validate(policy, request, {}, { hostCall: kubernetesContextHandler(objects, { allowed: [] }) });
    expect(response.allowed).toBe(true);
    expect(response.warnings?.[0]).toContain("refused by the host");
    expect(response.warnings?.[0]).toContain("Policy has not been granted access to Kubernetes apps/v1/Deployment resources");
    expect(response.warnings?.[0]).toContain("Pin operatorVersion and configReloaderProbes");
  });
  it("no host capabilities at all (a runner without context): accepted with a warning", async () => {
    const response = await validate(policy, request, {});
    expect(response.allowed).toBe(true);
    expect(response.warnings?.[0]).toContain("not available from this host");
  });
  it("a garbage answer is a warning, not a crash", async () => {
    const response = await validate(policy, request, {}, { hostCall: () => ({ ok: true, response: new TextEncoder().encode("[".repeat(5000)) }) });
    expect(response.allowed).toBe(true);
    expect(response.warnings?.[0]).toContain("nested too deeply");
  });
  it("pinned settings decide without the host", async () => {
    const host = spy(kubernetesContextHandler(objects, { allowed: [] }));
    const response = await validate(policy, request, { operatorVersion: "v0.74.0", configReloaderProbes: true }, { hostCall: host });
    expect(response.allowed).toBe(false);
    expect(host.calls).toEqual([]);
  });
});

describe("the host-call protocol through a test module (host-call-probe)", async () => {
  const probe = await loadPolicy(wasmBytes("host-call-probe"));
  const objects = new KubernetesObjects([
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns" }, data: { k: "✓ unicode" } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "other" } },
  ]);
  const context = kubernetesContextHandler(objects, { allowed: contextAwareResourcesOf(probe.metadata) });
  const run = async (settings: unknown, hostCall: HostCallHandler = context) => (await validate(probe, podRequest({ metadata: { name: "p" } }) as AdmissionRequest, settings, { hostCall })).warnings ?? [];
  const raw = (operation: string, payload: unknown, namespace = "kubernetes", binding = "kubewarden") => ({ binding, namespace, operation, payload: JSON.stringify(payload) });

  it("passes binding, namespace, operation and payload byte for byte, and reads each answer back from stdin", async () => {
    const host = spy(context);
    const payloads = [{ api_version: "v1", kind: "ConfigMap", namespace: "ns" }, { api_version: "v1", kind: "ConfigMap", name: "b", namespace: "other", disable_cache: true }];
    const warnings = await run({ calls: [raw("list_resources_by_namespace", payloads[0]), raw("get_resource", payloads[1])] }, host);
    expect(host.calls.map((c) => [c.binding, c.namespace, c.operation, new TextDecoder().decode(c.payload)])).toEqual([
      ["kubewarden", "kubernetes", "list_resources_by_namespace", JSON.stringify(payloads[0])],
      ["kubewarden", "kubernetes", "get_resource", JSON.stringify(payloads[1])],
    ]);
    expect(warnings).toHaveLength(2);
    // Each read returns only what the host appended for that call.
    expect(JSON.parse(warnings[0]!.slice(3)).items).toEqual([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns" }, data: { k: "✓ unicode" } }]);
    expect(JSON.parse(warnings[1]!.slice(3)).metadata.name).toBe("b");
  });

  it("the Javy plugin's __hostCall convention (as @kubewarden/policy-sdk calls it): true/false and the answer on stdin", async () => {
    const warnings = await run({ raw: true, calls: [raw("list_resources_all", { api_version: "v1", kind: "ConfigMap" }), raw("list_resources_all", { api_version: "v1", kind: "Secret" })] });
    expect(warnings[0]).toMatch(/^ok \{"apiVersion":"v1","kind":"List"/);
    expect(warnings[1]).toBe("error Policy has not been granted access to Kubernetes v1/Secret resources. The violation has been reported.");
  });

  it("unknown capabilities get Kubewarden's error answers, and the module goes on", async () => {
    const warnings = await run({ calls: [raw("nope", {}), raw("x", {}, "shell"), raw("x", {}, "k", "other"), raw("list_resources_all", { api_version: "v1", kind: "ConfigMap" })] });
    expect(warnings.slice(0, 3)).toEqual(["error unknown operation: nope", "error unknown namespace: shell", "error unknown binding: other"]);
    expect(warnings[3]).toMatch(/^ok /);
  });

  it("the typed API: items, refusals and failures as HostCapabilityError", async () => {
    expect(await run({ api: "listAllResources", request: { api_version: "v1", kind: "ConfigMap", field_masks: ["metadata.name"] } })).toEqual([
      'items=[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]',
    ]);
    expect((await run({ api: "listAllResources", request: { api_version: "apps/v1", kind: "Deployment" } }))[0]).toMatch(/^not-allowed: kubernetes\/list_resources_all \(apps\/v1 Deployment\): refused by the host/);
    expect((await run({ api: "getResource", request: { api_version: "v1", kind: "ConfigMap", name: "zz", namespace: "ns", disable_cache: false } }))[0]).toBe(
      `failed: kubernetes/get_resource (v1 ConfigMap in ns named zz): the host call failed: Cannot find v1/ConfigMap named 'zz' inside of namespace 'Some("ns")'`,
    );
  });

  it("an error answer from the host reaches the policy unchanged", async () => {
    const warnings = await run({ calls: [raw("list_resources_all", {})] }, () => ({ ok: false, error: "boom" }));
    expect(warnings).toEqual(["error boom"]);
  });
});
