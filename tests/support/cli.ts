/**
 * The CLI as a child process, without blocking this process: tests that start
 * servers in-process need their event loop running while the CLI talks to them
 * (helpers.ts's runCli uses spawnSync, which would freeze those servers).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { type CliResult, ROOT } from "../helpers.js";

/** Output kept per stream (the CLI's own messages are short). */
const MAX_OUTPUT = 1024 * 1024;

export function runCliAsync(args: string[], options: { input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "loopback-probes.js"), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(0, MAX_OUTPUT)));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(0, MAX_OUTPUT)));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
