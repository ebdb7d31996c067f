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
import { parseMetadata } from "../../src/toolchain/metadata.js";
import { ROOT } from "../helpers.js";

const POLICIES = ["reject-loopback-probes", "rewrite-loopback-probes"];
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), "utf8");

describe("generated files", () => {
  it.each(POLICIES)("%s: generated files are up to date (run `npm run generate`)", async (policy) => {
    const files = await generatedFiles(join(ROOT, "policies", policy));
    expect(Object.keys(files).sort()).toEqual(["README.md", "questions-ui.yml", "settings.generated.ts", "settings.validate.generated.js"]);
    for (const [file, content] of Object.entries(files)) expect(read("policies", policy, file), `policies/${policy}/${file} is stale`).toBe(content);
  });

  it("both schemas share the common settings verbatim; rewrite adds only strategy", () => {
    const [reject, rewrite] = POLICIES.map((p) => JSON.parse(read("policies", p, "settings.schema.json")));
    const { strategy, ...rewriteCommon } = rewrite.properties;
    expect(rewriteCommon).toEqual(reject.properties);
    expect(rewrite.definitions).toEqual(reject.definitions);
    expect(strategy.enum).toEqual(["exec", "remove"]);
  });

  it.each(POLICIES)("%s: metadata is valid, versioned like the package, and mutating only for rewrite", (policy) => {
    const metadata = parseMetadata(read("policies", policy, "metadata.yml"));
    expect(metadata.annotations["io.kubewarden.policy.version"]).toBe(JSON.parse(read("package.json")).version);
    expect(metadata.mutating).toBe(policy.startsWith("rewrite"));
    expect(metadata.backgroundAudit).toBe(true);
    for (const key of ["title", "version", "description", "author", "url", "source", "license", "ociUrl", "severity", "category"])
      expect(metadata.annotations[`io.kubewarden.policy.${key}`], key).toBeTruthy();
    for (const key of ["displayName", "resources", "keywords"]) expect(metadata.annotations[`io.artifacthub.${key}`], key).toBeTruthy();
    const resources = metadata.rules.flatMap((r) => r.resources).sort();
    expect(resources).toEqual(["cronjobs", "daemonsets", "deployments", "jobs", "pods", "replicasets", "replicationcontrollers", "statefulsets"]);
    expect(new Set(metadata.rules.flatMap((r) => r.operations))).toEqual(new Set(["CREATE", "UPDATE"]));
  });

  it.each(POLICIES)("%s: questions-ui covers every setting", (policy) => {
    const schema = JSON.parse(read("policies", policy, "settings.schema.json"));
    const questions = parse(read("policies", policy, "questions-ui.yml")).questions as { variable: string }[];
    expect(questions.map((q) => q.variable)).toEqual(Object.keys(schema.properties));
  });
});
