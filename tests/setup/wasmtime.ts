/**
 * Vitest global setup: make sure the wasmtime engine (Python `wasmtime` in the
 * venv .cache/wasmtime) exists, creating it as .ci/run does when it is missing
 * (the same code as the CLI's first-use setup, src/toolchain/wasmtime-setup.ts),
 * and after the run print how many evaluations were compared across node:wasi
 * and wasmtime (tests/helpers.ts records each comparison).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureWasmtime, WASMTIME_VERSION, WasmtimeSetupError } from "../../src/toolchain/wasmtime-setup.js";
import { COMPARISONS_DIR, COMPARISONS_TOTAL } from "./comparisons.js";

export default function setup(): () => void {
  try {
    ensureWasmtime((line) => process.stderr.write(`test setup: ${line}\n`));
  } catch (e) {
    if (e instanceof WasmtimeSetupError) throw new Error(`The tests run every evaluation under wasmtime ${WASMTIME_VERSION} too, and it could not be installed.\n${e.message}`);
    throw e;
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
