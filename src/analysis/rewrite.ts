/**
 * Fixing unreachable probes: the upstream prometheus-operator fix (v0.75.0,
 * PR #6698) turned the reloader's httpGet probes into exec probes that run
 * curl, else wget, else fail, from inside the pod. We produce the same shape,
 * aimed at the address the container actually binds, when the image can run it.
 *
 * What the rewrite never does (see the policy README for why):
 * - delete a probe the API server or the owner must see: unresolvable port
 *   names are left in place with a warning (invalid port numbers are not even
 *   findings, probes.ts);
 * - delete a readiness or startup probe unless `strategy: remove` asks for it
 *   (a deleted readiness probe makes the pod Ready with no check at all);
 * - write an `sh -c` probe into an image known to have no shell: there a
 *   liveness probe that can never succeed is removed (it can only restart-loop
 *   the pod, the fix kube-prometheus applied to kube-state-metrics), and a
 *   readiness/startup probe is left as it is, with a warning naming the image.
 */
import type { HTTPHeader, Probe } from "kubernetes-types/core/v1";
import { hostForUrl } from "./host.js";
import { NO_EXTRA_IMAGES, shellVerdict, type ImageLists } from "./images.js";
import type { Finding } from "./reachability.js";
import { describeTarget, describeWorkload } from "./reachability.js";
import { isRecord, podTemplateOf } from "./workload.js";

export type RewriteStrategy = "exec" | "remove";

export interface RewriteOptions {
  strategy: RewriteStrategy;
  /** Extra image patterns with / without a shell (settings imagesWithShell / imagesWithoutShell). */
  images: ImageLists;
}

export const DEFAULT_REWRITE_OPTIONS: RewriteOptions = { strategy: "exec", images: NO_EXTRA_IMAGES };

export interface RewriteChange {
  finding: Finding;
  /** exec: replaced by an exec probe; removed: deleted; kept: left as it is (the warning says why). */
  action: "exec" | "removed" | "kept";
  /** A warning line for the admission response. */
  description: string;
  /** JSON path from the object root to the probe (its key is the last segment). */
  path: readonly (string | number)[];
  /** The new probe when `action` is exec. */
  replacement?: Probe;
}

export interface RewriteResult {
  /** A new object; the input is never modified. Equal to the input when nothing is replaced or removed. */
  object: unknown;
  changes: RewriteChange[];
}

const MAX_IMAGE_IN_MESSAGE = 200;
const shown = (image: string) => JSON.stringify(image.length > MAX_IMAGE_IN_MESSAGE ? `${image.slice(0, MAX_IMAGE_IN_MESSAGE)}…` : image);

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

