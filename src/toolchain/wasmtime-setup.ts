/**
 * Where the wasmtime engine (Python's `wasmtime` package in a venv) lives, and
 * setting it up on first use.
 *
 * - In a source checkout: `.cache/wasmtime` (what `.ci/run` and the test setup
 *   create), compiled code in `.cache/wasmtime-compiled`.
 * - In the installed npm package: the user's cache (src/toolchain/user-cache.ts),
 *   `wasmtime-<version>/` and `wasmtime-compiled/`: never inside the package,
 *   which may belong to root (a global install) and is replaced on upgrade.
 * - `$LPP_WASMTIME_PYTHON`: a Python that has wasmtime; never set up here.
 *
 * Setting up is `python3 -m venv DIR` then `DIR/bin/pip install wasmtime==V`
 * with pip's own configuration: offline when pip is configured with a local
 * index or wheel folder (as on this project's machines), from PyPI otherwise.
 * Each step says what it does on stderr; a failure says what to run by hand
 * and that `--engine node` needs nothing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { userCacheDir } from "./user-cache.js";

/** The wasmtime release the harness pins (policy-server 1.3x embeds 44.x: same Cranelift code generator family). */
export const WASMTIME_VERSION = "49.0.0";

/** The checkout's root when this code runs from a source checkout (src/toolchain/), else null (lib/ of the package). */
const CHECKOUT_ROOT: string | null = existsSync(join(import.meta.dirname, "..", "..", "src", "toolchain", "wasmtime", "runner.py")) ? resolve(import.meta.dirname, "..", "..") : null;

/** The runner script: src/toolchain/wasmtime/runner.py, shipped as lib/wasmtime/runner.py (scripts/pack.ts). */
export const WASMTIME_RUNNER = CHECKOUT_ROOT ? join(CHECKOUT_ROOT, "src", "toolchain", "wasmtime", "runner.py") : join(import.meta.dirname, "wasmtime", "runner.py");

export interface WasmtimeEngine {
  /** The Python to run the runner with. */
  python: string;
  /** The venv this CLI creates when missing (null: $LPP_WASMTIME_PYTHON, not ours to create). */
  venv: string | null;
  /** Compiled code, per module content and engine configuration. */
  compiledCache: string;
}

export function wasmtimeEngine(): WasmtimeEngine {
  const home = CHECKOUT_ROOT ? join(CHECKOUT_ROOT, ".cache") : userCacheDir();
  const venv = CHECKOUT_ROOT ? join(home, "wasmtime") : join(home, `wasmtime-${WASMTIME_VERSION}`);
  const compiledCache = join(home, "wasmtime-compiled");
  if (process.env.LPP_WASMTIME_PYTHON) return { python: process.env.LPP_WASMTIME_PYTHON, venv: null, compiledCache };
  return { python: join(venv, "bin", "python"), venv, compiledCache };
}

/** The commands that create the venv by hand. */
export function wasmtimeSetupHint(venv = wasmtimeEngine().venv ?? join(userCacheDir(), `wasmtime-${WASMTIME_VERSION}`)): string {
  return `python3 -m venv ${venv} && ${join(venv, "bin", "pip")} install wasmtime==${WASMTIME_VERSION}`;
}

/** The wasmtime version `python` has, or null (no such Python, or no wasmtime in it). */
export function installedWasmtimeVersion(python: string): string | null {
  if (!existsSync(python)) return null;
  const r = spawnSync(python, ["-c", "from importlib import metadata; print(metadata.version('wasmtime'))"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export class WasmtimeSetupError extends Error {}

function step(command: string, args: string[]): string | null {
  const r = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status === 0) return null;
  const output = (r.stderr || r.stdout || "").trim().split("\n").slice(-12).join("\n");
  return `${command} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`})${output ? `:\n${output}` : ""}`;
}

/**
 * Make sure the engine's Python has wasmtime WASMTIME_VERSION, creating the venv
 * when it is ours to create. `progress` hears each step (it can take a minute).
 * Throws WasmtimeSetupError with what to do when it cannot.
 */
export function ensureWasmtime(progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): WasmtimeEngine {
  const engine = wasmtimeEngine();
  // Asking Python for its wasmtime costs ~50 ms: a venv checked once carries a mark.
  const mark = engine.venv === null ? null : join(engine.venv, `.wasmtime-${WASMTIME_VERSION}-ready`);
  if (mark !== null && existsSync(mark) && existsSync(engine.python)) return engine;
  const found = installedWasmtimeVersion(engine.python);
  const ready = () => {
    if (mark !== null)
      try {
        writeFileSync(mark, "");
      } catch {
        // a read-only venv is checked again next time
      }
    return engine;
  };
  if (found === WASMTIME_VERSION) return ready();
  if (engine.venv === null)
    throw new WasmtimeSetupError(`LPP_WASMTIME_PYTHON=${engine.python} has ${found === null ? "no wasmtime" : `wasmtime ${found}`}; it needs wasmtime ${WASMTIME_VERSION}`);
  const venv = engine.venv;
  const t0 = performance.now();
  const fail = (why: string): never => {
    throw new WasmtimeSetupError(
      `cannot set up the wasmtime engine in ${venv}: ${why}\n` +
        `It needs Python 3 with venv and pip (Debian/Ubuntu: apt-get install python3-venv). By hand:\n  ${wasmtimeSetupHint(venv)}\n` +
        `or run with --engine node (node:wasi, nothing to install; no deadline).`,
    );
  };
  progress(`setting up the wasmtime ${WASMTIME_VERSION} engine (first use) in ${venv}`);
  if (!existsSync(join(venv, "bin", "python"))) {
    // A venv left half-made by an interrupted setup is made again.
    rmSync(venv, { recursive: true, force: true });
    try {
      mkdirSync(dirname(venv), { recursive: true });
    } catch (e) {
      fail((e as Error).message);
    }
    progress("  python3 -m venv …");
    const failed = step("python3", ["-m", "venv", venv]);
    if (failed) {
      rmSync(venv, { recursive: true, force: true });
      fail(failed);
    }
  }
  progress(`  pip install wasmtime==${WASMTIME_VERSION} (pip's configured index: offline when it is a local one)…`);
  const failed = step(join(venv, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--retries", "1", `wasmtime==${WASMTIME_VERSION}`]);
  if (failed) fail(failed);
  const now = installedWasmtimeVersion(engine.python);
  if (now !== WASMTIME_VERSION) fail(`after pip install the venv has ${now === null ? "no wasmtime" : `wasmtime ${now}`}`);
  progress(`  ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return ready();
}
