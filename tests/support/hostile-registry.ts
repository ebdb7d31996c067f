/**
 * A misbehaving OCI registry for tests: plain node:http (or node:https with the
 * self-signed certificate in tests/support/tls) on a loopback address, serving an
 * in-memory distribution API that a test can bend — redirect to another host,
 * send a huge body, trickle, fall silent, announce a wrong digest or size.
 *
 * Every server and every timer is owned here: `stop()` destroys open connections
 * and clears timers, and `stopAllServers()` (call it in afterAll) stops whatever a
 * failing test left running. Every loop is bounded in count.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { join } from "node:path";

const TLS_DIR = join(import.meta.dirname, "tls");
/** The test certificate (valid for 127.0.0.1, 127.0.0.2, localhost): pass as `ca`. */
export const TEST_CA = readFileSync(join(TLS_DIR, "cert.pem"));

export interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer, server: TestServer) => void;

export interface TestServer {
  /** host:port */
  host: string;
  /** http(s)://host:port */
  origin: string;
  requests: Recorded[];
  /** Bytes the server managed to hand to the kernel while streaming a large body. */
  bytesSent: number;
  /** A timer that stop() clears. */
  every(ms: number, fn: () => void): NodeJS.Timeout;
  stop(): Promise<void>;
}

const servers = new Set<TestServer>();

/** Largest request body a test server accepts (a few modules). */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export function startServer(handler: Handler, options: { address?: string; tls?: boolean } = {}): Promise<TestServer> {
  const address = options.address ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let self: TestServer;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      self.requests.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization });
      handler(req, res, Buffer.concat(chunks), self);
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: TEST_CA, key: readFileSync(join(TLS_DIR, "key.pem")) }, onRequest)
    : createHttpServer(onRequest);
  // The raw TCP socket, also under TLS: destroying it ends the TLS session too.
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => {
      const port = (server.address() as { port: number }).port;
      const host = `${address}:${port}`;
      self = {
        host,
        origin: `${options.tls ? "https" : "http"}://${host}`,
        requests: [],
        bytesSent: 0,
        every(ms, fn) {
          const t = setInterval(fn, ms);
          timers.add(t);
          return t;
        },
        stop: () =>
          new Promise<void>((done) => {
            servers.delete(self);
            for (const t of timers) clearInterval(t);
            timers.clear();
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      };
      servers.add(self);
      resolve(self);
    });
  });
}

/** Stops every server still running (afterAll). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...servers].map((s) => s.stop()));
}

/** Runs `body` with servers and stops them whatever happens. */
export async function withServers<T>(start: () => Promise<TestServer[]>, body: (servers: TestServer[]) => Promise<T>): Promise<T> {
  const started: TestServer[] = [];
  try {
    started.push(...(await start()));
    return await body(started);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}

/** A raw TCP listener that accepts connections and never says a word (for TLS handshakes that never finish). */
export async function startSilentTcp(address = "127.0.0.1"): Promise<TestServer> {
  const { createServer } = await import("node:net");
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => {
      const host = `${address}:${(server.address() as { port: number }).port}`;
      const self: TestServer = {
        host,
        origin: `https://${host}`,
        requests: [],
        bytesSent: 0,
        every: () => {
          throw new Error("not supported");
        },
        stop: () =>
          new Promise<void>((done) => {
            servers.delete(self);
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      };
      servers.add(self);
      resolve(self);
    });
  });
}

export const digestOf = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/**
 * Writes up to `total` bytes of filler as fast as the peer reads them, counting what
 * the kernel accepted in `server.bytesSent`; stops when the peer goes away.
 */
export function flood(res: ServerResponse, server: TestServer, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let left = total;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      left -= chunk.length;
      server.bytesSent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  res.on("error", () => undefined);
  pump();
}

