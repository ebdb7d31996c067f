/**
 * The registry client against registries that misbehave on purpose
 * (tests/support/hostile-registry.ts): credentials must stay with their host,
 * https must not be downgraded, digests are computed here, bytes and time are
 * bounded, and pull -o never clobbers or follows a symlink.
 */
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { annotate, type PolicyMetadata } from "../../src/toolchain/metadata.js";
import { buildManifest, type ClientOptions, OCI_MANIFEST_MEDIA_TYPE, pullModule, pushModule, sha256 } from "../../src/toolchain/oci.js";
import { pullToCache, pullToFile } from "../../src/toolchain/oci-files.js";
import { runCli } from "../helpers.js";
import { runCliAsync } from "../support/cli.js";
import { digestOf, flood, MemoryRegistry, startServer, startSilentTcp, stopAllServers, TEST_CA, type TestServer, trickle, withServers } from "../support/hostile-registry.js";

const USER = { username: "alice", password: "pa55-w0rd-xyz" };
const BASIC = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString("base64")}`;
// Generous for a loaded 2-core machine; the timeout tests set their own short ones.
const TIMEOUTS = { connectMs: 10_000, idleMs: 10_000, transferMs: 30_000 };
const plain: ClientOptions = { plainHttp: true, timeouts: TIMEOUTS };

const METADATA: PolicyMetadata = {
  protocolVersion: "v1",
  rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE"] }],
  annotations: {
    "io.kubewarden.policy.title": "test",
    "io.kubewarden.policy.description": "ends with one newline\n",
    "io.kubewarden.policy.source": "https://example.com/src",
    "io.kubewarden.policy.usage": "two\nlines",
  },
  mutating: false,
  backgroundAudit: true,
  contextAwareResources: [],
  executionMode: "wasi",
  policyType: "kubernetes",
};
const MODULE = annotate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), METADATA);

/** Stores `module` in `registry` as repo:tag (a pushed policy), returns the manifest digest. */
function seed(registry: MemoryRegistry, repo: string, tag: string, module: Uint8Array, manifestOverride?: (m: Uint8Array) => Uint8Array): string {
  const config = new TextEncoder().encode("{}");
  registry.blobs.set(sha256(config), Buffer.from(config));
  registry.blobs.set(sha256(module), Buffer.from(module));
  const manifest = Buffer.from((manifestOverride ?? ((m) => m))(buildManifest(module, config, {})));
  registry.manifests.set(`${repo}:${tag}`, manifest);
  registry.manifests.set(`${repo}:${digestOf(manifest)}`, manifest);
  return digestOf(manifest);
}

const isBlobGet = (r: { method: string; path: string }) => r.method === "GET" && r.path.includes("/blobs/");

afterAll(stopAllServers);

describe("credentials stay with the registry host they were given for", () => {
  it("follows an upload Location on another host without credentials (and sends them on the same host)", async () => {
    const other: { origin?: string } = {};
    const registry = new MemoryRegistry({ basic: USER, uploadOrigin: () => other.origin! });
    await withServers(
      async () => [await startServer(registry.handle), await startServer(registry.handle, { address: "127.0.0.2" })],
      async ([main, elsewhere]) => {
        other.origin = elsewhere!.origin;
        const pushed = await pushModule(MODULE, `registry://${main!.host}/p/x:v1`, { ...plain, credentials: USER });
        const uploads = elsewhere!.requests.filter((r) => r.method === "PUT");
        expect(uploads.length).toBe(2); // config and module
        expect(uploads.map((r) => r.authorization)).toEqual([undefined, undefined]);
        expect(main!.requests.some((r) => r.authorization === BASIC)).toBe(true);
        expect(pushed.digest).toBe(digestOf(registry.manifests.get("p/x:v1")!));
      },
    );
    // Control: the same push with the Location on the registry's own origin carries them.
    const sameHost = new MemoryRegistry({ basic: USER });
    await withServers(
      async () => [await startServer(sameHost.handle)],
      async ([main]) => {
        await pushModule(MODULE, `registry://${main!.host}/p/x:v1`, { ...plain, credentials: USER });
        const uploads = main!.requests.filter((r) => r.method === "PUT" && r.path.startsWith("/upload/"));
        expect(uploads.length).toBe(2);
        expect(uploads.every((r) => r.authorization === BASIC)).toBe(true);
      },
    );
  });

  it("asks a token service on another host without credentials and sends the token only to the registry", async () => {
    const token = (res: ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "t0k3n-abc" }));
    const realm: { url?: string } = {};
    const registry = new MemoryRegistry({ bearer: { realm: () => realm.url!, token: "t0k3n-abc" } });
    await withServers(
      async () => [await startServer(registry.handle), await startServer((_q, res) => token(res), { address: "127.0.0.2" })],
      async ([main, tokens]) => {
        realm.url = `${tokens!.origin}/token`;
        await pushModule(MODULE, `registry://${main!.host}/p/x:v1`, { ...plain, credentials: USER });
        expect(tokens!.requests.length).toBeGreaterThan(0);
        expect(tokens!.requests.every((r) => r.authorization === undefined)).toBe(true);
        expect(main!.requests.some((r) => r.authorization === "Bearer t0k3n-abc")).toBe(true);
        expect(main!.requests.every((r) => r.authorization === undefined || r.authorization === "Bearer t0k3n-abc")).toBe(true);
      },
    );
    // Control: a realm on the registry's own origin gets the Basic credentials.
    const sameHost = new MemoryRegistry({
      bearer: { realm: () => realm.url!, token: "t0k3n-abc" },
      intercept: (req, res) => (req.url?.startsWith("/token") ? (token(res), true) : false),
    });
    await withServers(
      async () => [await startServer(sameHost.handle)],
      async ([main]) => {
        realm.url = `${main!.origin}/token`;
        await pushModule(MODULE, `registry://${main!.host}/p/x:v1`, { ...plain, credentials: USER });
        const tokenRequests = main!.requests.filter((r) => r.path.startsWith("/token"));
        expect(tokenRequests.length).toBeGreaterThan(0);
        expect(tokenRequests.every((r) => r.authorization === BASIC)).toBe(true);
      },
    );
  });

  it("says why when a token service on another host refuses an anonymous request", async () => {
    const realm: { url?: string } = {};
    const registry = new MemoryRegistry({ bearer: { realm: () => realm.url!, token: "t" } });
    await withServers(
      async () => [await startServer(registry.handle), await startServer((_q, res) => res.writeHead(401).end("need credentials"), { address: "127.0.0.2" })],
      async ([main, tokens]) => {
        realm.url = `${tokens!.origin}/token`;
        await expect(pushModule(MODULE, `registry://${main!.host}/p/x:v1`, { ...plain, credentials: USER })).rejects.toThrow(
          `the token service at ${tokens!.host} answered HTTP 401: need credentials (credentials are sent only to ${main!.host}, not to a token service on another host; if ${tokens!.host} is ${main!.host}'s own token service, allow it with --trust-token-realm ${tokens!.host})`,
        );
      },
    );
  });

  it("sends the credentials to a token service on another host only when it is named with --trust-token-realm (https only)", async () => {
    const token = (res: ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "t0k3n-opt-in" }));
    const realm: { url?: string } = {};
    const registry = new MemoryRegistry({ bearer: { realm: () => realm.url!, token: "t0k3n-opt-in" } });
    await withServers(
      async () => [await startServer(registry.handle), await startServer((_q, res) => token(res), { address: "127.0.0.2", tls: true }), await startServer((_q, res) => token(res), { address: "127.0.0.2" })],
      async ([main, httpsTokens, httpTokens]) => {
        realm.url = `${httpsTokens!.origin}/token`;
        // Another host, named: the Basic credentials go to it (the registry itself is plain http here).
        await pushModule(MODULE, `registry://${main!.host}/p/x:v1`, { ...plain, ca: TEST_CA, credentials: USER, trustedTokenRealms: [httpsTokens!.host] });
        expect(httpsTokens!.requests.length).toBeGreaterThan(0);
        expect(httpsTokens!.requests.every((r) => r.authorization === BASIC)).toBe(true);
        // A different host named: anonymous.
        httpsTokens!.requests.length = 0;
        await pushModule(MODULE, `registry://${main!.host}/p/x:v2`, { ...plain, ca: TEST_CA, credentials: USER, trustedTokenRealms: ["other.example:443"] });
        expect(httpsTokens!.requests.length).toBeGreaterThan(0);
        expect(httpsTokens!.requests.every((r) => r.authorization === undefined)).toBe(true);
        // The named host over plain http: never.
        realm.url = `${httpTokens!.origin}/token`;
        await pushModule(MODULE, `registry://${main!.host}/p/x:v3`, { ...plain, credentials: USER, trustedTokenRealms: [httpTokens!.host] });
        expect(httpTokens!.requests.length).toBeGreaterThan(0);
        expect(httpTokens!.requests.every((r) => r.authorization === undefined)).toBe(true);
      },
    );
  });

  it("follows a blob redirect to another host (a CDN) without credentials", async () => {
    const cdn: { origin?: string } = {};
    const registry = new MemoryRegistry({
      basic: USER,
      intercept: (req, res) => {
        if (req.method !== "GET" || !req.url?.includes("/blobs/") || req.headers.authorization !== BASIC) return false;
        res.writeHead(307, { location: `${cdn.origin}/cdn/${req.url.split("/blobs/")[1]}` }).end();
        return true;
      },
    });
    const digest = seed(registry, "p/x", "v1", MODULE);
    await withServers(
      async () => [
        await startServer(registry.handle),
        await startServer((req, res) => res.writeHead(200).end(registry.blobs.get(req.url!.slice("/cdn/".length))), { address: "127.0.0.2" }),
      ],
      async ([main, elsewhere]) => {
        cdn.origin = elsewhere!.origin;
        const pulled = await pullModule(`registry://${main!.host}/p/x:v1`, { ...plain, credentials: USER });
        expect(Buffer.compare(Buffer.from(pulled.module), Buffer.from(MODULE))).toBe(0);
        expect(pulled.digest).toBe(digest);
        expect(elsewhere!.requests.length).toBe(1);
        expect(elsewhere!.requests[0]!.authorization).toBeUndefined();
      },
    );
  });

  it("stops after 5 redirects", async () => {
    const registry = new MemoryRegistry({
      intercept: (req, res) => (req.url?.includes("/blobs/") ? (res.writeHead(302, { location: req.url }).end(), true) : false),
    });
    seed(registry, "p/x", "v1", MODULE);
    await withServers(
      async () => [await startServer(registry.handle)],
      async ([main]) => {
        await expect(pullModule(`registry://${main!.host}/p/x:v1`, plain)).rejects.toThrow(`too many redirects (more than 5) from ${main!.host}`);
        expect(main!.requests.filter(isBlobGet).length).toBe(6);
      },
    );
  });
});

