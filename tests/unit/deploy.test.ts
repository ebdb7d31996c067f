/**
 * deploy/ against the current upstream CRD schemas (kubewarden/adm-controller
 * and the policy resources' rules the controller's webhooks add), and what each
 * file promises: the group holds exactly the validating policies and evaluates
 * (its expression parses over its members), the PolicyServer's verification
 * config is one policy-server reads, with a key that is plainly a placeholder.
 */
import Ajv from "ajv";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { DEPLOY } from "../../src/cli/scaffold.js";
import { parseGroupExpression } from "../../src/toolchain/group-expression.js";
import { parseMetadata } from "../../src/toolchain/metadata.js";
import { parsePolicyDefinitions } from "../../src/toolchain/policy-definition.js";
import { ROOT } from "../helpers.js";
import { crdSchema, UPSTREAM_FILES, UPSTREAM_PRESENT } from "../support/upstream.js";

const ajv = new Ajv({ allErrors: true, strict: false });
// Compiled only where the upstream CRDs are present (see tests/support/upstream.ts).
const validators: Record<string, ReturnType<typeof ajv.compile>> = UPSTREAM_PRESENT
  ? {
      ClusterAdmissionPolicy: ajv.compile(crdSchema(UPSTREAM_FILES.clusterAdmissionPolicy, "v1")),
      AdmissionPolicy: ajv.compile(crdSchema(UPSTREAM_FILES.admissionPolicy, "v1")),
      ClusterAdmissionPolicyGroup: ajv.compile(crdSchema(UPSTREAM_FILES.clusterAdmissionPolicyGroup, "v1")),
      AdmissionPolicyGroup: ajv.compile(crdSchema(UPSTREAM_FILES.admissionPolicyGroup, "v1")),
      PolicyServer: ajv.compile(crdSchema(UPSTREAM_FILES.policyServer, "v1")),
    }
  : {};
const docs = readdirSync(join(ROOT, "deploy")).flatMap((file) =>
  parseAllDocuments(readFileSync(join(ROOT, "deploy", file), "utf8")).map((d) => ({ file, doc: d.toJS() as Record<string, any> })),
);
const metadataOf = (policy: string) => parseMetadata(readFileSync(join(ROOT, "policies", policy, "metadata.yml"), "utf8"));

