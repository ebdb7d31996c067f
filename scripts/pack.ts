/**
 * `npm pack` / `npm publish` hook (prepack): puts what the installed package
 * runs into the tree npm packs.
 *
 * 1. dist/<policy>.wasm, the built and annotated modules, from the module cache
 *    `make build` and `npm test` share (src/toolchain/module-cache.ts): built
 *    there only when an input changed since any of them last built.
 * 2. lib/, the CLI compiled to JavaScript by esbuild: one ESM entry plus chunks,
 *    the pure-JS dependencies (yaml, ajv, fast-json-patch) bundled in, so the
 *    package has no runtime dependencies and no install scripts. The build
 *    toolchain (esbuild, binaryen, Wizer, quickjs-wasi) stays external and is
 *    loaded only by `build`/`bench`, which need a source checkout anyway.
 * 3. lib/wasmtime/runner.py, the wasmtime engine's runner (`run`'s default
 *    engine; the CLI sets up its Python venv in the user's cache on first use).
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { build } from "esbuild";
import { cliBuildOptions } from "./cli-build.js";
import { policyDirs } from "../src/cli/module-source.js";
import { cachedModules } from "../src/toolchain/module-cache.js";

const ROOT = join(import.meta.dirname, "..");
const DIST = join(ROOT, "dist");
const LIB = join(ROOT, "lib");

async function modules(): Promise<void> {
  const dirs = policyDirs(join(ROOT, "policies"));
  const { dir, built } = await cachedModules(ROOT, dirs.map((d) => ({ dir: d })), { parallel: 2, progress: (l) => console.error(`pack: ${l}`) });
  mkdirSync(DIST, { recursive: true });
  for (const d of dirs) copyFileSync(join(dir, `${basename(d)}.wasm`), join(DIST, `${basename(d)}.wasm`));
  console.error(`pack: ${dirs.length} modules in dist/ (${built.length === 0 ? "all from the module cache" : `${built.length} built now`})`);
}

async function cli(): Promise<void> {
  rmSync(LIB, { recursive: true, force: true });
  await build({ ...cliBuildOptions(ROOT), outdir: LIB, legalComments: "inline", logLevel: "warning" });
  // The wasmtime runner sits where the compiled wasmtime-runner looks for it (beside its chunk, in wasmtime/).
  mkdirSync(join(LIB, "wasmtime"), { recursive: true });
  copyFileSync(join(ROOT, "src", "toolchain", "wasmtime", "runner.py"), join(LIB, "wasmtime", "runner.py"));
  console.error("pack: CLI compiled into lib/ (with lib/wasmtime/runner.py)");
}

await modules();
await cli();
