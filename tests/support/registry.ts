/**
 * A real OCI registry for tests: Debian's docker-registry (the CNCF distribution
 * registry) on 127.0.0.1 with a temporary storage folder, optionally behind
 * htpasswd basic auth. Nothing else is needed: the htpasswd entry is a fixed
 * bcrypt hash (distribution accepts only bcrypt), so apache2-utils is not.
 *
 * Every registry started is stopped — by its `stop()`, by `startRegistries` when a
 * sibling fails to start, and as a last resort when the test process exits — and
 * its temporary folder removed.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The one account of an authenticated test registry. */
export const TEST_USER = { username: "alice", password: "s3cret" } as const;
// `htpasswd -Bbn -C 5 alice s3cret` (bcrypt, cost 5: fast to check).
const TEST_HTPASSWD = "alice:$2y$05$YjQOUVZhP/OVB5qI90qI2ODuSzCx4srFq8Lur2Zu/uNMb6oLB6iJu\n";

export const INSTALL_HINT = "sudo apt-get install -y docker-registry";
const START_LIMIT_MS = 15_000;

export interface TestRegistry {
  host: string;
  stop(): Promise<void>;
}

/** The test certificate (CN loopback-probes test registry; 127.0.0.1, 127.0.0.2, localhost) a TLS registry serves. */
export const TLS_CERT = join(import.meta.dirname, "tls", "cert.pem");
const TLS_KEY = join(import.meta.dirname, "tls", "key.pem");

/** The status of GET https://host/v2/, trusting only the test certificate. */
function httpsStatus(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(`https://${host}/v2/`, { ca: readFileSync(TLS_CERT), timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** The docker-registry binary, or an error naming the exact command that installs it. */
export function dockerRegistryBinary(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync("/bin/sh", ["-c", "command -v docker-registry"], { encoding: "utf8", env }).trim();
  } catch {
    throw new Error(`docker-registry is not installed; the registry tests need it. Install it with:\n  ${INSTALL_HINT}\n(.ci/run does this on CI)`);
  }
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function stopChild(child: ChildProcess, dir: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      done();
    });
    child.kill("SIGTERM");
  });
}

/**
 * `tls`: serve https with tests/support/tls (a client trusts it with
 * NODE_EXTRA_CA_CERTS=TLS_CERT), for commands that have no --plain-http.
 */
export async function startRegistry(auth = false, tls = false): Promise<TestRegistry> {
  const binary = dockerRegistryBinary();
  const dir = mkdtempSync(join(tmpdir(), "lpp-registry-"));
  let child: ChildProcess | null = null;
  try {
    const port = await freePort();
    let authBlock = "";
    if (auth) {
      writeFileSync(join(dir, "htpasswd"), TEST_HTPASSWD);
      authBlock = `auth:\n  htpasswd:\n    realm: test\n    path: ${join(dir, "htpasswd")}\n`;
    }
    const tlsBlock = tls ? `  tls:\n    certificate: ${TLS_CERT}\n    key: ${TLS_KEY}\n` : "";
    writeFileSync(join(dir, "config.yml"), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\nhttp:\n  addr: 127.0.0.1:${port}\n${tlsBlock}${authBlock}`);
    const started = spawn(binary, ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
    child = started;
    running.add(started);
    let stderr = "";
    started.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    const host = `127.0.0.1:${port}`;
    const deadline = Date.now() + START_LIMIT_MS;
    for (let attempt = 0; ; attempt++) {
      if (started.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
      try {
        let status: number;
        if (tls) status = await httpsStatus(host);
        else {
          const r = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(2_000) });
          await r.arrayBuffer();
          status = r.status;
        }
        if (status === 200 || status === 401) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline || attempt > 300) throw new Error(`docker-registry did not start within ${START_LIMIT_MS / 1000} s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { host, stop: () => stopChild(started, dir) };
  } catch (e) {
    if (child) await stopChild(child, dir);
    else rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Starts several registries; if one fails, the others are stopped before the error
 * is thrown, so a failed setup leaves no process behind.
 */
export async function startRegistries(...auth: boolean[]): Promise<TestRegistry[]> {
  const results = await Promise.allSettled(auth.map((a) => startRegistry(a)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<TestRegistry>).value);
}
