/**
 * Auditing with a whole bundle of validating policies, context-aware ones
 * included: every object is evaluated by every policy whose rules select it,
 * and host capabilities are answered from the objects being audited plus any
 * `--context` objects. So a `helm template` render — the Prometheus CR and the
 * prometheus-operator Deployment in one stream — is checked as a whole, the way
 * the cluster would see it once applied.
 *
 * One AuditResult per object, as the report formats expect: the worst status of
 * the policies that ran, their messages (prefixed with the policy's name when
 * several spoke), their findings. Warnings (accepted with a warning) are returned
 * separately so the command can print them.
 */
import { basename, join } from "node:path";
import { readdirSync } from "node:fs";
import { auditRequest, type AuditResult, findingsOf, rulesMatch, validatorSettings } from "../cli/audit-core.js";
import type { ManifestObject } from "../cli/manifests.js";
import { type LoadedPolicy, loadPolicy, patchOf, validate } from "../toolchain/evaluate.js";
import { contextAwareResourcesOf, type KubeObject, KubernetesObjects, kubernetesContextHandler } from "../toolchain/kubernetes-context.js";
import { readFileSync } from "node:fs";

export interface AuditPolicy {
  /** The module's file name without .wasm (= the policy folder's name). */
  name: string;
  file: string;
  policy: LoadedPolicy;
}

/** Every validating module (metadata `mutating: false`) in `dir`, sorted by name. */
export async function loadValidatingPolicies(dir: string): Promise<AuditPolicy[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".wasm")).sort();
  } catch {
    return [];
  }
  const out: AuditPolicy[] = [];
  for (const f of files) {
    const file = join(dir, f);
    const policy = await loadPolicy(new Uint8Array(readFileSync(file)));
    if (policy.metadata && !policy.metadata.mutating) out.push({ name: basename(f, ".wasm"), file, policy });
  }
  return out;
}

/** The shared validating settings go to reject-loopback-probes (as before); others take a key named after them. */
export function settingsFor(policyName: string, settings: unknown, bundleNames: readonly string[]): unknown {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) return policyName === "reject-loopback-probes" ? settings : {};
  const s = settings as Record<string, unknown>;
  if (Object.hasOwn(s, policyName)) return s[policyName];
  if (policyName !== "reject-loopback-probes" && bundleNames.length > 1) return {};
  const common: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(validatorSettings(s) as Record<string, unknown>)) if (!bundleNames.includes(k)) common[k] = v;
  return common;
}

/** The rewrite policy takes the shared settings plus `strategy`, or a key of its own. */
export function rewriterSettings(settings: unknown, bundleNames: readonly string[]): unknown {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) return settings;
  const s = settings as Record<string, unknown>;
  if (Object.hasOwn(s, "rewrite-loopback-probes")) return s["rewrite-loopback-probes"];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!bundleNames.includes(k)) out[k] = v;
  return out;
}

export interface BundleAuditOptions {
  policies: readonly AuditPolicy[];
  /** Mutating module whose JSON Patch is shown for failing workloads (--diff/--fix). */
  rewriter?: LoadedPolicy;
  /** Settings as given on the command line (see settingsFor). */
  settings: unknown;
  /** Objects that are not audited but answer host calls (--context files). */
  context?: readonly KubeObject[];
  onProgress?: (done: number, total: number) => void;
}

export interface BundleAudit {
  results: AuditResult[];
  /** Warnings of accepted objects: "<object>: <policy>: <text>". */
  warnings: string[];
}

const RANK = { skip: 0, pass: 1, error: 2, fail: 3 } as const;

export async function auditWithPolicies(objects: readonly ManifestObject[], options: BundleAuditOptions): Promise<BundleAudit> {
  const world = new KubernetesObjects([...(options.context ?? []), ...objects.map((o) => o.object)]);
  const names = options.policies.map((p) => p.name);
  const handlers = new Map(options.policies.map((p) => [p.name, kubernetesContextHandler(world, { allowed: contextAwareResourcesOf(p.policy.metadata) })]));
  const results: AuditResult[] = [];
  const warnings: string[] = [];
  let done = 0;
  for (const manifest of objects) {
    const request = auditRequest(manifest.object);
    const spoke: { name: string; status: AuditResult["status"]; message?: string }[] = [];
    let status: AuditResult["status"] = "skip";
    const findings: AuditResult["findings"] = [];
    for (const p of options.policies) {
      if (!rulesMatch(p.policy.metadata, manifest.object)) continue;
      const response = await validate(p.policy, request, settingsFor(p.name, options.settings, names), { hostCall: handlers.get(p.name)! });
      const s: AuditResult["status"] = response.allowed ? "pass" : response.status?.code === 500 ? "error" : "fail";
      if (RANK[s] > RANK[status]) status = s;
      if (!response.allowed) {
        spoke.push({ name: p.name, status: s, message: response.status?.message ?? "" });
        if (s === "fail") findings.push(...findingsOf(response.auditAnnotations));
      }
      for (const w of response.warnings ?? []) warnings.push(`${manifest.file}:${manifest.line}: ${p.name}: ${w}`);
    }
    const result: AuditResult = { manifest, status, findings };
    if (spoke.length === 1) result.message = spoke[0]!.message!;
    else if (spoke.length > 1) result.message = spoke.map((s) => `${s.name}: ${s.message}`).join("\n");
    if (status === "fail" && options.rewriter && findings.length > 0 && rulesMatch(options.rewriter.metadata, manifest.object)) {
      const patch = patchOf(await validate(options.rewriter, request, rewriterSettings(options.settings, names)));
      if (patch.length > 0) result.patch = patch;
    }
    results.push(result);
    options.onProgress?.(++done, objects.length);
  }
  return { results, warnings };
}
