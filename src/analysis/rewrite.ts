/**
 * Fixing unreachable probes: the upstream prometheus-operator fix (v0.75.0,
 * PR #6698) turned the reloader's httpGet probes into exec probes that run
 * curl, else wget, else fail, from inside the pod. We produce the same shape,
 * aimed at the address the container actually binds.
 */
import type { HTTPHeader, Probe } from "kubernetes-types/core/v1";
import { hostForUrl } from "./host.js";
import type { Finding } from "./reachability.js";
import { describeTarget, describeWorkload } from "./reachability.js";
import { podTemplateOf, isRecord } from "./workload.js";

export type RewriteStrategy = "exec" | "remove";

export interface RewriteChange {
  finding: Finding;
  action: "exec" | "removed";
  /** A warning line for the admission response. */
  description: string;
}

export interface RewriteResult {
  /** A new object; the input is never modified. Equal to the input when `changes` is empty. */
  object: unknown;
  changes: RewriteChange[];
}

/** Quote a word for sh only when it needs it, so plain URLs keep the upstream spelling. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9/:._~%=,@+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

export interface HttpCheck {
  scheme: "http" | "https";
  host: string;
  port: number;
  path: string;
  headers: readonly HTTPHeader[];
}

/** The upstream exec-probe script: curl if present, else busybox wget, else fail. */
export function httpCheckScript(check: HttpCheck): string {
  const path = check.path === "" ? "/" : check.path.startsWith("/") ? check.path : `/${check.path}`;
  const url = shellQuote(`${check.scheme}://${hostForUrl(check.host)}:${check.port}${path}`);
  const tls = check.scheme === "https";
  const curlArgs = [...(tls ? ["--insecure"] : []), ...check.headers.map((h) => `-H ${shellQuote(`${h.name}: ${h.value}`)}`)];
  const wgetArgs = [...(tls ? ["--no-check-certificate"] : []), ...check.headers.map((h) => `--header ${shellQuote(`${h.name}: ${h.value}`)}`)];
  const curl = ["exec curl --fail", ...curlArgs, url].join(" ");
  const wget = ["exec wget -q -O /dev/null", ...wgetArgs, url].join(" ");
  return `if [ -x "$(command -v curl)" ]; then ${curl}; elif [ -x "$(command -v wget)" ]; then ${wget}; else exit 1; fi`;
}

/** A TCP connect check from inside the pod: nc -z, else bash's /dev/tcp, else fail. */
export function tcpCheckScript(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, "");
  const devTcp = shellQuote(`</dev/tcp/${bare}/${port}`);
  return `if [ -x "$(command -v nc)" ]; then exec nc -z ${shellQuote(bare)} ${port}; elif [ -x "$(command -v bash)" ]; then exec bash -c ${devTcp}; else exit 1; fi`;
}

const TIMING_FIELDS = ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"] as const;

/** The exec probe that replaces `probe`, keeping every timing field; null when no faithful exec form exists. */
export function rewriteToExecProbe(probe: Probe, finding: Finding): Probe | null {
  const t = finding.target;
  if (t.port === null || t.handler === "grpc") return null;
  // Aim at what the container binds; for an explicit loopback host, at that host.
  const bind = finding.listeners.find((l) => l.container === t.container) ?? finding.listeners[0];
  const host = bind?.host ?? t.host;
  if (host === undefined) return null;
  const script =
    t.handler === "httpGet"
      ? httpCheckScript({
          scheme: (t.scheme ?? "HTTP").toUpperCase() === "HTTPS" ? "https" : "http",
          host,
          port: t.port,
          path: t.path ?? "/",
          headers: t.headers ?? [],
        })
      : tcpCheckScript(host, t.port);
  const out: Probe = { exec: { command: ["sh", "-c", script] } };
  for (const field of TIMING_FIELDS) if (probe[field] !== undefined) out[field] = probe[field];
  return out;
}

/** Apply `strategy` to every finding; grpc and unresolvable ports can only be removed. */
export function rewriteUnreachableProbes(object: unknown, findings: readonly Finding[], strategy: RewriteStrategy): RewriteResult {
  if (findings.length === 0) return { object, changes: [] };
  const copy: unknown = JSON.parse(JSON.stringify(object));
  const template = podTemplateOf(copy);
  if (!template) return { object, changes: [] };
  const changes: RewriteChange[] = [];
  for (const finding of findings) {
    const t = finding.target;
    const list: unknown = template.spec[t.containerList];
    const container = Array.isArray(list) ? (list[t.containerIndex] as unknown) : undefined;
    if (!isRecord(container) || !isRecord(container[t.probeKind])) continue;
    const where = `${describeWorkload(finding.workload)}: ${describeTarget(t)}`;
    const replacement = strategy === "exec" ? rewriteToExecProbe(container[t.probeKind] as Probe, finding) : null;
    if (replacement) {
      container[t.probeKind] = replacement;
      changes.push({ finding, action: "exec", description: `${where} → exec probe from inside the pod (${finding.reason})` });
    } else {
      delete container[t.probeKind];
      const why =
        strategy === "remove"
          ? "strategy remove"
          : t.handler === "grpc"
            ? "a grpc probe cannot be expressed faithfully as exec without grpc_health_probe in the image"
            : "the probe's port cannot be resolved";
      changes.push({ finding, action: "removed", description: `${where} → removed (${why}; ${finding.reason})` });
    }
  }
  return changes.length > 0 ? { object: copy, changes } : { object, changes };
}
