/**
 * Host capabilities answered offline: the Kubernetes context handler (request and
 * answer shapes, contextAwareResources gating, field masks, selectors, Kubewarden's
 * error answers), kwctl session parsing and replay, and the typed policy-side API
 * over a fake transport.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readManifests } from "../../src/audit/read.js";
import { readContextObjects } from "../../src/cli/host-context.js";
import { classifyHostError, type HostTransport, HostCapabilityError } from "../../src/kubewarden/host-capabilities.js";
import * as Kubernetes from "../../src/kubewarden/kubernetes.js";
import type { HostCallAnswer, HostCallRequest } from "../../src/toolchain/host-calls.js";
import { parseSession, replayHandler, SessionError } from "../../src/toolchain/host-session.js";
import { KubernetesObjects, kubernetesContextHandler, parseLabelSelector, pruneToMask } from "../../src/toolchain/kubernetes-context.js";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const call = (operation: string, payload: unknown, namespace = "kubernetes", binding = "kubewarden"): HostCallRequest => ({ binding, namespace, operation, payload: enc(payload) });
const answer = (a: HostCallAnswer) => (a.ok ? JSON.parse(new TextDecoder().decode(a.response)) : a.error);

const deploy = (ns: string | undefined, name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, ...(ns ? { namespace: ns } : {}), labels },
  spec: { replicas: 1, template: { spec: { containers: [{ name: "c", image: `img/${name}:1`, args: ["--a"] }, { name: "d", image: "side:1" }] } } },
});
const objects = new KubernetesObjects([
  deploy("monitoring", "prometheus-operator", { app: "op", tier: "control" }),
  deploy("default", "web", { app: "web" }),
  deploy(undefined, "loose"),
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" }, data: { a: "b" } },
  { kind: "NoApiVersion" },
]);
const handler = kubernetesContextHandler(objects, { allowed: [{ apiVersion: "apps/v1", kind: "Deployment" }] });

describe("Kubernetes context handler", () => {
  it("list_resources_all answers a List of every object of the kind", () => {
    const a = answer(handler(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment", label_selector: null, field_selector: null })));
    expect(a).toMatchObject({ apiVersion: "v1", kind: "List" });
    expect(a.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort()).toEqual(["loose", "prometheus-operator", "web"]);
  });
  it("list_resources_by_namespace filters by namespace (no namespace = default)", () => {
    const a = answer(handler(call("list_resources_by_namespace", { api_version: "apps/v1", kind: "Deployment", namespace: "default" })));
    expect(a.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort()).toEqual(["loose", "web"]);
    expect(answer(handler(call("list_resources_by_namespace", { api_version: "apps/v1", kind: "Deployment" })))).toBe("invalid request payload: missing field `namespace`");
  });
  it("get_resource answers the object, or Kubewarden's not-found error", () => {
    expect(answer(handler(call("get_resource", { api_version: "apps/v1", kind: "Deployment", name: "web", namespace: "default", disable_cache: false }))).metadata.name).toBe("web");
    expect(answer(handler(call("get_resource", { api_version: "apps/v1", kind: "Deployment", name: "nope", namespace: "default", disable_cache: false })))).toBe(
      `Cannot find apps/v1/Deployment named 'nope' inside of namespace 'Some("default")'`,
    );
    expect(answer(handler(call("get_resource", { api_version: "apps/v1", kind: "Deployment", name: "nope", namespace: null, disable_cache: false })))).toContain("inside of namespace 'None'");
  });
  it("prunes with field_masks like policy-evaluator (dot paths, arrays transparent)", () => {
    const a = answer(handler(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment", field_masks: ["metadata.name", "spec.template.spec.containers.image"], field_selector: "metadata.name=web" })));
    expect(a.items).toEqual([{ metadata: { name: "web" }, spec: { template: { spec: { containers: [{ image: "img/web:1" }, { image: "side:1" }] } } } }]);
    expect(pruneToMask({ a: 1, b: { c: 2 } }, new Map([["b", new Map()]]))).toEqual({ b: { c: 2 } });
  });
  it("label selectors: equality, inequality, sets, existence", () => {
    const names = (selector: string) =>
      answer(handler(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment", label_selector: selector }))).items.map((i: { metadata: { name: string } }) => i.metadata.name).sort();
    expect(names("app=op")).toEqual(["prometheus-operator"]);
    expect(names("app==web")).toEqual(["web"]);
    expect(names("app!=op")).toEqual(["loose", "web"]);
    expect(names("app in (op, web),tier")).toEqual(["prometheus-operator"]);
    expect(names("app notin (op)")).toEqual(["loose", "web"]);
    expect(names("!app")).toEqual(["loose"]);
    expect(parseLabelSelector("=x")).toBeNull();
  });
  it("refuses what contextAwareResources does not grant, with Kubewarden's words", () => {
    expect(answer(handler(call("list_resources_all", { api_version: "v1", kind: "ConfigMap" })))).toBe(
      "Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported.",
    );
    expect(answer(handler(call("get_resource", { api_version: "v1", kind: "Secret", name: "s", namespace: "default", disable_cache: true })))).toContain("has not been granted access");
  });
  it("answers unknown capabilities with Kubewarden's error answers, never an exception", () => {
    expect(answer(handler(call("delete_everything", {})))).toBe("unknown operation: delete_everything");
    expect(answer(handler(call("x", {}, "shell")))).toBe("unknown namespace: shell");
    expect(answer(handler(call("x", {}, "kubernetes", "other")))).toBe("unknown binding: other");
    expect(answer(handler(call("v1/dns_lookup_host", "example.com", "net")))).toContain("not available offline");
    expect(answer(handler(call("can_i", {})))).toContain("not available offline");
    expect(answer(handler({ ...call("list_resources_all", {}), payload: enc("{not json") }))).toMatch(/^invalid request payload/);
    expect(answer(handler(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment", field_masks: "x" })))).toContain("field_masks");
    expect(handler(call("log", {}, "tracing"))).toEqual({ ok: true, response: new Uint8Array() });
  });
});

const SESSION = `- type: Exchange
  request: |
    !KubernetesListResourceAll
    api_version: apps/v1
    kind: Deployment
    label_selector: null
    field_selector: null
  response:
    type: Success
    payload: '{"apiVersion":"v1","kind":"List","items":[]}'
- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: apps/v1
    kind: Deployment
    name: op
    namespace: monitoring
    disable_cache: false
  response:
    type: Error
    message: "Cannot find apps/v1/Deployment named 'op' inside of namespace 'Some(\\"monitoring\\")'"
`;

describe("kwctl session replay", () => {
  const allowed = [{ apiVersion: "apps/v1", kind: "Deployment" }];
  it("parses the tagged requests and both response types", () => {
    const s = parseSession(SESSION);
    expect(s.map((e) => e.request.type)).toEqual(["KubernetesListResourceAll", "KubernetesGetResource"]);
    expect(s[0]!.request.fields).toMatchObject({ api_version: "apps/v1", kind: "Deployment", label_selector: null });
    expect(s[1]!.response).toEqual({ ok: false, message: `Cannot find apps/v1/Deployment named 'op' inside of namespace 'Some("monitoring")'` });
  });
  it("replays in order; absent optional fields equal null; errors come wrapped as policy-evaluator wraps them", () => {
    const replay = replayHandler(parseSession(SESSION), { allowed });
    expect(answer(replay(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment" })))).toEqual({ apiVersion: "v1", kind: "List", items: [] });
    expect(replay.remaining()).toBe(1);
    expect(answer(replay(call("get_resource", { api_version: "apps/v1", kind: "Deployment", name: "op", namespace: "monitoring", disable_cache: false })))).toBe(
      `Callback evaluation failure: Cannot find apps/v1/Deployment named 'op' inside of namespace 'Some("monitoring")'`,
    );
    expect(answer(replay(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment" })))).toBe("Callback evaluation failure: the list of recorded responses is empty");
  });
  it("a different request is kwctl's 'unexpected request' error; gating comes first", () => {
    const replay = replayHandler(parseSession(SESSION), { allowed });
    expect(answer(replay(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment", label_selector: "app=x" })))).toMatch(
      /^Callback evaluation failure: Replay error: unexpected request\. Was expecting KubernetesListResourceAll .*, got KubernetesListResourceAll .*app=x/,
    );
    const denied = replayHandler(parseSession(SESSION), { allowed: [] });
    expect(answer(denied(call("list_resources_all", { api_version: "apps/v1", kind: "Deployment" })))).toContain("has not been granted access");
    expect(denied.remaining()).toBe(2);
  });
  it("field_masks compare as a set", () => {
    const s = parseSession(`- type: Exchange\n  request: "!KubernetesListResourceAll\\napi_version: v1\\nkind: Pod\\nfield_masks: [b, a]\\n"\n  response: {type: Success, payload: "{}"}\n`);
    const replay = replayHandler(s, { allowed: [{ apiVersion: "v1", kind: "Pod" }] });
    expect(replay(call("list_resources_all", { api_version: "v1", kind: "Pod", field_masks: ["a", "b", "a"] })).ok).toBe(true);
  });
  it.each([
    ["{}", "expected a YAML list"],
    ["- type: Other", 'expected "type: Exchange"'],
    ["- type: Exchange\n  request: 3\n  response: {type: Success, payload: x}", "must be a string"],
    ["- type: Exchange\n  request: 'api_version: v1'\n  response: {type: Success, payload: x}", "must start with a tag"],
    ["- type: Exchange\n  request: '!KubernetesGetResource {}'\n  response: {type: Maybe}", "Success or Error"],
    ["- type: Exchange\n  request: '!KubernetesGetResource {}'\n  response: {type: Error}", 'needs a string "message"'],
  ])("refuses a malformed session: %s", (text, message) => {
    expect(() => parseSession(text, "s.yml")).toThrow(SessionError);
    expect(() => parseSession(text, "s.yml")).toThrow(message);
  });
});

describe("policy-side API over a transport", () => {
  const fake = (ok: boolean, text: string, seen: HostCallRequest[] = []): HostTransport => ({
    call: (binding, namespace, operation, payload) => {
      seen.push({ binding, namespace, operation, payload });
      return { ok, bytes: enc(text) };
    },
  });
  it("sends the SDK's request shape and returns the List", () => {
    const seen: HostCallRequest[] = [];
    const list = Kubernetes.listAllResources({ api_version: "apps/v1", kind: "Deployment", field_masks: ["metadata.name"] }, fake(true, '{"items":[{"a":1}]}', seen));
    expect(list.items).toEqual([{ a: 1 }]);
    expect(seen[0]).toMatchObject({ binding: "kubewarden", namespace: "kubernetes", operation: "list_resources_all" });
    expect(JSON.parse(new TextDecoder().decode(seen[0]!.payload))).toEqual({ api_version: "apps/v1", kind: "Deployment", field_masks: ["metadata.name"] });
  });
  it("typed errors: refused, unavailable, failed, unreadable answers", () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as HostCapabilityError;
      }
      throw new Error("expected a HostCapabilityError");
    };
    const refused = err(() => Kubernetes.listAllResources({ api_version: "apps/v1", kind: "Deployment" }, fake(false, "Policy has not been granted access to Kubernetes apps/v1/Deployment resources.")));
    expect(refused).toBeInstanceOf(HostCapabilityError);
    expect(refused.failure).toBe("not-allowed");
    expect(refused.message).toContain("kubernetes/list_resources_all (apps/v1 Deployment): refused by the host");
    expect(err(() => Kubernetes.getResource({ api_version: "v1", kind: "Namespace", name: "x", disable_cache: false }, fake(false, "Cannot find v1/Namespace"))).failure).toBe("failed");
    expect(err(() => Kubernetes.listResourcesByNamespace({ api_version: "v1", kind: "Pod", namespace: "a" }, fake(true, "not json"))).message).toContain("unreadable answer");
    expect(err(() => Kubernetes.listAllResources({ api_version: "v1", kind: "Pod" }, fake(true, '{"kind":"Pod"}'))).message).toContain("not a List");
    expect(err(() => Kubernetes.listAllResources({ api_version: "v1", kind: "Pod" }, fake(false, "x".repeat(10_000)))).hostMessage.length).toBeLessThan(500);
    expect(classifyHostError("kube::Client was not initialized properly")).toBe("unavailable");
    expect(classifyHostError("unknown operation: x")).toBe("unavailable");
  });
});

describe("--context files", () => {
  it("are read with the fast readers (a kubectl JSON dump by JSON.parse), objects as the reference reader gives them, errors said per file", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpp-context-"));
    try {
      const list = join(dir, "dump.json");
      const yaml = join(dir, "more.yaml");
      writeFileSync(list, JSON.stringify({ apiVersion: "v1", kind: "List", items: [deploy("monitoring", "prometheus-operator", { app: "op" }), deploy("default", "web")] }, null, 4));
      writeFileSync(yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: '1'\n");
      const read = readContextObjects([list, yaml]);
      expect(read).toEqual(readManifests([list, yaml]).objects.map((o) => o.object));
      expect(read.map((o) => (o as { metadata: { name: string } }).metadata.name)).toEqual(["prometheus-operator", "web", "cm"]);
      // Each file's bytes go through the reader given to readManifests, once.
      const seen: string[] = [];
      readManifests([list, yaml], { readBytes: (bytes, file) => (seen.push(file), { objects: [], errors: [], skipped: [] }) });
      expect(seen).toHaveLength(2);
      writeFileSync(yaml, "a: [b\n");
      expect(() => readContextObjects([list, yaml])).toThrow(/--context .*more\.yaml \(document 1\): not valid YAML/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
