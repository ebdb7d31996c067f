/**
 * The HTTP layer of the registry client: one request at a time over node:http(s),
 * with every wait and every byte bounded. A registry (or anything it redirects us
 * to) is untrusted: it may stall, trickle, send gigabytes, redirect across hosts
 * or from https to http, and echo our credentials in its error pages.
 *
 * Credentials are bound to one origin (scheme + host + port): the caller passes
 * them with `credentialOrigin`, and they are attached only when the request URL
 * has exactly that origin — never after a redirect or a Location to another host.
 * The one exception is a registry's Bearer token service (see tokenCredentialOrigin).
 */
import { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { rootCertificates } from "node:tls";

export class OciError extends Error {}

export interface Timeouts {
  /** TCP connect plus TLS handshake. */
  connectMs: number;
  /** Longest silence while waiting for response headers or body bytes. */
  idleMs: number;
  /** Whole exchange, headers and body: defeats a registry that trickles a byte at a time. */
  transferMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, idleMs: 30_000, transferMs: 300_000 };

/** Redirects followed per request (GET/HEAD: 301/302/303/307/308; others: 307/308). */
export const MAX_REDIRECTS = 5;
/** How much of an error response body is read; the rest is dropped with the connection. */
export const MAX_ERROR_BODY_BYTES = 4096;
/** How much of an error body is quoted in a message (after control characters are removed). */
export const MAX_QUOTED_ERROR_CHARS = 300;

export interface RequestInit {
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Sent only when the URL's origin is `credentialOrigin`. */
  authorization?: string | null;
  credentialOrigin?: string;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: URL;
  /** Every body byte, refusing more than `limit` (checked as bytes arrive and against Content-Length). */
  readAll(limit: number, what: string): Promise<Buffer>;
  /** Hands each chunk to `onChunk` as it arrives; `onChunk` throws to stop. */
  stream(onChunk: (chunk: Buffer) => void): Promise<void>;
  /** A short, printable excerpt of an error body (read at most MAX_ERROR_BODY_BYTES). */
  excerpt(): Promise<string>;
  /** Drops the body and the connection. */
  discard(): void;
}

export interface HttpOptions {
  timeouts: Timeouts;
  /** Extra trusted CA certificates (PEM), e.g. a private registry's or a test's. */
  ca?: string | Buffer;
  /** Strings that must never appear in a message (passwords, tokens, Authorization values). */
  secrets: () => string[];
}

/** Removes userinfo from URLs and every known secret from a text meant for a terminal. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]{0,30}:\/\/)[^/\s@]{0,512}@/gi, "$1***@");
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join("***");
  return out;
}

/** Control characters (ANSI escapes included) removed: registry text goes to a terminal. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "").replace(/\s+/g, " ").trim();
}

const seconds = (ms: number) => `${ms / 1000} s`;

/** Whether a redirect or a Location may be followed from `from` to `to`, and why not. */
export function followRefusal(from: URL, to: URL): string | null {
  if (to.protocol !== "http:" && to.protocol !== "https:") return `refusing to follow ${from.host} to a ${to.protocol} URL`;
  if (from.protocol === "https:" && to.protocol === "http:")
    return `refusing to follow ${from.host} from https to plain http (${to.host}): that would send the request unencrypted`;
  return null;
}

/** The names Docker Hub's registry API answers under (a `docker.io/…` reference talks to registry-1.docker.io). */
export const DOCKER_HUB_REGISTRIES: ReadonlySet<string> = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
/** Docker Hub's token service, which lives on a host of its own. */
export const DOCKER_HUB_TOKEN_SERVICE = "https://auth.docker.io";

/**
 * Where a registry's credentials may go when its 401 names a Bearer token
 * service (`realm`): the registry's own origin, except
 *  - Docker Hub's well-known token service, https://auth.docker.io, for a
 *    Docker Hub registry (docker.io, index.docker.io, registry-1.docker.io);
 *  - a realm host the user named (`--trust-token-realm HOST[:PORT]`), over https.
 * Anything else gets an anonymous token request. The realm's own redirects
 * never carry credentials further (exchange() binds them to this one origin).
 */
export function tokenCredentialOrigin(registry: URL, realm: URL, trustedRealmHosts: readonly string[] = []): string {
  if (realm.origin === registry.origin) return registry.origin;
  if (realm.protocol !== "https:") return registry.origin;
  if (DOCKER_HUB_REGISTRIES.has(registry.hostname.toLowerCase()) && registry.protocol === "https:" && realm.origin === DOCKER_HUB_TOKEN_SERVICE) return realm.origin;
  const host = realm.host.toLowerCase();
  if (trustedRealmHosts.some((h) => h.toLowerCase() === host)) return realm.origin;
  return registry.origin;
}

/**
 * One HTTP exchange with redirects handled here (never by the platform), so that
 * credentials stay with their origin and https is never downgraded.
 */
export async function exchange(url: URL, init: RequestInit, options: HttpOptions): Promise<Reply> {
  let current = url;
  let method = init.method;
  let body = init.body;
  for (let hop = 0; ; hop++) {
    const withAuth = init.authorization && init.credentialOrigin === current.origin;
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (withAuth) headers.authorization = init.authorization!;
    if (body !== undefined) headers["content-length"] = String(body.length);
    const reply = await once(current, method, headers, body, options);
    const location = reply.headers.location;
    const redirect = reply.status === 307 || reply.status === 308 || ((reply.status === 301 || reply.status === 302 || reply.status === 303) && (method === "GET" || method === "HEAD"));
    if (!redirect || !location) return reply;
    reply.discard();
    if (hop >= MAX_REDIRECTS) throw new OciError(`too many redirects (more than ${MAX_REDIRECTS}) from ${url.host}`);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new OciError(`${current.host} redirected to an invalid URL`);
    }
    const refusal = followRefusal(current, next);
    if (refusal) throw new OciError(refusal);
    if (reply.status === 303 && method !== "HEAD") {
      method = "GET";
      body = undefined;
    }
    current = next;
  }
}