describe("deploy/ against the current CRDs", () => {
  it("holds the Kubewarden resources a user applies, and kwctl run reads every policy file", () => {
    const kubewarden = docs.filter((d) => d.doc.apiVersion === "policies.kubewarden.io/v1");
    expect(kubewarden.map((d) => d.doc.kind).sort()).toEqual(["ClusterAdmissionPolicy", "ClusterAdmissionPolicy", "ClusterAdmissionPolicy", "ClusterAdmissionPolicyGroup", "PolicyServer"]);
    for (const file of readdirSync(join(ROOT, "deploy")).filter((f) => f !== `${DEPLOY.policyServer.file}.yaml`))
      expect(parsePolicyDefinitions(readFileSync(join(ROOT, "deploy", file), "utf8"), file)).toHaveLength(1);
  });

  it.runIf(UPSTREAM_PRESENT)("every Kubewarden resource is valid for its upstream CRD (unknown fields refused)", () => {
    const kubewarden = docs.filter((d) => d.doc.apiVersion === "policies.kubewarden.io/v1");
    for (const { file, doc } of kubewarden) {
      const validate = validators[doc.kind]!;
      expect(validate(doc), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it.runIf(UPSTREAM_PRESENT)("the schema check can fail: a misspelt field, a deadline out of bounds, a group without message", () => {
    const cap = structuredClone(docs.find((d) => d.doc.kind === "ClusterAdmissionPolicy")!.doc);
    cap.spec.timeoutEvalSecs = 2;
    expect(validators.ClusterAdmissionPolicy!(cap)).toBe(false);
    delete cap.spec.timeoutEvalSecs;
    cap.spec.timeoutEvalSeconds = 60;
    expect(validators.ClusterAdmissionPolicy!(cap)).toBe(false);
    const group = structuredClone(docs.find((d) => d.doc.kind === "ClusterAdmissionPolicyGroup")!.doc);
    delete group.spec.message;
    expect(validators.ClusterAdmissionPolicyGroup!(group)).toBe(false);
  });

  it("each policy carries timeoutEvalSeconds and the annotations the audit scanner reads; none hides its own message", () => {
    for (const p of DEPLOY.policies) {
      const doc = docs.find((d) => d.doc.kind === "ClusterAdmissionPolicy" && d.doc.metadata.name === p.policy)!.doc;
      expect(doc.spec.timeoutEvalSeconds).toBe(p.timeoutEvalSeconds);
      expect(doc.spec.message).toBeUndefined(); // spec.message would replace the policy's precise rejection text
      const metadata = metadataOf(p.policy);
      expect(doc.metadata.annotations["io.kubewarden.policy.category"]).toBe(metadata.annotations["io.kubewarden.policy.category"]);
      expect(doc.metadata.annotations["io.kubewarden.policy.severity"]).toBe(metadata.annotations["io.kubewarden.policy.severity"]);
    }
  });

  it("the group holds the validating policies (never the mutating one), with their grants and deadlines; its expression evaluates", () => {
    const group = docs.find((d) => d.doc.kind === "ClusterAdmissionPolicyGroup")!.doc;
    const members = Object.keys(group.spec.policies);
    const validating = DEPLOY.policies.map((p) => p.policy).filter((p) => !metadataOf(p).mutating);
    expect(members).toEqual(validating.map((p) => p.replace(/-/g, "_")));
    for (const policy of validating) {
      const member = group.spec.policies[policy.replace(/-/g, "_")];
      const metadata = metadataOf(policy);
      expect(member.module).toBe(`registry://${metadata.annotations["io.kubewarden.policy.ociUrl"]}:v${metadata.annotations["io.kubewarden.policy.version"]}`);
      expect(member.contextAwareResources ?? []).toEqual(metadata.contextAwareResources);
      // What reaches the group reaches every member's rules.
      for (const rule of metadata.rules)
        for (const resource of rule.resources)
          expect(group.spec.rules.some((r: { apiGroups: string[]; resources: string[] }) => r.apiGroups.includes(rule.apiGroups[0]!) && r.resources.includes(resource)), `${policy} ${resource}`).toBe(true);
    }
    expect(() => parseGroupExpression(group.spec.expression, members)).not.toThrow();
    expect(group.spec.message.length).toBeGreaterThan(0);
  });

  it("the PolicyServer verifies with the ConfigMap's config, whose key is plainly a placeholder; namespaced policies get what the modules declare", () => {
    const server = docs.find((d) => d.doc.kind === "PolicyServer")!.doc;
    const configMap = docs.find((d) => d.doc.kind === "ConfigMap")!.doc;
    expect(server.spec.verificationConfig).toBe(configMap.metadata.name);
    expect(configMap.metadata.namespace).toBe("kubewarden");
    const config = parse(configMap.data["verification-config"]);
    expect(config.apiVersion).toBe("v1");
    expect(config.allOf).toHaveLength(1);
    expect(Object.keys(config.allOf[0]).sort()).toEqual(["key", "kind", "owner"]);
    expect(config.allOf[0].kind).toBe("pubKey");
    expect(config.allOf[0].key).toMatch(/^-----BEGIN PUBLIC KEY-----\nREPLACE-ME/);
    const declared = [...new Set(DEPLOY.policies.flatMap((p) => metadataOf(p.policy).hostCapabilities ?? []))].sort();
    expect(declared.length).toBeGreaterThan(0);
    expect(server.spec.namespacedPoliciesCapabilities).toEqual(declared);
  });
});
