/**
 * reject-listenlocal-reloader-probes and the host-call protocol, end to end
 * through the built modules (the policy under node:wasi and wasmtime): the module calls the
 * `kubewarden:javy/host` import, the runner appends the answer to stdin, the
 * policy reads it back.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import type { AdmissionRequest } from "../../src/kubewarden/protocol.js";
import { type AdmissionResponse, type LoadedPolicy, loadPolicy, validate } from "../../src/toolchain/evaluate.js";
import type { HostCallHandler, HostCallRequest } from "../../src/toolchain/host-calls.js";
import { parseSession, replayHandler } from "../../src/toolchain/host-session.js";
import { contextAwareResourcesOf, KubernetesObjects, kubernetesContextHandler } from "../../src/toolchain/kubernetes-context.js";
import { podRequest, recordComparison, ROOT, validateBoth, validateSettingsBoth, wasmBytes } from "../helpers.js";

const NAME = "reject-listenlocal-reloader-probes";
const DATA = join(ROOT, "policies", NAME, "test_data");

interface Case {
  request: string;
  session?: string;
  context?: string;
  metadata?: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  settings?: unknown;
  allowed: boolean;
  messageIncludes?: string[];
  warningsInclude?: string[];
  answerExcludes?: string[];
}
const cases = parse(readFileSync(join(DATA, "cases.yml"), "utf8")) as { cases: Case[]; invalidSettings: { settings: unknown; messageIncludes: string[] }[] };
const requestOf = (file: string) => JSON.parse(readFileSync(join(DATA, file), "utf8")) as AdmissionRequest;
const contextObjects = (file: string) => parseAllDocuments(readFileSync(join(DATA, "context", file), "utf8")).map((d) => d.toJS() as Record<string, unknown>).filter((o) => o !== null);

/** Records every call, then delegates. */
function spy(inner: HostCallHandler): HostCallHandler & { calls: HostCallRequest[] } {
  const calls: HostCallRequest[] = [];
  return Object.assign((c: HostCallRequest) => (calls.push(c), inner(c)), { calls });
}
const payloadOf = (c: HostCallRequest) => JSON.parse(new TextDecoder().decode(c.payload)) as Record<string, unknown>;

/**
 * validate under node:wasi and wasmtime, each with its own host (a replayed session is
 * consumed by the first run); the answers must be equal. Returns the answer and the
 * node run's host.
 */
async function validateBothEngines<H extends HostCallHandler>(policy: LoadedPolicy, request: AdmissionRequest, settings: unknown, makeHost: () => H): Promise<{ response: AdmissionResponse; host: H }> {
  const host = makeHost();
  const node = await validate(policy, request, settings, { engine: "node", hostCall: host });
  const wasmtime = await validate(policy, request, settings, { engine: "wasmtime", timeoutSeconds: null, hostCall: makeHost() });
  expect(wasmtime, "wasmtime and node:wasi disagree on validate").toEqual(node);
  recordComparison();
  return { response: node, host };
}

function withMetadata(request: AdmissionRequest, metadata: Case["metadata"]): AdmissionRequest {
  if (!metadata) return request;
  const object = request.object as { metadata: Record<string, unknown> };
  return {
    ...request,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    object: { ...object, metadata: { ...object.metadata, ...metadata } },
  } as AdmissionRequest;
}

