/**
 * Policy semantics in plain Node: kinds, the opt-out, UPDATE rules, the
 * image-aware rewrite, URLs the kubelet would send, and number-exact JSON edits.
 * The same behaviour is checked through the built modules in
 * tests/e2e/policy-cases.test.ts (test_data/cases.yml).
 */
import { describe, expect, it } from "vitest";
import { globMatch, shellVerdict } from "../../src/analysis/images.js";
import { optOutOf, SKIP_CONTAINERS_ANNOTATION } from "../../src/analysis/opt-out.js";
import { checkWorkload, DEFAULT_ANALYSIS_OPTIONS, findUnreachableProbes } from "../../src/analysis/reachability.js";
import { DEFAULT_REWRITE_OPTIONS, kubeletRequestTarget, planRewrite, rewriteUnreachableProbes, urlHost } from "../../src/analysis/rewrite.js";
import { judgeAdmission } from "../../src/analysis/update.js";
import { podTemplateOf } from "../../src/analysis/workload.js";
import { editJsonText, locateValues } from "../../src/kubewarden/json-text.js";
import { type PolicyDefinition, runPolicy, serializeAnswer } from "../../src/kubewarden/policy.js";
import { accept, mutate, RawJson } from "../../src/kubewarden/protocol.js";

const reloader = (extra: Record<string, unknown> = {}) => ({
  name: "config-reloader",
  image: "quay.io/prometheus-operator/prometheus-config-reloader:v0.74.0",
  args: ["--listen-address=127.0.0.1:8080"],
  livenessProbe: { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" }, timeoutSeconds: 1 },
  readinessProbe: { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" }, timeoutSeconds: 1 },
  ...extra,
});
const deployment = (containers: unknown[], annotations?: Record<string, string>, templateAnnotations?: Record<string, string>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", namespace: "ns", ...(annotations ? { annotations } : {}) },
  spec: { template: { metadata: { labels: { app: "d" }, ...(templateAnnotations ? { annotations: templateAnnotations } : {}) }, spec: { containers } } },
});

describe("kinds", () => {
  it.each([
    ["argoproj.io/v1alpha1", "Rollout", ["spec", "template", "spec"]],
    ["apps.openshift.io/v1", "DeploymentConfig", ["spec", "template", "spec"]],
    ["v1", "PodTemplate", ["template", "spec"]],
    ["extensions/v1beta1", "Deployment", ["spec", "template", "spec"]],
    ["serving.knative.dev/v1", "Service", ["spec", "template", "spec"]],
  ])("%s %s carries a pod template", (apiVersion, kind, path) => {
    const spec = { containers: [reloader()] };
    const object: Record<string, unknown> = { apiVersion, kind, metadata: { name: "x" } };
    let node = object;
    for (const seg of path.slice(0, -1)) node = (node[seg] = {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = spec;
    expect(podTemplateOf(object)?.spec).toBe(spec);
    const probes = findUnreachableProbes(object).map((f) => f.target.probeKind);
    // Knative: queue-proxy runs readiness probes inside the pod; liveness/startup are the kubelet's.
    expect(probes).toEqual(kind === "Service" ? ["livenessProbe"] : ["livenessProbe", "readinessProbe"]);
  });
  it("a core Service or a Rollout of another group is not a workload", () => {
    expect(podTemplateOf({ apiVersion: "v1", kind: "Service", spec: { template: { spec: { containers: [] } } } })).toBeNull();
    expect(podTemplateOf({ apiVersion: "example.com/v1", kind: "Rollout", spec: { template: { spec: { containers: [] } } } })).toBeNull();
  });
  it.each(["__proto__", "toString", "constructor", "hasOwnProperty", "valueOf"])("kind %j is a clean 'not a workload'", (kind) => {
    const object = JSON.parse(`{"apiVersion":"v1","kind":${JSON.stringify(kind)},"spec":{"containers":[]}}`);
    expect(podTemplateOf(object)).toBeNull();
    expect(checkWorkload(object).workload).toBeNull();
    expect(judgeAdmission("CREATE", object, null, DEFAULT_ANALYSIS_OPTIONS)).toEqual({ kind: "none" });
  });
});

describe("invalid ports are the API server's to judge", () => {
  it("a numeric port outside 1-65535 is no finding (so nothing deletes it)", () => {
    const object = deployment([reloader({ livenessProbe: { httpGet: { path: "/", port: 80800 } }, readinessProbe: undefined })]);
    expect(findUnreachableProbes(object)).toEqual([]);
  });
});

describe("the opt-out annotation", () => {
  it("skips the named containers, from the workload or its pod template, and says so", () => {
    for (const object of [
      deployment([reloader()], { [SKIP_CONTAINERS_ANNOTATION]: "other, config-reloader" }),
      deployment([reloader()], undefined, { [SKIP_CONTAINERS_ANNOTATION]: "*", "loopback-probes.kubewarden.io/skip-reason": "fixed upstream in v0.75" }),
    ]) {
      const check = checkWorkload(object);
      expect(check.findings).toEqual([]);
      expect(check.skipped.map((f) => f.target.probeKind)).toEqual(["livenessProbe", "readinessProbe"]);
      const judgement = judgeAdmission("CREATE", object, null, DEFAULT_ANALYSIS_OPTIONS);
      expect(judgement.kind === "findings" && judgement.notes.join("\n")).toContain(SKIP_CONTAINERS_ANNOTATION);
    }
    const reason = optOutOf(deployment([], undefined, { [SKIP_CONTAINERS_ANNOTATION]: "*", "loopback-probes.kubewarden.io/skip-reason": "why" }), podTemplateOf(deployment([]))!);
    expect(reason?.reason).toBe("why");
  });
  it("other containers are still checked", () => {
    const check = checkWorkload(deployment([reloader()], { [SKIP_CONTAINERS_ANNOTATION]: "prometheus" }));
    expect(check.findings).toHaveLength(2);
  });
});

describe("UPDATE", () => {
  const broken = deployment([reloader()]);
  const relabelled = { ...broken, metadata: { ...broken.metadata, labels: { team: "x" } } };
  it("an object being deleted is not judged", () => {
    const terminating = { ...broken, metadata: { ...broken.metadata, deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: [] } };
    expect(judgeAdmission("UPDATE", terminating, broken, DEFAULT_ANALYSIS_OPTIONS)).toEqual({ kind: "none" });
  });
  it("findings the old object had are not judged, and the warning says so", () => {
    const j = judgeAdmission("UPDATE", relabelled, broken, DEFAULT_ANALYSIS_OPTIONS);
    expect(j.kind).toBe("findings");
    if (j.kind !== "findings") return;
    expect(j.findings).toEqual([]);
    expect(j.preExisting).toHaveLength(2);
    expect(j.notes.join("\n")).toContain("this update leaves 2 unreachable probes as they were");
  });
  it("a finding the update introduces is judged", () => {
    const fixed = deployment([reloader({ livenessProbe: { exec: { command: ["true"] } }, readinessProbe: { exec: { command: ["true"] } } })]);
    const j = judgeAdmission("UPDATE", broken, fixed, DEFAULT_ANALYSIS_OPTIONS);
    expect(j.kind === "findings" && j.findings).toHaveLength(2);
  });
});

describe("the image-aware rewrite", () => {
  it("matches globs linearly and exactly", () => {
    expect(globMatch("registry.k8s.io/*", "registry.k8s.io/metrics-server/metrics-server:v0.7.1")).toBe(true);
    expect(globMatch("*/ko/*", "ghcr.io/x/ko/app:1")).toBe(true);
    expect(globMatch("a*b*c", "abc")).toBe(true);
    expect(globMatch("a*b*c", "acb")).toBe(false);
    expect(globMatch("ab*ba", "aba")).toBe(false);
    expect(globMatch("*a*a*a*b", "a".repeat(100_000))).toBe(false);
  });
  it.each([
    ["registry.k8s.io/metrics-server/metrics-server:v0.7.1", "no-shell"],
    ["registry.k8s.io/metrics-server/metrics-server:v0.7.1", "no-shell"],
    ["quay.io/brancz/kube-rbac-proxy:v0.18.0", "no-shell"],
    ["gcr.io/kubebuilder/kube-rbac-proxy:v0.16.0", "no-shell"],
    ["gcr.io/distroless/static:nonroot", "no-shell"],
    ["ko://github.com/example/cmd/app", "no-shell"],
    ["cgr.dev/chainguard/nginx:latest", "no-shell"],
    ["cgr.dev/chainguard/nginx:latest-dev", "shell"],
    ["quay.io/prometheus/node-exporter:v1.8.1", "shell"],
    ["quay.io/prometheus-operator/prometheus-config-reloader:v0.74.0", "shell"],
    ["quay.io/thanos/thanos:v0.35.1", "shell"],
    ["busybox:1.36", "shell"],
    ["grafana/grafana:11.1.0", "unknown"],
  ])("%s → %s", (image, verdict) => {
    expect(shellVerdict(image).verdict).toBe(verdict);
  });
  it("settings extend both lists, the with-shell list first", () => {
    expect(shellVerdict("grafana/grafana:11", { withShell: [], withoutShell: ["grafana/*"] }).verdict).toBe("no-shell");
    expect(shellVerdict("registry.k8s.io/etcd:3.5", { withShell: ["registry.k8s.io/etcd:*"], withoutShell: [] }).verdict).toBe("shell");
  });
  it("in an image without a shell: removes liveness (naming the image), keeps readiness", () => {
    const object = deployment([reloader({ image: "registry.k8s.io/metrics-server/metrics-server:v0.7.1" })]);
    const { object: out, changes } = rewriteUnreachableProbes(object, findUnreachableProbes(object), DEFAULT_REWRITE_OPTIONS);
    expect(changes.map((c) => c.action)).toEqual(["removed", "kept"]);
    for (const c of changes) expect(c.description).toContain('image "registry.k8s.io/metrics-server/metrics-server:v0.7.1" has no shell');
    const container = (out as ReturnType<typeof deployment>).spec.template.spec.containers[0] as Record<string, unknown>;
    expect(container).not.toHaveProperty("livenessProbe");
    expect(container.readinessProbe).toEqual(reloader().readinessProbe);
  });
  it("every exec rewrite says what it needs in the image", () => {
    const tcp = deployment([reloader({ livenessProbe: { tcpSocket: { port: 8080 } } })]);
    const descriptions = planRewrite(tcp, findUnreachableProbes(tcp)).map((c) => c.description);
    expect(descriptions[0]).toContain("it needs sh plus nc (or bash) in image");
    expect(descriptions[1]).toContain("it needs sh plus curl or wget in image");
  });
  it("never removes readiness silently: strategy remove says what is lost", () => {
    const object = deployment([reloader()]);
    const changes = planRewrite(object, findUnreachableProbes(object), { ...DEFAULT_REWRITE_OPTIONS, strategy: "remove" });
    expect(changes[1]!.description).toContain("the pod now has no readiness check");
  });
});

describe("URLs the kubelet would send", () => {
  it.each([
    ["/healthz", "/healthz"],
    ["healthz", "/healthz"],
    ["/a b", "/a%20b"],
    ["/[x]{y}", "/%5Bx%5D%7By%7D"],
    ["/[x]", "/[x]"],
    ["/ok%20already", "/ok%20already"],
    ["/100%", "/100%25"],
    ["/q?x=a b&y=[1]", "/q?x=a%20b&y=[1]"],
    ["/é", "/%C3%A9"],
    ["/x#frag", "/x"],
  ])("%j → %j", (path, target) => {
    expect(kubeletRequestTarget(path)).toBe(target);
  });
  it("escapes IPv6 zone ids", () => {
    expect(urlHost("::1%lo")).toBe("[::1%25lo]");
    expect(urlHost("[::1%25lo]")).toBe("[::1%25lo]");
    expect(urlHost("127.0.0.1")).toBe("127.0.0.1");
  });
});

describe("number-exact JSON edits", () => {
  const text = '{"a": 9007199254740993, "b": [1e400, -0, {"p": 1, "q": {"x": 1.50}, "r": 2}], "c": "\\u0063"}';
  it("replaces and deletes members and leaves every other byte alone", () => {
    const edited = editJsonText(text, [{ path: ["b", 2, "q"], value: { exec: 1 } }, { path: ["b", 2, "p"] }, { path: ["b", 2, "r"] }]);
    expect(edited).toEqual({ ok: true, text: '{"a": 9007199254740993, "b": [1e400, -0, {"q": {"exec":1}}], "c": "\\u0063"}' });
  });
  it("deletes first, middle and last members with their commas", () => {
    const src = '{"k": {"a": 1, "b": 2, "c": 3}}';
    expect(editJsonText(src, [{ path: ["k", "a"] }])).toEqual({ ok: true, text: '{"k": {"b": 2, "c": 3}}' });
    expect(editJsonText(src, [{ path: ["k", "b"] }])).toEqual({ ok: true, text: '{"k": {"a": 1, "c": 3}}' });
    expect(editJsonText(src, [{ path: ["k", "c"] }])).toEqual({ ok: true, text: '{"k": {"a": 1, "b": 2}}' });
    expect(editJsonText(src, [{ path: ["k", "a"] }, { path: ["k", "b"] }, { path: ["k", "c"] }])).toEqual({ ok: true, text: '{"k": {}}' });
    expect(editJsonText(src, [{ path: ["k", "a"] }, { path: ["k", "b"] }])).toEqual({ ok: true, text: '{"k": {"c": 3}}' });
  });
  it("follows JSON.parse on duplicate keys and escaped keys", () => {
    const dup = '{"s": {"p": 1}, "s": {"p": 2, "o": 0}}';
    expect(editJsonText(dup, [{ path: ["s", "p"], value: 9 }])).toEqual({ ok: true, text: '{"s": {"p": 1}, "s": {"p": 9, "o": 0}}' });
    expect(locateValues('{"\\u0073": [0, "x\\"]"]}', [["s", 1]])?.[0]).toEqual({ memberStart: 15, valueStart: 15, valueEnd: 21 });
  });
  it("refuses what it cannot do exactly", () => {
    expect(editJsonText(text, [{ path: ["nope"], value: 1 }]).ok).toBe(false);
    expect(editJsonText(text, [{ path: ["b", 0] }]).ok).toBe(false);
  });
  it("the answer carries the raw text as mutated_object", () => {
    const answer = mutate(new RawJson('{"n": 9007199254740993, "z": -0, "e": 1e400}'), { warnings: ["w"] });
    expect(serializeAnswer(answer)).toBe('{"accepted":true,"warnings":["w"],"mutated_object":{"n": 9007199254740993, "z": -0, "e": 1e400}}');
  });
});

describe("a mutating policy never rejects because of its own errors", () => {
  const run = (definition: PolicyDefinition<null>) => {
    const out: Uint8Array[] = [];
    const stdin = new TextEncoder().encode(JSON.stringify({ request: { uid: "u", operation: "CREATE", object: { kind: "Pod", n: 1 } }, settings: {} }));
    runPolicy(definition, { action: () => "validate", readStdin: () => stdin, writeStdout: (b) => out.push(b) });
    return JSON.parse(new TextDecoder().decode(out[0])) as { accepted: boolean; message?: string; warnings?: string[] };
  };
  const exploding = (onOwnError?: "accept" | "reject"): PolicyDefinition<null> => ({
    parseSettings: () => ({ ok: true, settings: null }),
    validate() {
      throw new RangeError("out of memory");
    },
    ...(onOwnError ? { onOwnError } : {}),
  });
  it("accepts with the error as a warning when onOwnError is accept", () => {
    expect(run(exploding("accept"))).toEqual({ accepted: true, warnings: ["not checked: policy error: out of memory"] });
  });
  it("rejects by default (the validating policy)", () => {
    expect(run(exploding())).toEqual({ accepted: false, message: "policy error: out of memory" });
  });
  it("hands the policy request.object exactly as it arrived", () => {
    const seen: (string | null)[] = [];
    const out: Uint8Array[] = [];
    const stdin = new TextEncoder().encode('{"request": {"uid": "u", "operation": "CREATE", "object": {"kind": "Pod", "n": 9007199254740993}}, "settings": {}}');
    runPolicy(
      { parseSettings: () => ({ ok: true, settings: null }), validate: (_r, _s, context) => (seen.push(context.objectText()), accept()) },
      { action: () => "validate", readStdin: () => stdin, writeStdout: (b) => out.push(b) },
    );
    expect(seen).toEqual(['{"kind": "Pod", "n": 9007199254740993}']);
  });
});
