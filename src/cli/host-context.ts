/**
 * Flags → the host-call handler a run uses: objects from `--context` files (and,
 * for audit, the audited objects themselves), or a kwctl session to replay.
 * Access is what the module's metadata declares in contextAwareResources, as
 * `kwctl run --allow-context-aware` grants it: passing context is the consent.
 */
import { readFileSync } from "node:fs";
import type { HostCallHandler } from "../toolchain/host-calls.js";
import { parseSession, replayHandler, SessionError } from "../toolchain/host-session.js";
import { type ContextAwareResource, type KubeObject, KubernetesObjects, kubernetesContextHandler } from "../toolchain/kubernetes-context.js";
import { UsageError } from "./command.js";
import { readManifestBytes } from "../audit/read-parallel.js";
import { readManifests } from "../audit/read.js";

/** Every object in the given files (YAML streams, JSON, kubectl Lists, folders); unreadable input is a usage error. */
export function readContextObjects(files: readonly string[]): KubeObject[] {
  if (files.length === 0) return [];
  // With the fast readers: a context is often a `kubectl get -o json` dump of a cluster (JSON.parse, not the yaml package).
  const set = readManifests([...files], { readBytes: (bytes, file, options) => readManifestBytes(bytes, file, options) });
  const problem = set.unreadable[0] ?? set.errors[0];
  if (problem) throw new UsageError(`--context ${problem.file}${problem.documentIndex === null ? "" : ` (document ${problem.documentIndex + 1})`}: ${problem.message}`);
  return set.objects.map((o) => o.object);
}

export interface HostContextFlags {
  context?: readonly string[];
  replay?: string;
}

export type ReplayingHandler = HostCallHandler & { remaining(): number };

/**
 * The handler for `run`; undefined when no context was given (every capability is then refused).
 * `allowed`: what the policy may read — a module's metadata contextAwareResources, or a policy resource's.
 */
export function hostCallFromFlags(allowed: readonly ContextAwareResource[], flags: HostContextFlags): HostCallHandler | ReplayingHandler | undefined {
  if (flags.replay !== undefined && (flags.context?.length ?? 0) > 0)
    throw new UsageError("give --context or --replay-host-capabilities-interactions, not both");
  if (flags.replay !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.replay, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read ${flags.replay}: ${(e as Error).message}`);
    }
    try {
      return replayHandler(parseSession(text, flags.replay), { allowed });
    } catch (e) {
      if (e instanceof SessionError) throw new UsageError(e.message);
      throw e;
    }
  }
  if (!flags.context || flags.context.length === 0) return undefined;
  return kubernetesContextHandler(new KubernetesObjects(readContextObjects(flags.context)), { allowed });
}
