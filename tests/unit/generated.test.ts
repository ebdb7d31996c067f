/**
 * settings.schema.json is the source of truth: the generated types, validator,
 * questions-ui.yml and README settings tables must match it (CI fails on drift),
 * and both policies must share the common settings verbatim.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../../scripts/generate-settings.js";
import { GROUP_KIND_TEMPLATES, POD_SPEC_PATHS } from "../../src/analysis/workload.js";
import { parseMetadata } from "../../src/toolchain/metadata.js";
import { ROOT } from "../helpers.js";

const POLICIES = ["reject-loopback-probes", "rewrite-loopback-probes"];
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), "utf8");

describe("generated files", () => {
  it.each(POLICIES)("%s: generated files are up to date (run `npm run generate`)", async (policy) => {
    const files = await generatedFiles(join(ROOT, "policies", policy));
    expect(Object.keys(files).sort()).toEqual(
      policy === "reject-loopback-probes"
        ? ["PROGRAMS.md", "README.md", "questions-ui.yml", "settings.generated.ts", "settings.validate.generated.js"]
        : ["README.md", "questions-ui.yml", "settings.generated.ts", "settings.validate.generated.js"],
    );
    for (const [file, content] of Object.entries(files)) expect(read("policies", policy, file), `policies/${policy}/${file} is stale`).toBe(content);
  });

  it("both schemas share the common settings verbatim; rewrite adds only strategy and the image lists", () => {
    const [reject, rewrite] = POLICIES.map((p) => JSON.parse(read("policies", p, "settings.schema.json")));
    const { strategy, imagesWithShell, imagesWithoutShell, ...rewriteCommon } = rewrite.properties;
    expect(rewriteCommon).toEqual(reject.properties);
    const { imagePattern, ...rewriteDefinitions } = rewrite.definitions;
    expect(rewriteDefinitions).toEqual(reject.definitions);
    expect(strategy.enum).toEqual(["exec", "remove"]);
    for (const list of [imagesWithShell, imagesWithoutShell]) expect(list.items.$ref).toBe("#/definitions/imagePattern");
    expect(imagePattern.maxLength).toBeGreaterThan(0);
  });

  it.each(POLICIES)("%s: metadata is valid, versioned like the package, and mutating only for rewrite", (policy) => {
    const metadata = parseMetadata(read("policies", policy, "metadata.yml"));
    expect(metadata.annotations["io.kubewarden.policy.version"]).toBe(JSON.parse(read("package.json")).version);
    expect(metadata.mutating).toBe(policy.startsWith("rewrite"));
    expect(metadata.backgroundAudit).toBe(true);
    for (const key of ["title", "version", "description", "author", "url", "source", "license", "ociUrl", "severity", "category"])
      expect(metadata.annotations[`io.kubewarden.policy.${key}`], key).toBeTruthy();
    for (const key of ["displayName", "resources", "keywords"]) expect(metadata.annotations[`io.artifacthub.${key}`], key).toBeTruthy();
    // Every kind the analysis reads a pod template from has a rule, and nothing else does.
    const ruled = metadata.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`))).sort();
    const plural = (kind: string) => `${kind.toLowerCase()}s`;
    const coreGroup: Record<string, string> = { Pod: "", PodTemplate: "", ReplicationController: "", Job: "batch", CronJob: "batch" };
    const known = [
      ...Object.keys(POD_SPEC_PATHS).map((k) => `${coreGroup[k] ?? "apps"}/${plural(k)}`),
      ...GROUP_KIND_TEMPLATES.map((t) => `${t.group}/${plural(t.kind)}`),
    ].sort();
    expect(ruled).toEqual(known);
    expect(new Set(metadata.rules.flatMap((r) => r.operations))).toEqual(new Set(["CREATE", "UPDATE"]));
  });

  it.each(POLICIES)("%s: questions-ui covers every setting", (policy) => {
    const schema = JSON.parse(read("policies", policy, "settings.schema.json"));
    const questions = parse(read("policies", policy, "questions-ui.yml")).questions as { variable: string }[];
    expect(questions.map((q) => q.variable)).toEqual(Object.keys(schema.properties));
  });
});
