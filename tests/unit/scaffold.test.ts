/**
 * Generated deployment and catalogue files stay in step with metadata.yml.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { parseMetadata } from "../../src/toolchain/metadata.js";
import { ROOT, runCli } from "../helpers.js";

const read = (...p: string[]) => readFileSync(join(ROOT, ...p), "utf8");

describe("scaffold", () => {
  it("artifacthub files are up to date", () => {
    const r = runCli(["scaffold", "artifacthub", "--check"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("detects a stale artifacthub-pkg.yml", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpp-scaffold-"));
    for (const p of ["policies", "package.json", "artifacthub-pkg.yml", "artifacthub-repo.yml"]) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
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
    expect(parse(pkg.annotations["kubewarden/questions-ui"])).toEqual(parse(read("policies", policy, "questions-ui.yml")));
    expect(pkg.annotations["kubewarden/resources"]).toContain("StatefulSet");
  });

  it.each([
    ["reject-loopback-probes", "monitor"],
    ["rewrite-loopback-probes", "protect"],
  ])("deploy/%s.yaml is what scaffold manifest prints (%s mode)", (policy, mode) => {
    const r = runCli(["scaffold", "manifest", `policies/${policy}`, "--mode", mode]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(read("deploy", `${policy}.yaml`));
    const manifest = parse(r.stdout);
    const metadata = parseMetadata(read("policies", policy, "metadata.yml"));
    expect(manifest).toMatchObject({
      apiVersion: "policies.kubewarden.io/v1",
      kind: "ClusterAdmissionPolicy",
      spec: { mode, mutating: metadata.mutating, backgroundAudit: true, rules: metadata.rules },
    });
    expect(manifest.spec.module).toBe(`registry://${metadata.annotations["io.kubewarden.policy.ociUrl"]}:v${metadata.annotations["io.kubewarden.policy.version"]}`);
    expect(manifest.spec.namespaceSelector.matchExpressions).toEqual([{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] }]);
  });

  it("prints an AdmissionPolicy with settings for a module", () => {
    const r = runCli(["scaffold", "manifest", "policies/rewrite-loopback-probes", "--type", "AdmissionPolicy", "--namespace", "monitoring", "--settings-json", '{"strategy":"remove"}']);
    const manifest = parse(r.stdout);
    expect(manifest.kind).toBe("AdmissionPolicy");
    expect(manifest.metadata.namespace).toBe("monitoring");
    expect(manifest.spec.settings).toEqual({ strategy: "remove" });
    expect(manifest.spec).not.toHaveProperty("namespaceSelector");
    expect(runCli(["scaffold", "manifest", "policies/rewrite-loopback-probes", "--mode", "loud"]).code).toBe(2);
  });
});