/** `bytes`, one byte every `ms`, until the end or the peer goes away. */
export function trickle(res: ServerResponse, server: TestServer, ms: number, bytes: Uint8Array): void {
  let sent = 0;
  const t = server.every(ms, () => {
    if (res.destroyed || sent >= bytes.length) {
      clearInterval(t);
      if (!res.destroyed) res.end();
      return;
    }
    res.write(bytes.subarray(sent, sent + 1));
    sent++;
  });
  res.on("close", () => clearInterval(t));
  res.on("error", () => undefined);
}

export interface MemoryRegistryOptions {
  /** Require these Basic credentials on /v2/ (401 Basic challenge otherwise). */
  basic?: { username: string; password: string };
  /** Require `Bearer <token>` on /v2/, with this realm in the challenge. */
  bearer?: { realm: () => string; token: string };
  /** Origin the upload Location points at (default: the server that got the POST). */
  uploadOrigin?: () => string;
  /** Called first; returns true when it answered the request itself. */
  intercept?: (req: IncomingMessage, res: ServerResponse, body: Buffer, server: TestServer) => boolean;
}

/**
 * An in-memory distribution registry, enough for push and pull: one instance may be
 * mounted on several servers (say 127.0.0.1 and 127.0.0.2) that then share blobs.
 */
export class MemoryRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Buffer>();
  constructor(readonly options: MemoryRegistryOptions = {}) {}

  handle: Handler = (req, res, body, server) => {
    if (this.options.intercept?.(req, res, body, server)) return;
    const url = new URL(req.url ?? "/", server.origin);
    const path = url.pathname;
    if (path.startsWith("/upload/") && req.method === "PUT") return this.finishUpload(url, body, res);
    if (!path.startsWith("/v2/")) return void res.writeHead(404).end();
    const { basic, bearer } = this.options;
    if (basic && req.headers.authorization !== `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`)
      return void res.writeHead(401, { "www-authenticate": 'Basic realm="test"', "content-type": "application/json" }).end(`{"errors":[{"code":"UNAUTHORIZED","detail":"got ${req.headers.authorization ?? "nothing"}"}]}`);
    if (bearer && req.headers.authorization !== `Bearer ${bearer.token}`)
      return void res.writeHead(401, { "www-authenticate": `Bearer realm="${bearer.realm()}",service="test",scope="repository:x:pull,push"` }).end();
    if (path === "/v2/") return void res.writeHead(200).end("{}");
    const m = /^\/v2\/(.+)\/(blobs|manifests)\/(.+)$/.exec(path);
    if (req.method === "POST" && path.endsWith("/blobs/uploads/")) {
      const id = randomBytes(8).toString("hex");
      const origin = this.options.uploadOrigin?.() ?? server.origin;
      return void res.writeHead(202, { location: `${origin}/upload/${id}` }).end();
    }
    if (m && m[2] === "blobs" && m[3]!.startsWith("uploads/") && req.method === "PUT") return this.finishUpload(url, body, res);
    if (!m) return void res.writeHead(404).end();
    const [, , kind, ref] = m as unknown as [string, string, string, string];
    if (kind === "blobs") {
      const blob = this.blobs.get(ref);
      if (!blob) return void res.writeHead(404).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
      res.writeHead(200, { "content-length": blob.length, "docker-content-digest": ref });
      return void res.end(req.method === "HEAD" ? undefined : blob);
    }
    if (req.method === "PUT") {
      const digest = digestOf(body);
      this.manifests.set(`${m[1]}:${ref}`, body);
      this.manifests.set(`${m[1]}:${digest}`, body);
      return void res.writeHead(201, { "docker-content-digest": digest, location: `/v2/${m[1]}/manifests/${digest}` }).end();
    }
    const manifest = this.manifests.get(`${m[1]}:${ref}`);
    if (!manifest) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": digestOf(manifest), "content-length": manifest.length });
    res.end(req.method === "HEAD" ? undefined : manifest);
  };

  private finishUpload(url: URL, body: Buffer, res: ServerResponse): void {
    const digest = url.searchParams.get("digest") ?? "";
    if (digestOf(body) !== digest) return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
    this.blobs.set(digest, body);
    res.writeHead(201, { "docker-content-digest": digest }).end();
  }
}
