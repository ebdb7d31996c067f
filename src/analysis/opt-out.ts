/**
 * The per-object opt-out platform teams expect from linters (kube-linter's
 * `ignore-check.kube-linter.io/…`, Polaris' `polaris.fairwinds.com/…-exempt`):
 * an annotation naming the containers whose probes are not checked.
 *
 * Read from the object's own metadata AND from its pod template's metadata: an
 * annotation on a Deployment alone does not reach the Pods it creates, so a
 * policy that also sees Pods would flag them; the template's annotations do.
 */
import { isRecord, podMetadataOf, type PodTemplate } from "./workload.js";

/** Comma-separated container names, or `*` for every container. */
export const SKIP_CONTAINERS_ANNOTATION = "loopback-probes.kubewarden.io/skip-containers";
/** Optional free text saying why (shown in warnings and reports). */
export const SKIP_REASON_ANNOTATION = "loopback-probes.kubewarden.io/skip-reason";

/** Bounds on what is read from an attacker-controlled annotation. */
const MAX_NAMES = 256;
const MAX_REASON = 200;

export interface OptOut {
  /** Every container is skipped (`*`). */
  all: boolean;
  /** Container names skipped (empty when `all`). */
  containers: ReadonlySet<string>;
  /** The annotation value as written (bounded), for messages. */
  value: string;
  /** The owner's reason, when given. */
  reason?: string;
}

function annotation(meta: Record<string, unknown> | null, key: string): string | undefined {
  if (!meta || !isRecord(meta.annotations) || !Object.hasOwn(meta.annotations, key)) return undefined;
  const v = meta.annotations[key];
  return typeof v === "string" ? v : undefined;
}

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The opt-out of an object with a pod template, or null when it has none. */
export function optOutOf(object: unknown, template: PodTemplate): OptOut | null {
  const own = isRecord(object) && isRecord(object.metadata) ? object.metadata : null;
  const pod = podMetadataOf(object, template);
  const values = [annotation(own, SKIP_CONTAINERS_ANNOTATION), pod === own ? undefined : annotation(pod, SKIP_CONTAINERS_ANNOTATION)];
  let all = false;
  const containers = new Set<string>();
  const written: string[] = [];
  for (let v = 0; v < values.length; v++) {
    const value = values[v];
    if (value === undefined) continue;
    written.push(value);
    const names = value.split(",");
    for (let i = 0; i < names.length && containers.size < MAX_NAMES; i++) {
      const name = names[i]!.trim();
      if (name === "*") all = true;
      else if (name !== "") containers.add(name);
    }
  }
  if (written.length === 0) return null;
  const out: OptOut = { all, containers: all ? new Set() : containers, value: bounded(written.join(","), MAX_REASON) };
  const reason = annotation(own, SKIP_REASON_ANNOTATION) ?? (pod === own ? undefined : annotation(pod, SKIP_REASON_ANNOTATION));
  if (reason !== undefined && reason.trim() !== "") out.reason = bounded(reason.trim(), MAX_REASON);
  return out;
}

export function isSkipped(optOut: OptOut | null, container: string): boolean {
  return optOut !== null && (optOut.all || optOut.containers.has(container));
}

/** One line for the answer and reports: what was skipped and why. */
export function describeOptOut(optOut: OptOut): string {
  const names = [...optOut.containers];
  const listed = names.slice(0, 10).map((c) => `"${bounded(c, 63)}"`).join(", ") + (names.length > 10 ? ` and ${names.length - 10} more` : "");
  const what = optOut.all ? "all containers" : listed || "no container";
  return `probes of ${what} not checked (annotation ${SKIP_CONTAINERS_ANNOTATION}=${JSON.stringify(optOut.value)}${optOut.reason ? `; reason: ${optOut.reason}` : ""})`;
}
