/**
 * Auditing with a whole bundle of validating policies, context-aware ones
 * included: every object is evaluated by every policy whose rules select it
 * (evaluate.ts), and host capabilities are answered from the objects being
 * audited plus any `--context` objects. So a `helm template` render — the
 * Prometheus CR and the prometheus-operator Deployment in one stream — is
 * checked as a whole, the way the cluster would see it once applied.
 *
 * This module finds the bundle's validating modules and routes one settings
 * document to each of them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type LoadedPolicy, loadPolicy } from "../toolchain/evaluate.js";
import type { HostCallHandler } from "../toolchain/host-calls.js";
import { imports } from "../toolchain/wasm-binary.js";
import { contextAwareResourcesOf, type KubeObject, KubernetesObjects, kubernetesContextHandler } from "../toolchain/kubernetes-context.js";
import { type AuditPolicy, validatorSettings } from "./evaluate.js";

export interface BundledPolicy {
  /** The module's file name without .wasm (= the policy folder's name). */
  name: string;
  file: string;
  policy: LoadedPolicy;
}

/** Every validating module (metadata `mutating: false`) in `dir`, sorted by name. */
export async function loadValidatingPolicies(dir: string): Promise<BundledPolicy[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".wasm")).sort();
  } catch {
    return [];
  }
  const out: BundledPolicy[] = [];
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

/**
 * The audit's policies: each with its settings and, for context-aware ones, a
 * host-call handler answering from `world` (audited objects + --context) within
 * what its metadata declares in contextAwareResources.
 */
export function auditPolicies(policies: readonly BundledPolicy[], settings: unknown, world: readonly KubeObject[] | KubernetesObjects): AuditPolicy[] {
  const names = policies.map((p) => p.name);
  // Given as KubernetesObjects, the world may still grow (objects added as they are read).
  const objects = world instanceof KubernetesObjects ? world : new KubernetesObjects([...world]);
  return policies.map((p) => {
    // Only modules that can call the host get a handler (their runs then stay on the
    // calling thread); it refuses what contextAwareResources does not grant, in Kubewarden's words.
    const callsHost = imports(p.policy.bytes).some((i) => i.kind === "func" && i.name === "call" && (i.module === "host" || i.module === "kubewarden:javy/host"));
    const hostCall: HostCallHandler | undefined = callsHost ? kubernetesContextHandler(objects, { allowed: contextAwareResourcesOf(p.policy.metadata) }) : undefined;
    return { name: p.name, policy: p.policy, settings: settingsFor(p.name, settings, names), ...(hostCall ? { hostCall } : {}) };
  });
}