describe("https is never downgraded to http", () => {
  const tls: ClientOptions = { ca: TEST_CA, timeouts: TIMEOUTS, credentials: USER };

  it("pushes and pulls over TLS with the test certificate (control)", async () => {
    const registry = new MemoryRegistry({ basic: USER });
    await withServers(
      async () => [await startServer(registry.handle, { tls: true })],
      async ([main]) => {
        const pushed = await pushModule(MODULE, `registry://${main!.host}/p/x:v1`, tls);
        const pulled = await pullModule(`registry://${main!.host}/p/x@${pushed.digest}`, tls);
        expect(Buffer.compare(Buffer.from(pulled.module), Buffer.from(MODULE))).toBe(0);
      },
    );
  });

  it("refuses an http upload Location, an http redirect and an http token realm from an https registry", async () => {
    const target: { origin?: string } = {};
    await withServers(
      async () => [await startServer((_q, res) => res.writeHead(200).end('{"token":"t"}'))],
      async ([http]) => {
        target.origin = http!.origin;
        const cases: [MemoryRegistry, (host: string) => Promise<unknown>][] = [
          [new MemoryRegistry({ basic: USER, uploadOrigin: () => target.origin! }), (host) => pushModule(MODULE, `registry://${host}/p/x:v1`, tls)],
          [
            new MemoryRegistry({ intercept: (req, res) => (req.url?.includes("/blobs/") && req.method === "GET" ? (res.writeHead(308, { location: `${target.origin}/blob` }).end(), true) : false) }),
            (host) => pullModule(`registry://${host}/p/x:v1`, tls),
          ],
          [new MemoryRegistry({ bearer: { realm: () => `${target.origin}/token`, token: "t" } }), (host) => pullModule(`registry://${host}/p/x:v1`, tls)],
        ];
        for (const [registry, act] of cases) {
          // The pull cases need a policy to pull; the push case must find no blob there (or it uploads nothing).
          if (registry.options.uploadOrigin === undefined) seed(registry, "p/x", "v1", MODULE);
          await withServers(
            async () => [await startServer(registry.handle, { tls: true })],
            async ([main]) => {
              await expect(act(main!.host)).rejects.toThrow(/from https to plain http/);
            },
          );
        }
        expect(http!.requests).toEqual([]);
      },
    );
  });
});