function describeNetworkError(e: NodeJS.ErrnoException, url: URL): string {
  const host = url.host;
  switch (e.code) {
    case "ECONNREFUSED":
      return `cannot connect to ${host}: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve ${url.hostname}`;
    case "ECONNRESET":
      return `${host} closed the connection`;
    case "EPROTO":
    case "ERR_SSL_WRONG_VERSION_NUMBER":
      return `TLS handshake with ${host} failed (${e.message.split("\n")[0]})${url.protocol === "https:" ? "; use --plain-http for a registry without TLS" : ""}`;
    default:
      if (e.code?.startsWith("ERR_TLS") || e.code?.includes("CERT") || e.code?.startsWith("ERR_SSL"))
        return `TLS error with ${host}: ${e.message} (trust its certificate with NODE_EXTRA_CA_CERTS, or use --plain-http for a registry without TLS)`;
      return `cannot reach ${host}: ${e.message}`;
  }
}

function once(url: URL, method: string, headers: Record<string, string>, body: Uint8Array | undefined, options: HttpOptions): Promise<Reply> {
  const { connectMs, idleMs, transferMs } = options.timeouts;
  const https = url.protocol === "https:";
  return new Promise<Reply>((resolve, reject) => {
    let reason: OciError | null = null;
    let response: IncomingMessage | null = null;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const clear = () => timers.splice(0).forEach(clearTimeout);
    const abort = (message: string) => {
      if (reason) return;
      reason = new OciError(message);
      if (response) response.destroy(reason);
      req.destroy(reason);
    };
    const req: ClientRequest = (https ? httpsRequest : httpRequest)(url, {
      method,
      headers: { "user-agent": "loopback-probes", ...headers },
      agent: false,
      ...(https && options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
    });
    // Unref'd: an open socket keeps the process alive while it matters, a forgotten timer never does.
    timers.push(setTimeout(() => abort(`no ${https ? "TLS " : ""}connection to ${url.host} within ${seconds(connectMs)} (--connect-timeout)`), connectMs).unref());
    timers.push(setTimeout(() => abort(`${url.host} did not finish answering within ${seconds(transferMs)} (--transfer-timeout)`), transferMs).unref());
    req.on("socket", (socket: Socket) => {
      socket.once(https ? "secureConnect" : "connect", () => {
        clearTimeout(timers[0]);
        socket.setTimeout(idleMs, () => abort(`${url.host} sent nothing for ${seconds(idleMs)} (--idle-timeout)`));
      });
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clear();
      reject(reason ?? new OciError(describeNetworkError(e, url)));
    });
    req.on("response", (res) => {
      response = res;
      settled = true;
      res.on("close", clear);
      res.on("error", () => undefined); // surfaced by the readers below
      const fail = (e: unknown): never => {
        throw reason ?? (e instanceof OciError ? e : new OciError(describeNetworkError(e as NodeJS.ErrnoException, url)));
      };
      const stream = async (onChunk: (chunk: Buffer) => void) => {
        try {
          for await (const chunk of res) onChunk(chunk as Buffer);
        } catch (e) {
          fail(e);
        } finally {
          res.destroy();
          clear();
        }
        if (reason) throw reason;
      };
      const readAll = async (limit: number, what: string) => {
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > limit) {
          res.destroy();
          throw new OciError(`${url.host} announced ${declared} bytes for ${what}, more than the limit of ${limit} bytes`);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        await stream((chunk) => {
          total += chunk.length;
          if (total > limit) throw new OciError(`${url.host} sent more than ${limit} bytes for ${what}; stopped reading`);
          chunks.push(chunk);
        });
        return Buffer.concat(chunks, total);
      };
      const excerpt = async () => {
        const chunks: Buffer[] = [];
        let total = 0;
        try {
          await stream((chunk) => {
            chunks.push(chunk.subarray(0, MAX_ERROR_BODY_BYTES - total));
            total += Math.min(chunk.length, MAX_ERROR_BODY_BYTES - total);
            if (total >= MAX_ERROR_BODY_BYTES) throw new OciError("enough");
          });
        } catch {
          /* a partial excerpt is enough for a message */
        }
        // Redacted before it is cut; a body cut at the cap loses its last 1 KiB too, so
        // that no prefix of a secret split by the cap survives.
        let raw = redact(Buffer.concat(chunks).toString("utf8"), options.secrets());
        if (total >= MAX_ERROR_BODY_BYTES) raw = raw.slice(0, raw.length - 1024);
        const text = printable(raw);
        return text.length > MAX_QUOTED_ERROR_CHARS ? `${text.slice(0, MAX_QUOTED_ERROR_CHARS)}…` : text;
      };
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        url,
        readAll,
        stream,
        excerpt,
        discard: () => {
          res.destroy();
          clear();
        },
      });
    });
    req.end(body);
  });
}
