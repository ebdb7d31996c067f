/**
 * Generated deployment and catalogue files stay in step with metadata.yml.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { parseMetadata } from "../../src/toolchain/metadata.js";
import { artifactHubPackage, isEmail, parseAuthors } from "../../src/toolchain/scaffold.js";
import { DEPLOY, deployFiles } from "../../src/cli/scaffold.js";
import { ROOT, runCli, wasmPath } from "../helpers.js";

const read = (...p: string[]) => readFileSync(join(ROOT, ...p), "utf8");

describe("scaffold", () => {
  it("artifacthub files are up to date", () => {
    const r = runCli(["scaffold", "artifacthub", "--check"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("detects a stale artifacthub-pkg.yml", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpp-scaffold-"));
    for (const p of ["policies", "package.json", "artifacthub-repo.yml"]) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
    const metadataPath = join(dir, "policies", "reject-loopback-probes", "metadata.yml");
    writeFileSync(metadataPath, readFileSync(metadataPath, "utf8").replace(/io\.kubewarden\.policy\.description: .*/, "io.kubewarden.policy.description: changed"));
    const r = runCli(["scaffold", "artifacthub", "--check"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("policies/reject-loopback-probes/artifacthub-pkg.yml");
  });

  it.each(["reject-loopback-probes", "rewrite-loopback-probes"])("%s: artifacthub-pkg.yml carries what kwctl derives", (policy) => {
    const pkg = parse(read("policies", policy, "artifacthub-pkg.yml"));
    const metadata = parseMetadata(read("policies", policy, "metadata.yml"));
    expect(pkg.version).toBe(metadata.annotations["io.kubewarden.policy.version"]);
    expect(pkg.containersImages).toEqual([{ name: "policy", image: `${metadata.annotations["io.kubewarden.policy.ociUrl"]}:v${pkg.version}` }]);
    expect(pkg.annotations["kubewarden/mutation"]).toBe(String(metadata.mutating));
    expect(parse(pkg.annotations["kubewarden/rules"])).toEqual(metadata.rules);
    // kwctl embeds questions-ui.yml verbatim, comments included
    expect(pkg.annotations["kubewarden/questions-ui"]).toBe(read("policies", policy, "questions-ui.yml"));
    expect(pkg.annotations["kubewarden/resources"]).toBe(metadata.annotations["io.artifacthub.resources"]);
    expect(Object.keys(pkg.annotations)).toEqual(Object.keys(pkg.annotations).sort());
    expect(pkg.provider).toEqual({ name: "kubewarden" });
    expect(pkg.maintainers.length).toBeGreaterThan(0);
    for (const m of pkg.maintainers) {
      expect(Object.keys(m).sort()).toEqual(["email", "name"]);
      expect(isEmail(m.email)).toBe(true);
    }
    const source = metadata.annotations["io.kubewarden.policy.source"];
    expect(pkg.links).toEqual([
      { name: "policy", url: `${source}/releases/download/v${pkg.version}/policy.wasm` },
      { name: "source", url: source },
    ]);
    expect(pkg.install).toContain(`kwctl scaffold manifest -t ClusterAdmissionPolicy registry://${pkg.containersImages[0].image}`);
    // kwctl's key order
    expect(Object.keys(pkg)).toEqual(["version", "name", "displayName", "createdAt", "description", "license", "homeURL", "containersImages", "keywords", "links", "install", "maintainers", "provider", "recommendations", "annotations"]);
  });

  it("artifacthub-repo.yml owners carry the author's email", () => {
    const repo = parse(read("artifacthub-repo.yml"));
    const metadata = parseMetadata(read("policies", "reject-loopback-probes", "metadata.yml"));
    expect(repo.owners).toEqual(parseAuthors(metadata.annotations["io.kubewarden.policy.author"]!));
    expect(existsSync(join(ROOT, "artifacthub-pkg.yml"))).toBe(false);
  });

  it("deploy/ is what scaffold deploy generates", () => {
    const r = runCli(["scaffold", "deploy", "--check"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(Object.keys(deployFiles(ROOT)).map((f) => f.slice(ROOT.length + 1)).sort()).toEqual(readdirSync(join(ROOT, "deploy")).map((f) => `deploy/${f}`).sort());
  });

  it.each(DEPLOY.policies.map((p) => [p.policy, p.mode, p.timeoutEvalSeconds] as const))("deploy/%s.yaml is what scaffold manifest prints (%s mode, %i s)", (policy, mode, timeout) => {
    const r = runCli(["scaffold", "manifest", `policies/${policy}`, "--mode", mode, "--timeout-eval-seconds", String(timeout)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(read("deploy", `${policy}.yaml`));
    const manifest = parse(r.stdout);
    const metadata = parseMetadata(read("policies", policy, "metadata.yml"));
    expect(manifest).toMatchObject({
      apiVersion: "policies.kubewarden.io/v1",
      kind: "ClusterAdmissionPolicy",
      spec: { mode, mutating: metadata.mutating, backgroundAudit: true, rules: metadata.rules, timeoutEvalSeconds: timeout },
    });
    expect(manifest.spec.module).toBe(`registry://${metadata.annotations["io.kubewarden.policy.ociUrl"]}:v${metadata.annotations["io.kubewarden.policy.version"]}`);
    expect(manifest.spec.namespaceSelector.matchExpressions).toEqual([{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] }]);
    // A module that declares host capabilities says so where the manifest is read.
    expect(r.stdout.startsWith("# The module calls the host capabilities")).toBe((metadata.hostCapabilities ?? []).length > 0);
  });

  it("scaffold manifest sets message, timeoutEvalSeconds and policyServer, within the CRDs' bounds", () => {
    const r = runCli(["scaffold", "manifest", "policies/reject-listenlocal-reloader-probes", "--type", "AdmissionPolicy", "--message", "see the runbook", "--timeout-eval-seconds", "30", "--policy-server", "loopback-probes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(parse(r.stdout).spec).toMatchObject({ message: "see the runbook", timeoutEvalSeconds: 30, policyServer: "loopback-probes" });
    expect(r.stdout).toContain("# The module calls the host capabilities kubernetes/list_resources_by_namespace: when its PolicyServer sets spec.namespacedPoliciesCapabilities, that list must allow them.");
    for (const bad of [["--timeout-eval-seconds", "1"], ["--timeout-eval-seconds", "31"], ["--policy-server", "Bad_Name"], ["--message", ""]]) expect(runCli(["scaffold", "manifest", "policies/reject-loopback-probes", ...bad]).code, bad.join(" ")).toBe(2);
  });

  it("prints an AdmissionPolicy with settings for a module", () => {
    const r = runCli(["scaffold", "manifest", wasmPath("rewrite-loopback-probes"), "--type", "AdmissionPolicy", "--namespace", "monitoring", "--settings-json", '{"strategy":"remove"}']);
    expect(r.stderr).toBe("");
    const manifest = parse(r.stdout);
    expect(manifest.kind).toBe("AdmissionPolicy");
    expect(manifest.metadata.namespace).toBe("monitoring");
    expect(manifest.spec.settings).toEqual({ strategy: "remove" });
    expect(manifest.spec).not.toHaveProperty("namespaceSelector");
    expect(runCli(["scaffold", "manifest", "policies/rewrite-loopback-probes", "--mode", "loud"]).code).toBe(2);
  });

  it.each([
    ["reject-loopback-probes", '{"bogus":1}'],
    ["rewrite-loopback-probes", '{"strategy":"explode"}'],
  ])("%s: refuses to write a manifest with settings the policy refuses (%s)", (policy, settings) => {
    const out = join(mkdtempSync(join(tmpdir(), "lpp-scaffold-")), "policy.yaml");
    const r = runCli(["scaffold", "manifest", wasmPath(policy), "--settings-json", settings, "-o", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/settings rejected by the policy: \S/);
    expect(r.stdout).toBe("");
    expect(existsSync(out)).toBe(false);
  });

  it("writes the manifest with -o after the policy accepted the settings", () => {
    const out = join(mkdtempSync(join(tmpdir(), "lpp-scaffold-")), "sub", "policy.yaml");
    const r = runCli(["scaffold", "manifest", wasmPath("reject-loopback-probes"), "--settings-json", '{"excludeContainers":["istio-*"]}', "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(parse(readFileSync(out, "utf8")).spec.settings).toEqual({ excludeContainers: ["istio-*"] });
  });

  it("refuses settings for a policy folder whose module is not built", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpp-scaffold-"));
    cpSync(join(ROOT, "policies", "reject-loopback-probes"), join(dir, "not-built-policy"), { recursive: true });
    const r = runCli(["scaffold", "manifest", join(dir, "not-built-policy"), "--settings-json", "{}"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot check the settings");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("io.kubewarden.policy.author as kwctl parses it", () => {
  it("reads an RFC 5322 address list into maintainers", () => {
    expect(parseAuthors("Tux Tuxedo <tux@example.com>, Pidgin <pidgin@example.com>")).toEqual([
      { name: "Tux Tuxedo", email: "tux@example.com" },
      { name: "Pidgin", email: "pidgin@example.com" },
    ]);
    expect(parseAuthors("Foo <foo@example.com>,,Bar <bar@example.com>")).toEqual([
      { name: "Foo", email: "foo@example.com" },
      { name: "Bar", email: "bar@example.com" },
    ]);
    expect(parseAuthors('"Doe, Jane" <jane@example.org>')).toEqual([{ name: "Doe, Jane", email: "jane@example.org" }]);
    expect(parseAuthors("solo@example.org")).toEqual([{ name: "", email: "solo@example.org" }]);
  });

  it.each(["", "loopback-probe-policies maintainers", "Foo missing@chevrons.com, Bar <bar@example.com>", "Bar <#$%#$%>", "Foo <foo@example.com", "Foo <foo@example.com> trailing"])(
    "refuses %j",
    (author) => {
      expect(() => parseAuthors(author)).toThrow(/io\.kubewarden\.policy\.author/);
    },
  );

  it("an author without an email cannot make an artifacthub-pkg.yml", () => {
    const metadata = parseMetadata(read("policies", "reject-loopback-probes", "metadata.yml"));
    metadata.annotations["io.kubewarden.policy.author"] = "loopback-probe-policies maintainers";
    expect(() => artifactHubPackage({ metadata, createdAt: "2026-01-01T00:00:00Z" })).toThrow(/not an email address/);
  });
});
