/**
 * `run POLICY.yaml` (Kubewarden policy resources, as `kwctl run` takes them)
 * against `run MODULE` with the same settings and mode, under both engines:
 * the same answer, byte for byte. Then what only a resource says (message,
 * contextAwareResources, groups and their expressions, registry:// modules),
 * and `--allowed-host-capabilities` refusing a capability as policy-server does.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { capabilityDeniedMessage } from "../../src/toolchain/capabilities.js";
import { ROOT, runCli, wasmPath } from "../helpers.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

const work = mkdtempSync(join(tmpdir(), "lpp-run-file-"));
const fileUrl = (name: string) => pathToFileURL(wasmPath(name)).href;
const data = (policy: string, file: string) => join(ROOT, "policies", policy, "test_data", file);
const RENDER = join(ROOT, "tests", "fixtures", "operator-render", "render.yaml");

let written = 0;
function policyFile(...docs: Record<string, unknown>[]): string {
  const path = join(work, `policy-${written++}.yaml`);
  writeFileSync(path, docs.map((d) => `---\n${stringify(d)}`).join(""));
  return path;
}

const cap = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: "policies.kubewarden.io/v1",
  kind: "ClusterAdmissionPolicy",
  metadata: { name, ...metadata },
  spec: { mutating: false, rules: [], ...spec },
});

const group = (name: string, expression: string, policies: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: "policies.kubewarden.io/v1",
  kind: "ClusterAdmissionPolicyGroup",
  metadata: { name },
  spec: { rules: [], expression, message: "the group rejects", policies, ...extra },
});

describe("run POLICY.yaml answers exactly as run MODULE with the same settings", () => {
  const requests = ["alertmanager-listenlocal-broken-defaulted.json", "alertmanager-listenlocal-fixed-defaulted.json", "deployment-grpc-loopback.json", "configmap.json"];
  const settingsCases = [{}, { excludeContainers: ["config-reloader"] }];

  it.each(["node", "wasmtime"])("reject-loopback-probes under %s: every request, settings and mode", (engine) => {
    for (const settings of settingsCases)
      for (const mode of ["protect", "monitor"]) {
        const file = policyFile(cap("reject-loopback-probes", { module: fileUrl("reject-loopback-probes"), mode, settings }));
        for (const request of requests) {
          const req = data("reject-loopback-probes", request);
          const viaFile = runCli(["run", file, "-r", req, "--engine", engine]);
          const viaModule = runCli(["run", wasmPath("reject-loopback-probes"), "-r", req, "--engine", engine, "--mode", mode, "--settings-json", JSON.stringify(settings)]);
          expect(viaFile.code, viaFile.stderr).toBe(0);
          expect(viaFile.stdout, `${request} ${mode} ${JSON.stringify(settings)}`).toBe(viaModule.stdout);
          // Not vacuous: the default settings in protect mode reject the broken objects.
          if (Object.keys(settings).length === 0) expect(JSON.parse(viaFile.stdout).allowed).toBe(mode === "monitor" || (!request.includes("broken") && !request.includes("grpc")));
        }
      }
  });

  it("the mutating policy (mutating: true) patches as run MODULE does; a validating resource refuses its patch, named", () => {
    const req = data("rewrite-loopback-probes", "alertmanager-listenlocal-broken-defaulted.json");
    const viaModule = runCli(["run", wasmPath("rewrite-loopback-probes"), "-r", req, "--engine", "node"]);
    const viaFile = runCli(["run", policyFile(cap("rewrite", { module: fileUrl("rewrite-loopback-probes"), mutating: true, settings: {} })), "-r", req, "--engine", "node"]);
    expect(viaFile.stdout).toBe(viaModule.stdout);
    expect(JSON.parse(viaFile.stdout).patchType).toBe("JSONPatch");
    const refused = JSON.parse(runCli(["run", policyFile(cap("rewrite", { module: fileUrl("rewrite-loopback-probes"), mutating: false })), "-r", req, "--engine", "node"]).stdout);
    expect(refused).toMatchObject({ allowed: false, status: { message: "Request rejected by policy rewrite. The policy attempted to mutate the request, but it is currently configured to not allow mutations." } });
    expect(refused.patch).toBeUndefined();
  });

  it("the context-aware policy with the resource's contextAwareResources, as the module with its metadata's", () => {
    const req = data("reject-listenlocal-reloader-probes", "prometheus-listenlocal.json");
    const viaModule = runCli(["run", wasmPath("reject-listenlocal-reloader-probes"), "-r", req, "--context", RENDER]);
    const granted = cap("listenlocal", { module: fileUrl("reject-listenlocal-reloader-probes"), contextAwareResources: [{ apiVersion: "apps/v1", kind: "Deployment" }] });
    const viaFile = runCli(["run", policyFile(granted), "-r", req, "--context", RENDER]);
    expect(viaFile.stdout).toBe(viaModule.stdout);
    expect(JSON.parse(viaFile.stdout).allowed).toBe(false);
    // Without the grant (and always for an AdmissionPolicy) the host refuses the lookup in Kubewarden's words.
    const ungranted = JSON.parse(runCli(["run", policyFile(cap("listenlocal", { module: fileUrl("reject-listenlocal-reloader-probes") })), "-r", req, "--context", RENDER]).stdout);
    expect(ungranted.allowed).toBe(true);
    expect(ungranted.warnings.join("\n")).toContain("Policy has not been granted access to Kubernetes apps/v1/Deployment resources");
    const namespaced = { ...granted, kind: "AdmissionPolicy", metadata: { name: "listenlocal", namespace: "monitoring" } };
    expect(JSON.parse(runCli(["run", policyFile(namespaced), "-r", req, "--context", RENDER]).stdout).warnings.join("\n")).toContain("has not been granted access");
  });
});

describe("what only a policy resource says", () => {
  const broken = data("reject-loopback-probes", "alertmanager-listenlocal-broken-defaulted.json");
  const probes = { module: fileUrl("reject-loopback-probes"), settings: {} };
  const listenlocal = { module: fileUrl("reject-listenlocal-reloader-probes"), settings: {}, contextAwareResources: [{ apiVersion: "apps/v1", kind: "Deployment" }] };

  it("spec.message replaces the rejection's message, which becomes the cause", () => {
    const plain = JSON.parse(runCli(["run", wasmPath("reject-loopback-probes"), "-r", broken, "--engine", "node"]).stdout);
    const r = JSON.parse(runCli(["run", policyFile(cap("probes", { ...probes, message: "Probes on loopback: see the runbook" })), "-r", broken, "--engine", "node"]).stdout);
    expect(r.status).toEqual({ message: "Probes on loopback: see the runbook", details: { causes: [{ reason: null, message: plain.status.message, field: null }] } });
  });

  it("every policy of the file answers on its own line, in order; settings from the resource are validated", () => {
    const file = policyFile(cap("one", probes), cap("two", { ...probes, mode: "monitor" }));
    const r = runCli(["run", file, "-r", broken, "--engine", "node", "--settings-json", '{"excludeContainers":["config-reloader"]}']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).allowed)).toEqual([false, true]);
    expect(r.stderr).toContain("--settings-json ignored");
    const bad = runCli(["run", policyFile(cap("one", probes), cap("bad", { ...probes, settings: { excludeContainers: "x" } })), "-r", broken, "--engine", "node"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/^Provided settings are not valid: /m);
  });

  it("a group: its expression decides, && and || stop early, causes name the rejecting members", () => {
    const both = JSON.parse(runCli(["run", policyFile(group("loopback", "probes() && listenlocal()", { probes, listenlocal })), "-r", broken, "--context", RENDER, "--engine", "node"]).stdout);
    expect(both.allowed).toBe(false);
    expect(both.status.message).toBe("the group rejects");
    expect(both.status.details.causes).toEqual([{ reason: null, message: expect.stringContaining("2 probes can never succeed"), field: "spec.policies.probes" }]);
    // listenlocal accepts a StatefulSet (not its kind): || lets it through.
    const either = JSON.parse(runCli(["run", policyFile(group("loopback", "probes() || listenlocal()", { probes, listenlocal })), "-r", broken, "--context", RENDER, "--engine", "node"]).stdout);
    expect(either).toMatchObject({ allowed: true });
    expect(either.status).toBeUndefined();
    expect(JSON.parse(runCli(["run", policyFile(group("loopback", "!probes() == true", { probes })), "-r", broken, "--engine", "node"]).stdout).allowed).toBe(true);
    // Monitor mode: accepted, no status.
    const monitor = JSON.parse(runCli(["run", policyFile(group("loopback", "probes()", { probes }, { mode: "monitor" })), "-r", broken, "--engine", "node"]).stdout);
    expect(monitor).toEqual({ uid: both.uid, allowed: true, auditAnnotations: null, warnings: null });
  });

  it("a member that mutates counts as rejecting; settings of every member and the expression are checked first", () => {
    const rewrite = { module: fileUrl("rewrite-loopback-probes"), settings: {} };
    const r = JSON.parse(runCli(["run", policyFile(group("g", "rewrite()", { rewrite })), "-r", broken, "--engine", "node"]).stdout);
    expect(r.status.details.causes).toEqual([{ reason: null, message: "mutation is not allowed inside of policy group", field: "spec.policies.rewrite" }]);
    expect(r.patch).toBeUndefined();
    const bad = runCli(["run", policyFile(group("g", "probes() && other()", { probes: { ...probes, settings: { excludeContainers: 1 } } })), "-r", broken, "--engine", "node"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Provided settings are not valid: g/probes: settings not valid: Policy settings are invalid: ");
    expect(bad.stderr).toContain("g: other() at position 13 is not a member of the group (members: probes)");
    const unsupported = runCli(["run", policyFile(group("g", "probes() + 1", { probes })), "-r", broken, "--engine", "node"]);
    expect(unsupported.code).toBe(1);
    expect(unsupported.stderr).toContain('"+" at position 10 is not part of what a policy group expression may use here');
  });

  it("refuses what is not a Kubewarden policy resource, and modules it cannot fetch, with what was wrong", () => {
    const wrongKind = runCli(["run", policyFile({ apiVersion: "policies.kubewarden.io/v1", kind: "PolicyServer", metadata: { name: "x" }, spec: {} }), "-r", broken]);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('unknown kind Some("PolicyServer"), not a Kubewarden policy');
    const oldApi = runCli(["run", policyFile({ ...cap("x", probes), apiVersion: "policies.kubewarden.io/v1alpha2" }), "-r", broken]);
    expect(oldApi.stderr).toContain('invalid apiVersion Some("policies.kubewarden.io/v1alpha2")');
    const relative = runCli(["run", policyFile(cap("x", { module: "file://dist/x.wasm" })), "-r", broken]);
    expect(relative.code).toBe(2);
    expect(relative.stderr).toContain("a file:// module needs an absolute path");
    const https = runCli(["run", policyFile(cap("x", { module: "https://example.org/x.wasm" })), "-r", broken]);
    expect(https.stderr).toContain("http(s):// modules are not fetched by this runner");
  });

  describe("registry:// modules", () => {
    let registry: TestRegistry;
    beforeAll(async () => {
      registry = await startRegistry();
    });
    afterAll(async () => registry?.stop());

    it("are pulled (digest-verified) and answer as the file they were pushed from", () => {
      const ref = `registry://${registry.host}/policies/reject-loopback-probes:v0.1.0`;
      expect(runCli(["push", wasmPath("reject-loopback-probes"), ref, "--plain-http"]).code).toBe(0);
      const env = { LOOPBACK_PROBES_CACHE: join(work, "cache") };
      const viaRegistry = runCli(["run", policyFile(cap("probes", { module: ref })), "-r", broken, "--engine", "node", "--plain-http"], { env });
      expect(viaRegistry.code, viaRegistry.stderr).toBe(0);
      expect(viaRegistry.stdout).toBe(runCli(["run", policyFile(cap("probes", probes)), "-r", broken, "--engine", "node"]).stdout);
    });
  });
});

describe("--allowed-host-capabilities (kwctl run's flag)", () => {
  const req = data("reject-listenlocal-reloader-probes", "prometheus-listenlocal.json");
  // Resolved while collecting: a test module still being built is waited for here, outside any test's timeout.
  const hostCallProbe = wasmPath("host-call-probe");
  const probe = (settings: unknown, ...flags: string[]) => runCli(["run", hostCallProbe, "-r", req, "--settings-json", JSON.stringify(settings), "--context", RENDER, ...flags]);
  const calls = {
    calls: [
      { binding: "kubewarden", namespace: "kubernetes", operation: "list_resources_all", payload: JSON.stringify({ api_version: "v1", kind: "ConfigMap" }) },
      { binding: "kubewarden", namespace: "tracing", operation: "log", payload: "{}" },
      { binding: "kubewarden", namespace: "net", operation: "v1/dns_lookup_host", payload: '"example.org"' },
    ],
  };

  it("a call outside the allow list gets policy-server's refusal, word for word; tracing is never gated", () => {
    for (const [flags, listAllowed] of [[[], true], [["--allowed-host-capabilities", "kubernetes/*"], true], [["--allowed-host-capabilities", "kubernetes/get_resource"], false], [["--allowed-host-capabilities="], false]] as const) {
      const r = probe(calls, ...flags);
      expect(r.code, r.stderr).toBe(0);
      const [list, log, dns] = JSON.parse(r.stdout).warnings as string[];
      expect(list, flags.join(" ")).toBe(listAllowed ? 'ok {"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[]}' : `error ${capabilityDeniedMessage("kubernetes/list_resources_all")}`);
      expect(log).toBe("ok ");
      expect(dns).toContain(flags.length === 0 ? "not available offline" : capabilityDeniedMessage("net/v1/dns_lookup_host"));
    }
  });

  it("the context-aware policy, denied its capability, is answered as kwctl answers it; a policy file takes the flag too", () => {
    const module = runCli(["run", wasmPath("reject-listenlocal-reloader-probes"), "-r", req, "--context", RENDER, "--allowed-host-capabilities", "oci/*"]);
    const answer = JSON.parse(module.stdout);
    expect(answer.warnings.join("\n")).toContain(capabilityDeniedMessage("kubernetes/list_resources_by_namespace"));
    const granted = cap("listenlocal", { module: fileUrl("reject-listenlocal-reloader-probes"), contextAwareResources: [{ apiVersion: "apps/v1", kind: "Deployment" }] });
    const file = runCli(["run", policyFile(granted), "-r", req, "--context", RENDER, "--allowed-host-capabilities", "oci/*"]);
    expect(file.stdout).toBe(module.stdout);
    const allowed = runCli(["run", wasmPath("reject-listenlocal-reloader-probes"), "-r", req, "--context", RENDER, "--allowed-host-capabilities", "kubernetes/list_resources_by_namespace"]);
    expect(JSON.parse(allowed.stdout).allowed).toBe(false);
  });

  it("refuses a pattern kwctl refuses, in its words", () => {
    const r = probe(calls, "--allowed-host-capabilities", "kubernetes");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid host capabilities pattern: invalid pattern "kubernetes": not a complete capability path; use "kubernetes/*" to allow all capabilities under it');
  });
});
