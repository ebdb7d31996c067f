/**
 * Where the modules the tests run are (.cache/test-wasm/<name>.wasm), written by
 * the global setup (tests/setup/build-modules.ts) while the tests already run:
 * a test that needs a module still being built waits for it here.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..");
export const TEST_WASM_DIR = join(ROOT, ".cache", "test-wasm");
/** Every module name the setup will put there (JSON list), written before the first test runs. */
export const TEST_MODULES_LIST = join(TEST_WASM_DIR, "modules.json");
/** Written when a build failed: what went wrong. */
export const TEST_MODULES_FAILED = join(TEST_WASM_DIR, "build-failed.txt");
/** A guard against a hang, not a measure: a build takes well under a minute. */
const WAIT_LIMIT_MS = 30 * 60_000;

/** Every module name the setup builds (shipped policies first). */
export function testModuleNames(): string[] {
  if (!existsSync(TEST_MODULES_LIST)) throw new Error(`${TEST_MODULES_LIST} missing: tests/setup/build-modules.ts (vitest's global setup) writes it`);
  return JSON.parse(readFileSync(TEST_MODULES_LIST, "utf8")) as string[];
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The module's path once it is there. Synchronous, as the tests read modules
 * while they are collected: the process sleeps (Atomics.wait) between looks;
 * the builds run in vitest's main process, not in this one. Call it while the
 * file is collected (top level, describe body) for a test-only module: a wait
 * inside a test would count toward that test's timeout.
 */
export function testModulePath(name: string): string {
  const path = join(TEST_WASM_DIR, `${name}.wasm`);
  if (existsSync(path)) return path;
  if (!testModuleNames().includes(name)) throw new Error(`${path} missing: tests/setup/build-modules.ts builds no module named ${name}`);
  const since = Date.now();
  while (!existsSync(path)) {
    if (existsSync(TEST_MODULES_FAILED)) throw new Error(`test module ${name} was not built: a build failed:\n${readFileSync(TEST_MODULES_FAILED, "utf8")}`);
    if (Date.now() - since > WAIT_LIMIT_MS) throw new Error(`test module ${name}: still not built after ${WAIT_LIMIT_MS / 60_000} min (is vitest's global setup still running?)`);
    Atomics.wait(pause, 0, 0, 200);
  }
  return path;
}