const HEX = "0123456789ABCDEF";
const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** Characters Go's url package leaves unescaped in a path (encodePath). */
const PATH_SAFE = /[A-Za-z0-9\-_.~$&+,/:;=@]/;
/** Go's validEncoded: a path made only of these is sent as written. */
const VALID_ENCODED = /^[A-Za-z0-9\-_.~!$&'()*+,;=:@[\]/%]*$/;
/** Bytes a URL may carry literally in a query (RFC 3986 query chars plus `%`). */
const QUERY_SAFE = /[A-Za-z0-9\-_.~!$&'()*+,;=:@/?%[\]]/;

function percentEncode(text: string, safe: RegExp): string {
  let out = "";
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const ch = b < 0x80 ? String.fromCharCode(b) : "";
    out += ch !== "" && safe.test(ch) ? ch : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** Every `%` starts a two-digit hex escape. */
function escapesValid(text: string): boolean {
  for (let i = text.indexOf("%"); i >= 0; i = text.indexOf("%", i + 1))
    if (i + 2 >= text.length || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return false;
  return true;
}

/**
 * The request target the kubelet sends for `httpGet.path` (Go: url.Parse, then
 * URL.String): a path that is already validly encoded goes as written; anything
 * else (spaces, quotes, braces, non-ASCII) is percent-encoded, and a path with a
 * broken `%` escape is taken literally (`%` → `%25`, `?` → `%3F`). The fragment
 * is never sent.
 */
export function kubeletRequestTarget(rawPath: string): string {
  const hash = rawPath.indexOf("#");
  let p = hash >= 0 ? rawPath.slice(0, hash) : rawPath;
  if (!p.startsWith("/")) p = `/${p}`;
  const q = p.indexOf("?");
  const path = q < 0 ? p : p.slice(0, q);
  if (!escapesValid(path)) return percentEncode(p, PATH_SAFE);
  const encodedPath = VALID_ENCODED.test(path) ? path : percentEncode(decodeURIComponentSafe(path), PATH_SAFE);
  return q < 0 ? encodedPath : `${encodedPath}?${percentEncode(p.slice(q + 1), QUERY_SAFE)}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The host as it goes into a URL: IPv6 in brackets, a zone id's `%` escaped as `%25` (RFC 6874). */
export function urlHost(host: string): string {
  const h = hostForUrl(host);
  if (!h.startsWith("[")) return h;
  const zone = h.indexOf("%");
  if (zone < 0 || h.startsWith("%25", zone)) return h;
  return `${h.slice(0, zone)}%25${h.slice(zone + 1)}`;
}

/**
 * The exec-probe script: curl if present, else busybox wget, else fail (the
 * upstream shape). curl gets `--globoff`: without it `[]{}` in a URL (IPv6
 * hosts, paths) are glob patterns and curl exits 3 before connecting.
 */
export function httpCheckScript(check: HttpCheck): string {
  const url = shellQuote(`${check.scheme}://${urlHost(check.host)}:${check.port}${kubeletRequestTarget(check.path)}`);
  const tls = check.scheme === "https";
  const curlArgs = [...(tls ? ["--insecure"] : []), ...check.headers.map((h) => `-H ${shellQuote(`${h.name}: ${h.value}`)}`)];
  const wgetArgs = [...(tls ? ["--no-check-certificate"] : []), ...check.headers.map((h) => `--header ${shellQuote(`${h.name}: ${h.value}`)}`)];
  const curl = ["exec curl --fail --globoff", ...curlArgs, url].join(" ");
  const wget = ["exec wget -q -O /dev/null", ...wgetArgs, url].join(" ");
  return `if [ -x "$(command -v curl)" ]; then ${curl}; elif [ -x "$(command -v wget)" ]; then ${wget}; else exit 1; fi`;
}

/** A TCP connect check from inside the pod: nc -z, else bash's /dev/tcp, else fail. */
export function tcpCheckScript(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, "");
  const devTcp = shellQuote(`</dev/tcp/${bare}/${port}`);
  return `if [ -x "$(command -v nc)" ]; then exec nc -z ${shellQuote(bare)} ${port}; elif [ -x "$(command -v bash)" ]; then exec bash -c ${devTcp}; else exit 1; fi`;
}

/** What the exec probe needs in the image, for the warning. */
const NEEDS: Record<"httpGet" | "tcpSocket", string> = {
  httpGet: "sh plus curl or wget",
  tcpSocket: "sh plus nc (or bash)",
};

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

/**
 * What the rewrite does with each finding, without touching the object: the
 * policy splices the replacements into the request text (number-exact), tests
 * and the audit apply them to a copy (applyRewrite).
 */
export function planRewrite(object: unknown, findings: readonly Finding[], options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): RewriteChange[] {
  if (findings.length === 0) return [];
  const template = podTemplateOf(object);
  if (!template) return [];
  const changes: RewriteChange[] = [];
  // Containers repeat across findings: one glob match per image, one workload description.
  const verdicts = new Map<string, ReturnType<typeof shellVerdict>>();
  const workload = describeWorkload(findings[0]!.workload);
  for (let i = 0; i < findings.length; i++) {
    const finding = findings[i]!;
    const t = finding.target;
    const list: unknown = template.spec[t.containerList];
    const container = Array.isArray(list) ? (list[t.containerIndex] as unknown) : undefined;
    if (!isRecord(container) || !isRecord(container[t.probeKind])) continue;
    const path = [...template.path, t.containerList, t.containerIndex, t.probeKind];
    const where = `${finding.workload === findings[0]!.workload ? workload : describeWorkload(finding.workload)}: ${describeTarget(t)}`;
    const image = typeof container.image === "string" ? container.image : "";
    const keep = (why: string): RewriteChange => ({ finding, action: "kept", path, description: `${where} → not rewritten (${why}; ${finding.reason})` });
    const remove = (why: string): RewriteChange => ({ finding, action: "removed", path, description: `${where} → removed (${why}; ${finding.reason})` });
    const liveness = t.probeKind === "livenessProbe";

    if (finding.reason === "unresolvable-port-name") {
      // Deleting it would hide the owner's typo; the kubelet reports it as a failing probe.
      changes.push(keep(`no port named "${t.portSpec}": fix the name or use the port number; the probe is left for the owner to see`));
      continue;
    }
    if (options.strategy === "remove") {
      changes.push(remove(liveness ? "strategy remove" : `strategy remove: the pod now has no ${t.probeKind === "readinessProbe" ? "readiness" : "startup"} check`));
      continue;
    }
    if (t.handler === "grpc") {
      const why = "a grpc probe cannot be expressed as an exec probe without grpc_health_probe in the image";
      changes.push(liveness ? remove(`${why}; a liveness probe that can never succeed only restart-loops the pod`) : keep(`${why}; bind a non-loopback address`));
      continue;
    }
    let shell = verdicts.get(image);
    if (shell === undefined) verdicts.set(image, (shell = shellVerdict(image, options.images)));
    if (shell.verdict === "no-shell") {
      const owner = `image ${shown(image)} has no shell (matches "${shell.pattern}"), so an exec probe cannot run there: bind a non-loopback address, or probe through a container that serves the port`;
      changes.push(liveness ? remove(`${owner}; a liveness probe that can never succeed only restart-loops the pod`) : keep(owner));
      continue;
    }
    const replacement = rewriteToExecProbe(container[t.probeKind] as Probe, finding);
    if (!replacement) {
      changes.push(keep("no address to aim an exec probe at"));
      continue;
    }
    const needs = `it needs ${NEEDS[t.handler as "httpGet" | "tcpSocket"]} in image ${shown(image)}`;
    changes.push({ finding, action: "exec", path, replacement, description: `${where} → exec probe from inside the pod (${finding.reason}); ${needs}` });
  }
  return changes;
}

/** A deep copy of `object` with the planned replacements and removals applied. */
export function applyRewrite(object: unknown, changes: readonly RewriteChange[]): unknown {
  if (!changes.some((c) => c.action !== "kept")) return object;
  const copy: unknown = JSON.parse(JSON.stringify(object));
  for (const change of changes) {
    if (change.action === "kept") continue;
    let node: unknown = copy;
    for (let i = 0; i < change.path.length - 1 && node !== undefined; i++)
      node = isRecord(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[change.path[i]!] : undefined;
    if (!isRecord(node)) continue;
    const key = change.path[change.path.length - 1] as string;
    if (change.action === "exec") node[key] = change.replacement;
    else delete node[key];
  }
  return copy;
}

/** Plan and apply in one step (tests, the audit's --fix). */
export function rewriteUnreachableProbes(object: unknown, findings: readonly Finding[], options: RewriteStrategy | RewriteOptions = DEFAULT_REWRITE_OPTIONS): RewriteResult {
  const opts = typeof options === "string" ? { ...DEFAULT_REWRITE_OPTIONS, strategy: options } : options;
  const changes = planRewrite(object, findings, opts);
  return { object: applyRewrite(object, changes), changes };
}
