/**
 * Vitest global setup: make sure the wasmtime engine (Python `wasmtime` in the
 * venv .cache/wasmtime) exists, creating it as .ci/run does when it is missing,
 * and after the run print how many evaluations were compared across node:wasi
 * and wasmtime (tests/helpers.ts records each comparison).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WASMTIME_SETUP_HINT, WASMTIME_VENV, WASMTIME_VERSION, wasmtimePython } from "../../src/toolchain/wasmtime-runner.js";
import { COMPARISONS_DIR, COMPARISONS_TOTAL } from "./comparisons.js";

function sh(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? null : `${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stderr || r.stdout || "").trim().slice(-2000)}`;
}

function installedVersion(python: string): string | null {
  const r = spawnSync(python, ["-c", "from importlib import metadata; print(metadata.version('wasmtime'))"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export default function setup(): () => void {
  const python = wasmtimePython();
  if (installedVersion(python) !== WASMTIME_VERSION) {
    if (process.env.LPP_WASMTIME_PYTHON) throw new Error(`LPP_WASMTIME_PYTHON=${python} has no wasmtime ${WASMTIME_VERSION}`);
    console.log(`creating the wasmtime engine venv: ${WASMTIME_SETUP_HINT}`);
    const failed =
      (existsSync(join(WASMTIME_VENV, "bin", "python")) ? null : sh("python3", ["-m", "venv", WASMTIME_VENV])) ??
      sh(join(WASMTIME_VENV, "bin", "pip"), ["install", "--quiet", "--retries", "0", `wasmtime==${WASMTIME_VERSION}`]);
    if (failed || installedVersion(python) !== WASMTIME_VERSION)
      throw new Error(
        `The tests run every evaluation under wasmtime ${WASMTIME_VERSION} too, and it could not be installed.\n` +
          `Install it by hand (needs python3 with venv, e.g. apt-get install python3-venv):\n  ${WASMTIME_SETUP_HINT}\n${failed ?? ""}`,
      );
  }
  rmSync(COMPARISONS_DIR, { recursive: true, force: true });
  mkdirSync(COMPARISONS_DIR, { recursive: true });
  return () => {
    let total = 0;
    for (const f of readdirSync(COMPARISONS_DIR)) total += readFileSync(join(COMPARISONS_DIR, f), "utf8").length;
    writeFileSync(COMPARISONS_TOTAL, `${total}\n`);
    console.log(`cross-engine: ${total} evaluations compared between node:wasi and wasmtime ${WASMTIME_VERSION} (all equal, or a test failed)`);
  };
}
