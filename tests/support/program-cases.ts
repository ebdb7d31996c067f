/**
 * The program knowledge cases (policies/reject-loopback-probes/test_data/programs.yml) as
 * workloads: the unit test judges them with the TypeScript analysis, the end-to-end test
 * with both built policies under both engines, the native pre-check test with it on and off.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../helpers.js";

export interface ProgramCase {
  title: string;
  source?: string;
  kind?: "Deployment" | "KnativeService";
  hostNetwork?: boolean;
  containers: Record<string, unknown>[];
  findings: string[];
  messageIncludes?: string[];
  exec?: string[];
  keeps?: boolean;
}

export const PROGRAM_CASES_FILE = join(ROOT, "policies", "reject-loopback-probes", "test_data", "programs.yml");

export function programCases(): ProgramCase[] {
  return (parse(readFileSync(PROGRAM_CASES_FILE, "utf8")) as { cases: ProgramCase[] }).cases;
}

/** The case's workload: a Deployment in namespace `cases`, or a Knative Service. */
export function caseObject(c: ProgramCase, index: number): Record<string, unknown> {
  const spec: Record<string, unknown> = { containers: structuredClone(c.containers) };
  if (c.hostNetwork !== undefined) spec.hostNetwork = c.hostNetwork;
  const name = `case-${index}`;
  if (c.kind === "KnativeService")
    return { apiVersion: "serving.knative.dev/v1", kind: "Service", metadata: { name, namespace: "cases" }, spec: { template: { spec } } };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "cases" },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec } },
  };
}

/** The AdmissionRequest for a case's workload (CREATE). */
export function caseRequest(c: ProgramCase, index: number): Record<string, unknown> {
  const object = caseObject(c, index);
  const knative = c.kind === "KnativeService";
  const gvk = knative ? { group: "serving.knative.dev", version: "v1", kind: "Service" } : { group: "apps", version: "v1", kind: "Deployment" };
  const resource = knative ? { group: "serving.knative.dev", version: "v1", resource: "services" } : { group: "apps", version: "v1", resource: "deployments" };
  return { uid: `case-${index}`, kind: gvk, resource, requestKind: gvk, requestResource: resource, name: `case-${index}`, namespace: "cases", operation: "CREATE", userInfo: { username: "tester" }, object };
}
