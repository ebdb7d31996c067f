/**
 * `npm pack` / `npm publish` hook (prepack): puts what the installed package
 * runs into the tree npm packs.
 *
 * 1. dist/<policy>.wasm, the built and annotated modules. Rebuilt only when an
 *    input changed (dist/inputs.sha256); LOOPBACK_PROBES_PREBUILT_DIR=DIR takes
 *    modules another step already built from this tree (the tests reuse
 *    .cache/test-wasm) instead of building them again.
 * 2. lib/, the CLI compiled to JavaScript by esbuild: one ESM entry plus chunks,
 *    the pure-JS dependencies (yaml, ajv, fast-json-patch) bundled in, so the
 *    package has no runtime dependencies and no install scripts. The build
 *    toolchain (esbuild, binaryen, Wizer, quickjs-wasi) stays external and is
 *    loaded only by `build`/`bench`, which need a source checkout anyway.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { build } from "esbuild";
import { policyDirs } from "../src/cli/module-source.js";
import { buildPolicy } from "../src/toolchain/build.js";
import { sourceHash } from "../src/toolchain/source-hash.js";

const ROOT = join(import.meta.dirname, "..");
const DIST = join(ROOT, "dist");
const LIB = join(ROOT, "lib");
/** Packages only the build toolchain imports: never bundled, never a runtime dependency. */
const TOOLCHAIN = ["esbuild", "binaryen", "@bytecodealliance/wizer", "quickjs-wasi", "javy", "tsx"];

async function modules(): Promise<void> {
  const dirs = policyDirs(join(ROOT, "policies"));
  mkdirSync(DIST, { recursive: true });
  const prebuilt = process.env.LOOPBACK_PROBES_PREBUILT_DIR;
  if (prebuilt) {
    for (const dir of dirs) {
      const from = resolve(prebuilt, `${basename(dir)}.wasm`);
      const to = join(DIST, `${basename(dir)}.wasm`);
      if (!existsSync(from)) throw new Error(`LOOPBACK_PROBES_PREBUILT_DIR: ${from} missing`);
      if (from !== to) copyFileSync(from, to);
    }
    console.error(`pack: ${dirs.length} modules taken from ${prebuilt}`);
    return;
  }
  const stamp = join(DIST, "inputs.sha256");
  const hash = sourceHash(ROOT, ["src/analysis", "src/kubewarden", "src/toolchain", "policies", "package-lock.json"]);
  const built = dirs.every((d) => existsSync(join(DIST, `${basename(d)}.wasm`)));
  if (built && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) {
    console.error(`pack: ${dirs.length} modules up to date in dist/`);
    return;
  }
  for (const dir of dirs) {
    const r = await buildPolicy(dir, DIST);
    console.error(`pack: built ${r.output} (${(r.bytes / 1024).toFixed(0)} KiB)`);
  }
  writeFileSync(stamp, hash);
}

async function cli(): Promise<void> {
  rmSync(LIB, { recursive: true, force: true });
  await build({
    entryPoints: { main: join(ROOT, "src", "cli", "main.ts") },
    outdir: LIB,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: TOOLCHAIN,
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    legalComments: "inline",
    logLevel: "warning",
  });
  console.error("pack: CLI compiled into lib/");
}

await modules();
await cli();
