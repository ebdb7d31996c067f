/**
 * A real OCI registry for tests: Debian's docker-registry (the CNCF distribution
 * registry) on 127.0.0.1 with a temporary storage folder, optionally behind
 * htpasswd basic auth. .ci/run installs the packages (docker-registry, apache2-utils).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRegistry {
  host: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function which(binary: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`${binary} not found: install it with \`apt-get install docker-registry apache2-utils\` (.ci/run does)`);
  }
}

export async function startRegistry(auth?: { username: string; password: string }): Promise<TestRegistry> {
  const binary = which("docker-registry");
  const dir = mkdtempSync(join(tmpdir(), "lpp-registry-"));
  const port = await freePort();
  let authBlock = "";
  if (auth) {
    const htpasswd = execFileSync(which("htpasswd"), ["-Bbn", auth.username, auth.password], { encoding: "utf8" });
    writeFileSync(join(dir, "htpasswd"), htpasswd);
    authBlock = `auth:\n  htpasswd:\n    realm: test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  writeFileSync(join(dir, "config.yml"), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\nhttp:\n  addr: 127.0.0.1:${port}\n${authBlock}`);
  const child: ChildProcess = spawn(binary, ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    try {
      const r = await fetch(`http://${host}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`docker-registry did not start within 15 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