describe("digests are computed here, never taken on trust", () => {
  const lying = (what: "manifest-put" | "blob-put" | "manifest-get") =>
    new MemoryRegistry({
      intercept: (req, res, body) => {
        const wrong = `sha256:${"e".repeat(64)}`;
        if (what === "manifest-put" && req.method === "PUT" && req.url?.includes("/manifests/")) return (res.writeHead(201, { "docker-content-digest": wrong }).end(), true);
        if (what === "blob-put" && req.method === "PUT" && req.url?.startsWith("/upload/")) return (res.writeHead(201, { "docker-content-digest": wrong }).end(), true);
        if (what === "manifest-get" && req.method === "GET" && req.url?.includes("/manifests/")) {
          const manifest = buildManifest(MODULE, new TextEncoder().encode("{}"), {});
          return (res.writeHead(200, { "content-type": OCI_MANIFEST_MEDIA_TYPE, "docker-content-digest": wrong }).end(manifest), true);
        }
        void body;
        return false;
      },
    });

  it("refuses a pushed manifest whose announced digest is not its own, and prints no digest", async () => {
    await withServers(
      async () => [await startServer(lying("manifest-put").handle)],
      async ([main]) => {
        const dir = mkdtempSync(join(tmpdir(), "lpp-hostile-"));
        try {
          writeFileSync(join(dir, "m.wasm"), MODULE);
          const r = await runCliAsync(["push", join(dir, "m.wasm"), `registry://${main!.host}/p/x:v1`, "--plain-http"]);
          expect(r.code).toBe(1);
          expect(r.stdout).toBe("");
          expect(r.stderr).toContain(`the registry announced digest sha256:${"e".repeat(64)} for the pushed manifest, but its content has digest sha256:`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });

  it("refuses an uploaded blob whose announced digest is not its own", async () => {
    await withServers(
      async () => [await startServer(lying("blob-put").handle)],
      async ([main]) => {
        await expect(pushModule(MODULE, `registry://${main!.host}/p/x:v1`, plain)).rejects.toThrow(/announced digest sha256:e{64} for an uploaded blob/);
      },
    );
  });

  it("refuses a pulled manifest whose Docker-Content-Digest is not its own", async () => {
    const registry = lying("manifest-get");
    seed(registry, "p/x", "v1", MODULE);
    await withServers(
      async () => [await startServer(registry.handle)],
      async ([main]) => {
        await expect(pullModule(`registry://${main!.host}/p/x:v1`, plain)).rejects.toThrow(/announced digest sha256:e{64} for the manifest/);
      },
    );
  });

  it("refuses a manifest that is not the one the reference pins, and a layer that is not its digest", async () => {
    const registry = new MemoryRegistry();
    const digest = seed(registry, "p/x", "v1", MODULE);
    const other = seed(registry, "p/y", "v1", new Uint8Array([...MODULE, 1]));
    registry.manifests.set(`p/x:${other}`, registry.manifests.get("p/x:v1")!); // serves x's manifest for y's digest
    const tampered = Buffer.from(MODULE);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    const bad = new MemoryRegistry();
    seed(bad, "p/x", "v1", MODULE);
    bad.blobs.set(sha256(MODULE), tampered); // same size, other bytes
    await withServers(
      async () => [await startServer(registry.handle), await startServer(bad.handle)],
      async ([main, badServer]) => {
        await expect(pullModule(`registry://${main!.host}/p/x@${other}`, plain)).rejects.toThrow(`manifest digest mismatch: asked for ${other}, the registry sent content with digest ${digest}`);
        await expect(pullModule(`registry://${badServer!.host}/p/x:v1`, plain)).rejects.toThrow(`layer digest mismatch: the manifest says ${sha256(MODULE)}, the content has ${sha256(tampered)}`);
      },
    );
  });
});

describe("bytes are bounded as they arrive", () => {
  const GIB = 1024 * 1024 * 1024;
  const blobBy = (send: (res: ServerResponse, server: TestServer, req: IncomingMessage) => void) => {
    const registry = new MemoryRegistry({ intercept: (req, res, _b, server) => (req.method === "GET" && req.url?.includes("/blobs/") ? (send(res, server, req), true) : false) });
    seed(registry, "p/x", "v1", MODULE);
    return registry;
  };

  it("stops reading a blob at the manifest's size, long before a 1 GiB body ends", async () => {
    await withServers(
      async () => [await startServer(blobBy((res, server) => (res.writeHead(200), flood(res, server, GIB))).handle)],
      async ([main]) => {
        await expect(pullModule(`registry://${main!.host}/p/x:v1`, plain)).rejects.toThrow(`sent more than the manifest's ${MODULE.length} bytes for layer ${sha256(MODULE)}; stopped reading`);
        expect(main!.bytesSent).toBeLessThan(64 * 1024 * 1024);
      },
    );
  });

  it("refuses a Content-Length or a body length other than the manifest's size", async () => {
    await withServers(
      async () => [
        await startServer(blobBy((res) => res.writeHead(200, { "content-length": String(MODULE.length + 1) }).end(Buffer.concat([MODULE, Buffer.from([0])]))).handle),
        await startServer(blobBy((res) => res.writeHead(200).end(MODULE.subarray(0, 20))).handle),
      ],
      async ([long, short]) => {
        await expect(pullModule(`registry://${long!.host}/p/x:v1`, plain)).rejects.toThrow(`announced ${MODULE.length + 1} bytes for layer ${sha256(MODULE)}, the manifest says ${MODULE.length}`);
        await expect(pullModule(`registry://${short!.host}/p/x:v1`, plain)).rejects.toThrow(`ended after 20 of the manifest's ${MODULE.length} bytes`);
      },
    );
  });

  it("refuses a manifest over 4 MiB, and a layer over the module limit before downloading it", async () => {
    const huge = new MemoryRegistry({ intercept: (req, res, _b, server) => (req.url?.includes("/manifests/") ? (res.writeHead(200), flood(res, server, GIB), true) : false) });
    const registry = new MemoryRegistry();
    seed(registry, "p/x", "v1", MODULE);
    await withServers(
      async () => [await startServer(huge.handle), await startServer(registry.handle)],
      async ([hugeServer, main]) => {
        await expect(pullModule(`registry://${hugeServer!.host}/p/x:v1`, plain)).rejects.toThrow("sent more than 4194304 bytes for a manifest; stopped reading");
        expect(hugeServer!.bytesSent).toBeLessThan(64 * 1024 * 1024);
        await expect(pullModule(`registry://${main!.host}/p/x:v1`, { ...plain, maxModuleBytes: 16 })).rejects.toThrow(`the wasm layer is ${MODULE.length} bytes, more than the limit of 16 bytes`);
        expect(main!.requests.filter(isBlobGet)).toEqual([]);
      },
    );
  });

  it("quotes a bounded, printable, credential-free excerpt of an error body", async () => {
    const registry = new MemoryRegistry({
      intercept: (req, res, _b, server) => {
        if (req.url?.includes("/manifests/v1")) return (res.writeHead(500), flood(res, server, GIB), true);
        if (req.url?.includes("/manifests/v2")) return (res.writeHead(500).end(`\u001b[31mboom\u001b[0m for ${req.headers.authorization} ${USER.password}`), true);
        return false;
      },
    });
    await withServers(
      async () => [await startServer(registry.handle)],
      async ([main]) => {
        const big = await pullModule(`registry://${main!.host}/p/x:v1`, plain).catch((e: Error) => e);
        expect(big).toBeInstanceOf(Error);
        expect((big as Error).message).toMatch(/^could not fetch manifest v1: .* answered HTTP 500 a{300}…$/);
        expect(main!.bytesSent).toBeLessThan(64 * 1024 * 1024);
        const echoed = await pullModule(`registry://${main!.host}/p/x:v2`, { ...plain, credentials: USER }).catch((e: Error) => e);
        expect((echoed as Error).message).toContain("answered HTTP 500 [31mboom[0m for");
        expect((echoed as Error).message).not.toContain("\u001b");
        expect((echoed as Error).message).not.toContain(USER.password);
        expect((echoed as Error).message).not.toContain(BASIC.slice(6));
      },
    );
  });

  it("never prints the password a registry echoes back after a refused login", async () => {
    const registry = new MemoryRegistry({ basic: { username: "alice", password: "other" } });
    await withServers(
      async () => [await startServer(registry.handle)],
      async ([main]) => {
        const r = await runCliAsync(["pull", `registry://${main!.host}/p/x:v1`, "--plain-http", "-u", "alice", "--password-stdin", "-o", join(tmpdir(), "never-written.wasm")], { input: `${USER.password}\n` });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("HTTP 401");
        expect(r.stderr).toContain("got Basic ***"); // the registry's echo of our Authorization, redacted
        expect(r.stderr).not.toContain(USER.password);
        expect(r.stderr).not.toContain(BASIC.slice(6));
      },
    );
  });
});

describe("every wait is bounded", () => {
  it("gives up on a registry that accepts and falls silent", async () => {
    await withServers(
      async () => [await startServer(() => undefined)],
      async ([main]) => {
        await expect(pullModule(`registry://${main!.host}/p/x:v1`, { plainHttp: true, timeouts: { idleMs: 300 } })).rejects.toThrow(`${main!.host} sent nothing for 0.3 s (--idle-timeout)`);
      },
    );
  });

  it("gives up on a registry that trickles one byte at a time", async () => {
    const slow = new Uint8Array([...MODULE, ...new Uint8Array(5_000)]);
    const registry = new MemoryRegistry({ intercept: (req, res, _b, server) => (req.url?.includes("/blobs/") ? (res.writeHead(200), trickle(res, server, 10, slow), true) : false) });
    seed(registry, "p/x", "v1", slow);
    await withServers(
      async () => [await startServer(registry.handle)],
      async ([main]) => {
        await expect(pullModule(`registry://${main!.host}/p/x:v1`, { plainHttp: true, timeouts: { idleMs: 5_000, transferMs: 500 } })).rejects.toThrow(
          `${main!.host} did not finish answering within 0.5 s (--transfer-timeout)`,
        );
      },
    );
  });

  it("gives up on a TLS handshake that never completes, and says so when nothing listens", async () => {
    await withServers(
      async () => [await startSilentTcp()],
      async ([silent]) => {
        await expect(pullModule(`registry://${silent!.host}/p/x:v1`, { ca: TEST_CA, timeouts: { connectMs: 300 } })).rejects.toThrow(`no TLS connection to ${silent!.host} within 0.3 s (--connect-timeout)`);
      },
    );
    const gone = await startServer(() => undefined);
    await gone.stop();
    await expect(pullModule(`registry://${gone.host}/p/x:v1`, plain)).rejects.toThrow(`cannot connect to ${gone.host}: connection refused`);
  });

  it("validates the timeout flags", () => {
    const r = runCli(["pull", "registry://127.0.0.1:9/p/x:v1", "-o", "x.wasm", "--idle-timeout", "soon"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--idle-timeout takes a number of seconds between 0 and 86400, got "soon"');
  });
});

describe("pull -o writes whole files, never over existing ones unless --force, never through symlinks", () => {
  it("keeps an existing file, replaces it with --force, and replaces a symlink instead of following it", async () => {
    const registry = new MemoryRegistry();
    seed(registry, "p/x", "v1", MODULE);
    const dir = mkdtempSync(join(tmpdir(), "lpp-pull-o-"));
    try {
      await withServers(
        async () => [await startServer(registry.handle)],
        async ([main]) => {
          const ref = `registry://${main!.host}/p/x:v1`;
          const out = join(dir, "policy.wasm");
          writeFileSync(out, "precious");
          const refused = await runCliAsync(["pull", ref, "--plain-http", "-o", out]);
          expect(refused.code).toBe(1);
          expect(refused.stderr).toContain(`${out} already exists: pass --force to replace it`);
          expect(readFileSync(out, "utf8")).toBe("precious");
          const forced = await runCliAsync(["pull", ref, "--plain-http", "-o", out, "--force"]);
          expect(forced.code).toBe(0);
          expect(Buffer.compare(readFileSync(out), Buffer.from(MODULE))).toBe(0);

          const victim = join(dir, "victim.txt");
          writeFileSync(victim, "keep me");
          const link = join(dir, "link.wasm");
          symlinkSync(victim, link);
          await expect(pullToFile(ref, link, plain)).rejects.toThrow("already exists");
          const dangling = join(dir, "dangling.wasm");
          symlinkSync(join(dir, "nowhere"), dangling);
          await expect(pullToFile(ref, dangling, plain)).rejects.toThrow("already exists");
          expect(existsSync(join(dir, "nowhere"))).toBe(false);
          await pullToFile(ref, link, { ...plain, force: true });
          expect(lstatSync(link).isSymbolicLink()).toBe(false);
          expect(Buffer.compare(readFileSync(link), Buffer.from(MODULE))).toBe(0);
          expect(readFileSync(victim, "utf8")).toBe("keep me");
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves nothing behind when a check fails mid-download", async () => {
    const registry = new MemoryRegistry({ intercept: (req, res, _b, server) => (req.url?.includes("/blobs/") ? (res.writeHead(200), flood(res, server, 1024 * 1024), true) : false) });
    seed(registry, "p/x", "v1", MODULE);
    const dir = mkdtempSync(join(tmpdir(), "lpp-pull-o-"));
    try {
      await withServers(
        async () => [await startServer(registry.handle)],
        async ([main]) => {
          await expect(pullToFile(`registry://${main!.host}/p/x:v1`, join(dir, "p.wasm"), plain)).rejects.toThrow("stopped reading");
          expect(readdirSync(dir)).toEqual([]);
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses credentials inside a reference without echoing them", () => {
    for (const command of [["pull", "registry://alice:hunter2-secret@127.0.0.1:9/p/x:v1", "-o", "x.wasm"], ["push", "missing.wasm", "registry://alice:hunter2-secret@127.0.0.1:9/p/x:v1"]]) {
      const r = runCli(command);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("credentials inside a reference are not accepted");
      expect(r.stderr).toContain("registry://***@127.0.0.1:9/p/x:v1");
      expect(r.stderr).not.toContain("hunter2");
    }
  });
});

describe("pullToCache: the module cache behind --policy registry://…", () => {
  it("downloads once, reuses verified files, answers a pinned digest offline, and heals a corrupted file", async () => {
    const registry = new MemoryRegistry();
    const digest = seed(registry, "p/x", "v1", MODULE);
    const cacheDir = mkdtempSync(join(tmpdir(), "lpp-cache-"));
    try {
      await withServers(
        async () => [await startServer(registry.handle)],
        async ([main]) => {
          const first = await pullToCache(`registry://${main!.host}/p/x:v1`, { ...plain, cacheDir });
          expect(first).toEqual({ path: join(cacheDir, "blobs", "sha256", `${sha256(MODULE).slice(7)}.wasm`), digest, layerDigest: sha256(MODULE), reused: false });
          expect(Buffer.compare(readFileSync(first.path), Buffer.from(MODULE))).toBe(0);
          expect(main!.requests.filter(isBlobGet).length).toBe(1);

          const again = await pullToCache(`registry://${main!.host}/p/x:v1`, { ...plain, cacheDir });
          expect(again).toEqual({ ...first, reused: true });
          expect(main!.requests.filter(isBlobGet).length).toBe(1); // the tag was resolved, the layer not fetched

          const before = main!.requests.length;
          const pinned = await pullToCache(`registry://${main!.host}/p/x@${digest}`, { ...plain, cacheDir });
          expect(pinned).toEqual({ ...first, reused: true });
          expect(main!.requests.length).toBe(before); // no network at all

          writeFileSync(first.path, "corrupted");
          const healed = await pullToCache(`registry://${main!.host}/p/x@${digest}`, { ...plain, cacheDir });
          expect(healed).toEqual({ ...first, reused: false });
          expect(Buffer.compare(readFileSync(first.path), Buffer.from(MODULE))).toBe(0);
        },
      );
      // The registry is gone: a pinned digest still resolves from the cache.
      const offline = await pullToCache(`registry://127.0.0.1:9/p/x@${digest}`, { ...plain, cacheDir });
      expect(offline.reused).toBe(true);
      expect(offline.digest).toBe(digest);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it("caches nothing that fails verification", async () => {
    const registry = new MemoryRegistry();
    seed(registry, "p/x", "v1", MODULE);
    const tampered = Buffer.from(MODULE);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    registry.blobs.set(sha256(MODULE), tampered);
    const cacheDir = mkdtempSync(join(tmpdir(), "lpp-cache-"));
    try {
      await withServers(
        async () => [await startServer(registry.handle)],
        async ([main]) => {
          await expect(pullToCache(`registry://${main!.host}/p/x:v1`, { ...plain, cacheDir })).rejects.toThrow("layer digest mismatch");
          expect(readdirSync(join(cacheDir, "blobs", "sha256"))).toEqual([]);
          expect(readdirSync(join(cacheDir, "manifests", "sha256"))).toEqual([]);
        },
      );
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
