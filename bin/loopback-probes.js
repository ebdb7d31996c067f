#!/usr/bin/env node
// Entry for the `loopback-probes` command. The npm package ships no sources,
// only the CLI compiled at pack time into lib/ (scripts/pack.ts). In a source
// checkout the CLI is compiled the same way into .cache/cli-<hash>/ and reused
// while its inputs are unchanged: starting it through tsx's loader instead costs
// ~0.3–0.45 s a run, which every test spawning the CLI paid.
// LOOPBACK_PROBES_FROM_SOURCE=1 runs the TypeScript through tsx (stack traces in .ts).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// node:wasi is flagged experimental in Node 20; the warning is noise for users of this CLI.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === "string" ? warning : warning?.message;
  if (typeof text === "string" && text.includes("WASI")) return;
  return emitWarning(warning, ...rest);
};

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Hash of the files a build read (their paths and contents): the build is current while it holds. */
function hashOf(inputs) {
  const h = createHash("sha256");
  for (const input of inputs) h.update(input).update("\0").update(readFileSync(join(ROOT, input))).update("\0");
  return h.digest("hex").slice(0, 16);
}

/** The checkout's CLI compiled as scripts/pack.ts compiles lib/ (scripts/cli-build.js; same depth below the root as src/cli/, so relative paths hold); its main.js. */
async function compiledCheckoutCli() {
  // (cli-build.json since the dependencies are bundled: a build listed in the older cli.json is not one.)
  const manifestPath = join(ROOT, ".cache", "cli-build.json");
  try {
    const { inputs, hash } = JSON.parse(readFileSync(manifestPath, "utf8"));
    const main = join(ROOT, ".cache", `cli-${hash}`, "main.js");
    if (existsSync(main) && hashOf(inputs) === hash) return main;
  } catch {
    // not built yet, or an input is gone: build
  }
  const { build } = createRequire(import.meta.url)("esbuild");
  const { cliBuildOptions } = await import("../scripts/cli-build.js");
  // Other processes (parallel tests) may build at the same time: each builds into its own folder, then renames it.
  const temp = join(ROOT, ".cache", `cli-build-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  const result = await build({ ...cliBuildOptions(ROOT), outdir: temp, metafile: true, logLevel: "silent" });
  // What the build read from this checkout, and how: the bundled dependencies count through the lock
  // file that pins them (hashing their hundreds of files would cost every start more than it saves).
  const inputs = [...Object.keys(result.metafile.inputs).filter((p) => !p.split("/").includes("node_modules")), "package-lock.json", "scripts/cli-build.js", "bin/loopback-probes.js"].sort();
  const hash = hashOf(inputs);
  const dir = join(ROOT, ".cache", `cli-${hash}`);
  if (existsSync(dir)) rmSync(temp, { recursive: true, force: true });
  else {
    try {
      renameSync(temp, dir);
    } catch {
      rmSync(temp, { recursive: true, force: true }); // another process put the same build there first
    }
  }
  // Builds of earlier sources: gone after an hour (a process started before may still load chunks from one).
  for (const name of readdirSync(join(ROOT, ".cache"))) {
    const old = join(ROOT, ".cache", name);
    if (name.startsWith("cli-") && old !== dir && Date.now() - statSync(old).mtimeMs > 3_600_000) rmSync(old, { recursive: true, force: true });
  }
  const tempManifest = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(tempManifest, JSON.stringify({ inputs, hash }));
  renameSync(tempManifest, manifestPath);
  return join(dir, "main.js");
}

async function fromSource() {
  const { register } = await import("tsx/esm/api");
  register();
  return (await import("../src/cli/main.ts")).main;
}

let main;
if (!existsSync(new URL("../src/cli/main.ts", import.meta.url))) ({ main } = await import("../lib/main.js"));
else if (process.env.LOOPBACK_PROBES_FROM_SOURCE === "1") main = await fromSource();
else {
  let compiled = null;
  try {
    compiled = await compiledCheckoutCli();
  } catch {
    // .cache/ not writable (a read-only checkout), esbuild missing: the sources through tsx still run
  }
  main = compiled ? (await import(pathToFileURL(compiled).href)).main : await fromSource();
}
process.exitCode = await main(process.argv.slice(2));
