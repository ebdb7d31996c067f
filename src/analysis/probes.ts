/**
 * Which network endpoints the kubelet dials for a pod's probes.
 */
import type { Container, HTTPHeader, PodSpec, Probe } from "kubernetes-types/core/v1";
import { isRecord } from "./workload.js";

export const PROBE_KINDS = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];
export type ProbeHandler = "httpGet" | "tcpSocket" | "grpc";
export type ContainerList = "containers" | "initContainers";

export interface ProbeTarget {
  containerList: ContainerList;
  containerIndex: number;
  container: string;
  probeKind: ProbeKind;
  handler: ProbeHandler;
  /** The port as written in the probe (number or name). */
  portSpec: number | string;
  /** The resolved port number, or null when a named port does not resolve. */
  port: number | null;
  /** `httpGet.host` / `tcpSocket.host` when set. */
  host?: string;
  path?: string;
  scheme?: string;
  headers?: HTTPHeader[];
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Containers that run alongside the app: regular ones and native sidecars (init, restartPolicy Always). */
export function runningContainers(spec: PodSpec): { list: ContainerList; index: number; container: Container }[] {
  const out: { list: ContainerList; index: number; container: Container }[] = [];
  const containers = list(spec.containers);
  for (let index = 0; index < containers.length; index++) {
    const c = containers[index];
    if (isRecord(c)) out.push({ list: "containers", index, container: c as unknown as Container });
  }
  const inits = list(spec.initContainers);
  for (let index = 0; index < inits.length; index++) {
    const c = inits[index];
    if (isRecord(c) && c.restartPolicy === "Always") out.push({ list: "initContainers", index, container: c as unknown as Container });
  }
  return out;
}

/** Resolve a probe port against the container's named ports. */
export function resolvePort(port: unknown, container: Container): number | null {
  if (typeof port === "number") return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : null;
  if (typeof port !== "string") return null;
  if (/^\d+$/.test(port)) return resolvePort(Number(port), container);
  const ports = list(container.ports);
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i];
    if (isRecord(p) && p.name === port && typeof p.containerPort === "number") return p.containerPort;
  }
  return null;
}

function targetOf(probe: Probe, container: Container): Omit<ProbeTarget, "containerList" | "containerIndex" | "container" | "probeKind"> | null {
  if (isRecord(probe.httpGet)) {
    const h = probe.httpGet;
    if (typeof h.port !== "number" && typeof h.port !== "string") return null;
    const t: ReturnType<typeof targetOf> = { handler: "httpGet", portSpec: h.port, port: resolvePort(h.port, container) };
    if (typeof h.host === "string" && h.host !== "") t.host = h.host;
    if (typeof h.path === "string") t.path = h.path;
    if (typeof h.scheme === "string") t.scheme = h.scheme;
    if (Array.isArray(h.httpHeaders)) t.headers = h.httpHeaders.filter((x) => isRecord(x) && typeof x.name === "string" && typeof x.value === "string");
    return t;
  }
  if (isRecord(probe.tcpSocket)) {
    const s = probe.tcpSocket;
    if (typeof s.port !== "number" && typeof s.port !== "string") return null;
    const t: ReturnType<typeof targetOf> = { handler: "tcpSocket", portSpec: s.port, port: resolvePort(s.port, container) };
    if (typeof s.host === "string" && s.host !== "") t.host = s.host;
    return t;
  }
  if (isRecord(probe.grpc)) {
    const g = probe.grpc;
    if (typeof g.port !== "number") return null;
    return { handler: "grpc", portSpec: g.port, port: resolvePort(g.port, container) };
  }
  return null; // exec probes run inside the pod's network namespace: always able to reach loopback
}

/**
 * A numeric port outside 1–65535 (or not an integer): the API server rejects the
 * object itself, so it is no target of ours. Neither policy may hide it: a finding
 * would make the rewrite delete the probe before the API server sees it.
 */
function invalidPortNumber(port: unknown): boolean {
  return typeof port === "number" && !(Number.isInteger(port) && port >= 1 && port <= 65535);
}

/** Every network probe of every running container (only the probe kinds in `kinds`). */
export function probeTargets(spec: PodSpec, kinds: readonly ProbeKind[] = PROBE_KINDS): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  const running = runningContainers(spec);
  for (let r = 0; r < running.length; r++) {
    const { list: containerList, index, container } = running[r]!;
    const name = typeof container.name === "string" ? container.name : `#${index}`;
    for (let k = 0; k < kinds.length; k++) {
      const probeKind = kinds[k]!;
      const probe: unknown = container[probeKind];
      if (!isRecord(probe)) continue;
      const t = targetOf(probe as Probe, container);
      if (t && !invalidPortNumber(t.portSpec)) {
        // Filled in place, not spread into a new object: a spread copies property by property in QuickJS.
        const target = t as ProbeTarget;
        target.containerList = containerList;
        target.containerIndex = index;
        target.container = name;
        target.probeKind = probeKind;
        out.push(target);
      }
    }
  }
  return out;
}
