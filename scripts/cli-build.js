// How the CLI is compiled to JavaScript, in one place: by scripts/pack.ts into
// lib/ for the npm package, and by bin/loopback-probes.js into .cache/cli-<hash>/
// in a source checkout, so a checkout runs what the package runs (plain
// JavaScript: bin/ imports it without a TypeScript loader).
import { join } from "node:path";

/** Packages only the build toolchain imports: never bundled, never a runtime dependency. */
export const TOOLCHAIN = ["esbuild", "binaryen", "@bytecodealliance/wizer", "quickjs-wasi", "javy", "tsx"];

/** esbuild options for the CLI of the checkout at `root` (the caller adds outdir and logging). */
export function cliBuildOptions(root) {
  return {
    // The worker threads' entries beside main.js (src/toolchain/evaluation-pool.ts: workerEntry).
    entryPoints: {
      main: join(root, "src", "cli", "main.ts"),
      "evaluation-worker": join(root, "src", "toolchain", "evaluation-worker.ts"),
      "reader-worker": join(root, "src", "audit", "reader-worker.ts"),
    },
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // The pure-JS dependencies (yaml, ajv, fast-json-patch) bundled in: one file per chunk to load,
    // not a package's tree of CommonJS modules to resolve and compile at every start.
    external: TOOLCHAIN,
    // CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  };
}