describe(`${NAME} test_data (kwctl sessions replayed, cluster objects answered), both engines`, async () => {
  const policy = await loadPolicy(wasmBytes(NAME));
  const allowed = contextAwareResourcesOf(policy.metadata);

  it("declares apps/v1 Deployment in contextAwareResources", () => {
    expect(allowed).toEqual([{ apiVersion: "apps/v1", kind: "Deployment" }]);
  });

  const label = (c: Case) => `${c.request} ${c.session ?? c.context ?? "(no host)"} ${JSON.stringify(c.metadata ?? {})} ${JSON.stringify(c.settings ?? {})}`;
  it.each(cases.cases.map((c) => [label(c), c] as const))("%s", async (_l, c) => {
    const settings = c.settings ?? {};
    expect((await validateSettingsBoth(policy, settings)).valid).toBe(true);
    const exchanges = c.session ? parseSession(readFileSync(join(DATA, "sessions", c.session), "utf8"), c.session) : [];
    const objects = c.context ? new KubernetesObjects(contextObjects(c.context)) : null;
    const makeHost = () => spy(objects ? kubernetesContextHandler(objects, { allowed }) : replayHandler(exchanges, { allowed }));
    const { response, host } = await validateBothEngines(policy, withMetadata(requestOf(c.request), c.metadata), settings, makeHost);
    expect(response.allowed).toBe(c.allowed);
    for (const text of c.messageIncludes ?? []) expect(response.status?.message).toContain(text);
    for (const text of c.warningsInclude ?? []) expect(response.warnings?.join("\n")).toContain(text);
    if (!c.warningsInclude) expect(response.warnings).toBeUndefined();
    for (const text of c.answerExcludes ?? []) expect(JSON.stringify(response)).not.toContain(text);
    // Only namespaced lists of Deployments, never a cluster-wide one; a session is used up exactly.
    for (const call of host.calls) {
      expect(call.operation).toBe("list_resources_by_namespace");
      expect(payloadOf(call)).toMatchObject({ api_version: "apps/v1", kind: "Deployment" });
    }
    if (c.session) expect(host.calls).toHaveLength(exchanges.length);
    if (!c.session && !c.context) expect(host.calls).toEqual([]);
  });

  it.each(cases.invalidSettings.map((c) => [JSON.stringify(c.settings), c] as const))("refuses settings %s", async (_l, c) => {
    const verdict = await validateSettingsBoth(policy, c.settings);
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
const operator = (image: string, args: readonly string[], namespace = "monitoring") => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "prometheus-operator", namespace },
  spec: { replicas: 1, template: { spec: { containers: [{ name: "prometheus-operator", image, args: ["--kubelet-service=kube-system/kubelet", ...args] }] } } },
});
/** The documented rule (prometheus-operator #6682 / #6698), stated independently of the analysis code. */
function expectAffected(kind: string, versionTag: string, flag: keyof typeof FLAGS, listenLocal: boolean, reload: string | undefined): boolean {
  const minor = Number(versionTag.split(".")[1]);
  const hasReloaderSidecar = !(reload === "ProcessSignal" && (kind === "Prometheus" || kind === "PrometheusAgent"));
  return listenLocal && hasReloaderSidecar && flag === "on" && minor >= 65 && minor < 75;
}
const DEFAULT_NAMESPACES = ["monitoring", "openshift-monitoring", "openshift-user-workload-monitoring", "cattle-monitoring-system"];

describe(`${NAME}: the affected matrix through the module, host answering from objects, both engines`, async () => {
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
    // The same operator, cleared, in a tenant namespace: never read.
    const objects = new KubernetesObjects([operator(`quay.io/prometheus-operator/prometheus-operator:${r.v}`, FLAGS[r.flag]), operator("quay.io/prometheus-operator/prometheus-operator:v0.70.0", FLAGS.on, "team-a")]);
    const spec: Record<string, unknown> = { listenLocal: r.listenLocal, ...(r.reload ? { reloadStrategy: r.reload } : {}) };
    const { response, host } = await validateBothEngines(policy, crRequest(r.kind, r.version, r.resource, spec), {}, () => spy(kubernetesContextHandler(objects, { allowed })));
    const affected = expectAffected(r.kind, r.v, r.flag, r.listenLocal, r.reload);
    expect(response.allowed).toBe(!affected);
    expect(response.warnings).toBeUndefined();
    if (affected) {
      expect(response.status?.message).toContain(`${r.kind} monitoring/main sets spec.listenLocal: true, and prometheus-operator monitoring/prometheus-operator (${r.v}, --enable-config-reloader-probes)`);
      expect(response.status?.message).not.toContain("team-a");
    }
    // The request the module sent is the SDK's shape: one namespaced list per trusted namespace, in order.
    if (r.listenLocal && !(r.reload && (r.kind === "Prometheus" || r.kind === "PrometheusAgent"))) {
      expect(host.calls.map((c) => [c.binding, c.namespace, c.operation, payloadOf(c).namespace])).toEqual(DEFAULT_NAMESPACES.map((ns) => ["kubewarden", "kubernetes", "list_resources_by_namespace", ns]));
      expect(payloadOf(host.calls[0]!)).toMatchObject({ api_version: "apps/v1", kind: "Deployment" });
    } else expect(host.calls).toEqual([]);
  });
});

describe(`${NAME}: the host refusing`, async () => {
  const policy = await loadPolicy(wasmBytes(NAME));
  const request = crRequest("Prometheus", "v1", "prometheuses", { listenLocal: true });
  const objects = new KubernetesObjects([operator("quay.io/prometheus-operator/prometheus-operator:v0.74.0", FLAGS.on)]);
  it("Deployments not granted (contextAwareResources empty): accepted, with a warning quoting the host", async () => {
    const { response } = await validateBothEngines(policy, request, {}, () => kubernetesContextHandler(objects, { allowed: [] }));
    expect(response.allowed).toBe(true);
    expect(response.warnings?.[0]).toContain("refused by the host");
    expect(response.warnings?.[0]).toContain("Policy has not been granted access to Kubernetes apps/v1/Deployment resources");
    expect(response.warnings?.[0]).toContain("Pin operatorVersion and configReloaderProbes");
  });
  it("no host capabilities at all (a runner without context): accepted with a warning", async () => {
    const response = await validateBoth(policy, request, {});
    expect(response.allowed).toBe(true);
    expect(response.warnings?.[0]).toContain("not available from this host");
  });
  it("a garbage answer is a warning, not a crash", async () => {
    const response = await validateBoth(policy, request, {}, { hostCall: () => ({ ok: true, response: new TextEncoder().encode("[".repeat(5000)) }) });
    expect(response.allowed).toBe(true);
    expect(response.warnings?.[0]).toContain("nested too deeply");
  });
  it("a host that answers objects of other namespaces than the one asked for: they are not read", async () => {
    // A misbehaving (or hand-written offline) host: every namespace's list holds a tenant's affected look-alike.
    const lookAlike = operator("quay.io/prometheus-operator/prometheus-operator:v0.74.0", FLAGS.on, "team-a");
    const host = (): HostCallHandler => () => ({ ok: true, response: new TextEncoder().encode(JSON.stringify({ apiVersion: "v1", kind: "List", items: [lookAlike] })) });
    const { response } = await validateBothEngines(policy, request, {}, host);
    expect(response.allowed).toBe(true);
    expect(response.warnings?.[0]).toContain("no prometheus-operator that reconciles it was found");
    expect(JSON.stringify(response)).not.toContain("team-a");
  });
  it("pinned settings decide without the host", async () => {
    const { response, host } = await validateBothEngines(policy, request, { operatorVersion: "v0.74.0", configReloaderProbes: true }, () => spy(kubernetesContextHandler(objects, { allowed: [] })));
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
