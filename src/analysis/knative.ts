/**
 * Knative Serving fills fields in: a Service's pod template is not the pod the
 * cluster runs. The analysis judges the pod as Knative's controller renders it
 * (knative/serving pkg/apis/serving/v1/revision_defaults.go and
 * pkg/reconciler/revision/resources/deploy.go, release 1.x):
 *
 * - containers without a name are named `user-container` (several: `user-container-0`,
 *   `-1`, … skipping names in use);
 * - the serving container is the one that declares a port, or the only one; its
 *   port is `ports[0].containerPort`, else 8080, and it gets `PORT` set to it;
 * - readiness probes (httpGet, tcpSocket, grpc) are run by queue-proxy from inside
 *   the pod, never by the kubelet: they cannot fail for a loopback bind;
 * - the serving container's httpGet/tcpSocket liveness probe is aimed at the user
 *   port when it names no port or names one by name; a numeric port is rewritten too
 *   with the default `multi-container-probing: disabled` and kept when enabled. A
 *   numeric port other than the user port is therefore judged by neither (which one
 *   the kubelet dials depends on a flag of the cluster we cannot see);
 * - startup probes and the other containers' probes are passed as written: a
 *   startup probe of the serving container with no port (or a named one, whose name
 *   Knative's rendered ports no longer hold) is left unjudged: the Deployment is
 *   refused, or the probe names a port we would be guessing at.
 *
 * Assumed: the default `container-name-template` (`user-container`) and
 * `multi-container-probing` left at its default (disabled), see knative.dev/docs/serving/configuration/feature-flags.
 */
import type { Container, EnvVar, PodSpec, Probe } from "kubernetes-types/core/v1";
import { isRecord } from "./workload.js";

export const KNATIVE_USER_CONTAINER = "user-container";
export const KNATIVE_DEFAULT_USER_PORT = 8080;

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The index of the serving container: the one declaring a port, or the only container; -1 if none. */
export function knativeServingIndex(spec: PodSpec): number {
  const containers = list(spec.containers);
  if (containers.length === 1) return 0;
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    if (isRecord(c) && Array.isArray(c.ports) && c.ports.length > 0) return i;
  }
  return -1;
}

/** The serving container's port: its first declared containerPort, else 8080. */
export function knativeUserPort(container: unknown): number {
  if (isRecord(container) && Array.isArray(container.ports) && isRecord(container.ports[0])) {
    const p = container.ports[0].containerPort;
    if (typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535) return p;
  }
  return KNATIVE_DEFAULT_USER_PORT;
}

/** Names as Knative defaults them (applyDefaultContainerNames). */
function defaultedNames(spec: PodSpec): string[] {
  const containers = list(spec.containers);
  const used = new Set<string>();
  for (const c of [...containers, ...list(spec.initContainers)]) if (isRecord(c) && typeof c.name === "string") used.add(c.name);
  const out: string[] = [];
  let suffix = 0;
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    if (isRecord(c) && typeof c.name === "string" && c.name !== "") {
      out.push(c.name);
      continue;
    }
    let name = KNATIVE_USER_CONTAINER;
    if (containers.length > 1 || used.has(name))
      do name = `${KNATIVE_USER_CONTAINER}-${suffix++}`;
    while (used.has(name) && suffix < 100_000);
    out.push(name);
  }
  return out;
}

const NETWORK = ["httpGet", "tcpSocket", "grpc"] as const;

function hasNetworkHandler(probe: unknown): boolean {
  return isRecord(probe) && NETWORK.some((h) => isRecord(probe[h]));
}

/** The liveness probe of the serving container as the kubelet gets it, or undefined when it cannot be told. */
function servingLiveness(probe: unknown, userPort: number): unknown {
  if (!isRecord(probe)) return probe;
  for (const h of ["httpGet", "tcpSocket"] as const) {
    const action = probe[h];
    if (!isRecord(action)) continue;
    const port: unknown = action.port;
    if (typeof port === "number" && port !== userPort) return undefined; // depends on multi-container-probing
    return { ...probe, [h]: { ...action, port: userPort } };
  }
  return probe;
}

/**
 * The pod spec Knative renders from a Service's template (see above), for judging
 * only: a new object, the input untouched; container indexes are kept, so findings
 * point at the template's own probes.
 */
export function knativeRenderedSpec(spec: PodSpec): PodSpec {
  const containers = list(spec.containers);
  const serving = knativeServingIndex(spec);
  const names = defaultedNames(spec);
  const rendered: unknown[] = [];
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    if (!isRecord(c)) {
      rendered.push(c);
      continue;
    }
    const out: Record<string, unknown> = { ...c, name: names[i] };
    if (hasNetworkHandler(c.readinessProbe)) delete out.readinessProbe;
    if (i === serving) {
      const userPort = knativeUserPort(c);
      out.ports = [{ name: "user-port", containerPort: userPort }];
      out.env = [...list(c.env), { name: "PORT", value: String(userPort) } satisfies EnvVar];
      const liveness = servingLiveness(c.livenessProbe, userPort);
      if (liveness === undefined) delete out.livenessProbe;
      else out.livenessProbe = liveness;
      const startup: unknown = c.startupProbe;
      if (isRecord(startup))
        for (const h of ["httpGet", "tcpSocket"] as const) {
          const action = startup[h];
          if (isRecord(action) && typeof action.port !== "number") delete out.startupProbe;
        }
    }
    rendered.push(out as unknown as Container);
  }
  return { ...spec, containers: rendered as Container[] };
}

/** A probe as Knative lets a template write it: httpGet/tcpSocket may leave `port` out. */
export function knativeProbePortOptional(handler: string): boolean {
  return handler === "httpGet" || handler === "tcpSocket";
}

export type { Probe };
