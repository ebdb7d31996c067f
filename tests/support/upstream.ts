/**
 * Upstream data the tests check our output against: Kubewarden's and
 * OpenReports' CustomResourceDefinitions, each at a named commit, never
 * hand-written. They are not kept in this repository (files fetched from other
 * repositories stay out of its commits): `npm run upstream-data` extracts them
 * from fetched snapshots, and the tests read them from the first of
 *
 *   $UPSTREAM_DATA_DIR, ../shared/upstream (beside the corpus), .cache/upstream
 *
 * laid out as <dir>/<owner>/<name>@<commit>/<path>.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";

export interface UpstreamFile {
  repo: string;
  commit: string;
  path: string;
}

/** kubewarden/adm-controller (snapshot still named kubewarden/kubewarden-controller) at the commit the reference notes are checked against. */
export const KUBEWARDEN = { repo: "kubewarden/kubewarden-controller", commit: "3460bb719b3816ddf5eb958665282c9b9ce8ee29" } as const;
/** openreports/reports-api at its newest commit (its CRDs are unchanged since v0.2.1 = b7afe2e, the version Kubewarden's go.mod pins). */
export const OPENREPORTS = { repo: "openreports/reports-api", commit: "769d97879794167439427e472eeaa4b936d628e2" } as const;

const kubewardenCrd = (plural: string): UpstreamFile => ({ ...KUBEWARDEN, path: `charts/kubewarden-crds/templates/crds/policies.kubewarden.io_${plural}.yaml` });

export const UPSTREAM_FILES = {
  clusterAdmissionPolicy: kubewardenCrd("clusteradmissionpolicies"),
  admissionPolicy: kubewardenCrd("admissionpolicies"),
  clusterAdmissionPolicyGroup: kubewardenCrd("clusteradmissionpolicygroups"),
  admissionPolicyGroup: kubewardenCrd("admissionpolicygroups"),
  policyServer: kubewardenCrd("policyservers"),
  openReport: { ...OPENREPORTS, path: "config/crd/openreports.io_reports.yaml" },
  openClusterReport: { ...OPENREPORTS, path: "config/crd/openreports.io_clusterreports.yaml" },
} as const satisfies Record<string, UpstreamFile>;

const ROOT = resolve(import.meta.dirname, "..", "..");

export function upstreamDirs(): string[] {
  return [process.env.UPSTREAM_DATA_DIR, join(ROOT, "..", "shared", "upstream"), join(ROOT, ".cache", "upstream")].filter((d): d is string => !!d);
}

export const upstreamRelative = (f: UpstreamFile) => `${f.repo}@${f.commit}/${f.path}`;

/** The upstream files found in none of the folders (relative paths). */
export function missingUpstreamFiles(): string[] {
  return Object.values(UPSTREAM_FILES)
    .map(upstreamRelative)
    .filter((rel) => !upstreamDirs().some((dir) => existsSync(join(dir, rel))));
}

/**
 * Whether every upstream file is present. This machine's CI cannot reach GitHub and
 * the files may not be committed here, so the checks against them run where the data
 * is (a developer's `npm run upstream-data`, or ../shared/upstream) and the test
 * setup says plainly when they did not (tests/setup/prerequisites.ts).
 */
export const UPSTREAM_PRESENT = missingUpstreamFiles().length === 0;

/** The file's text; a missing file fails with what to run. */
export function upstreamText(f: UpstreamFile): string {
  const rel = upstreamRelative(f);
  for (const dir of upstreamDirs()) {
    const p = join(dir, rel);
    if (existsSync(p)) return readFileSync(p, "utf8");
  }
  throw new Error(`upstream data ${f.repo}@${f.commit.slice(0, 7)}:${f.path} not found in ${upstreamDirs().join(", ")}: run npm run upstream-data -- --from DIR (it extracts the files from fetched snapshots)`);
}

/** A CRD's JSON schema for one served version, made strict the way `kubectl apply --validate=strict` is: unknown fields are errors. */
export function crdSchema(f: UpstreamFile, version: string): Record<string, unknown> {
  const crd = parse(upstreamText(f)) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${f.path} serves no version ${version}`);
  return strictSchema(v.schema.openAPIV3Schema);
}

/**
 * OpenAPI v3 structural schema → JSON Schema for ajv: objects with properties
 * and no x-kubernetes-preserve-unknown-fields refuse unknown keys (the API
 * server would prune them silently), int-or-string becomes either, nullable
 * admits null, and the x-kubernetes-* annotations (list types, map types) go.
 */
export function strictSchema(node: unknown): Record<string, unknown> {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return {};
  const s = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith("x-kubernetes-") || k === "nullable" || k === "format") continue;
    if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, sub]) => [p, strictSchema(sub)]));
    else if (k === "items" || k === "additionalProperties") out[k] = typeof v === "boolean" ? v : strictSchema(v);
    else if (k === "allOf" || k === "anyOf" || k === "oneOf") out[k] = (v as unknown[]).map(strictSchema);
    else out[k] = v;
  }
  if (s["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (out.type === "object" && out.properties && out.additionalProperties === undefined && s["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  if (s.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}
