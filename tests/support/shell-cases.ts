/**
 * The Kyverno-style shell and wrapper cases (tests/cases/shell-families.yml) as
 * Deployments and AdmissionRequests, for the unit and end-to-end suites.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export interface ContainerCase {
  name?: string;
  image?: string;
  script?: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string | null>;
}

export interface ShellCase extends ContainerCase {
  family: string;
  name: string;
  containers?: ContainerCase[];
  probe?: number;
  result: "fail" | "pass";
  warning?: string;
}

export const SHELL_CASES_FILE = join(import.meta.dirname, "..", "cases", "shell-families.yml");

export function shellCases(): ShellCase[] {
  return (parse(readFileSync(SHELL_CASES_FILE, "utf8")) as { cases: ShellCase[] }).cases;
}

function container(c: ContainerCase, fallbackName: string): Record<string, unknown> {
  const out: Record<string, unknown> = { name: c.name ?? fallbackName, image: c.image ?? "busybox:1.36" };
  if (c.script !== undefined) out.command = ["sh", "-c", c.script];
  if (c.command) out.command = c.command;
  if (c.args) out.args = c.args;
  if (c.env)
    out.env = Object.entries(c.env).map(([name, value]) => (value === null ? { name, valueFrom: { fieldRef: { fieldPath: "metadata.annotations['x']" } } } : { name, value }));
  return out;
}

/** The case as a Deployment whose first container is probed (httpGet liveness) on port 8080 or `probe`. */
export function caseObject(c: ShellCase): Record<string, unknown> {
  const containers = c.containers ? c.containers.map((x, i) => container(x, i === 0 ? "app" : `c${i}`)) : [container({ ...c, name: "app" }, "app")];
  containers[0]!.livenessProbe = { httpGet: { path: "/healthz", port: c.probe ?? 8080 }, periodSeconds: 10 };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "shell-case", namespace: "shell" },
    spec: { selector: { matchLabels: { app: "x" } }, template: { metadata: { labels: { app: "x" } }, spec: { containers } } },
  };
}

export function caseRequest(c: ShellCase): Record<string, unknown> {
  return {
    uid: "shell-case",
    kind: { group: "apps", version: "v1", kind: "Deployment" },
    resource: { group: "apps", version: "v1", resource: "deployments" },
    namespace: "shell",
    operation: "CREATE",
    userInfo: { username: "case" },
    object: caseObject(c),
  };
}
