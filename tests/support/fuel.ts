/**
 * Deterministic cost: run a module once under wasmtime with fuel metering and
 * report the wasm instructions it executed (Python wasmtime from .cache/wasmtime).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers.js";

const PYTHON = join(ROOT, ".cache", "wasmtime", "bin", "python");
const SCRIPT = `
import sys, wasmtime
module_path, action, stdin_path, out_path = sys.argv[1:5]
config = wasmtime.Config()
config.consume_fuel = True
engine = wasmtime.Engine(config)
store = wasmtime.Store(engine)
FUEL = 10**12
store.set_fuel(FUEL)
wasi = wasmtime.WasiConfig()
wasi.argv = ["policy.wasm", action]
wasi.stdin_file = stdin_path
wasi.stdout_file = out_path
store.set_wasi(wasi)
linker = wasmtime.Linker(engine)
linker.define_wasi()
module = wasmtime.Module.from_file(engine, module_path)
instance = linker.instantiate(store, module)
try:
    instance.exports(store)["_start"](store)
except wasmtime.ExitTrap as e:
    if e.code != 0: raise
print(FUEL - store.get_fuel())
`;

export function fuelOf(module: Uint8Array, action: string, stdin: string): { fuel: number; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), "lpp-fuel-"));
  try {
    const [m, i, o] = ["m.wasm", "stdin", "stdout"].map((n) => join(dir, n)) as [string, string, string];
    writeFileSync(m, module);
    writeFileSync(i, stdin);
    const r = spawnSync(PYTHON, ["-c", SCRIPT, m, action, i, o], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`wasmtime fuel run failed: ${r.stderr || r.error?.message}`);
    return { fuel: Number(r.stdout.trim()), stdout: readFileSync(o, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
