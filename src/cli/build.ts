import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { EvaluationMode } from "../toolchain/glue.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { isCheckout, packageRoot, POLICIES_DIR, policyDirs } from "./module-source.js";

export { POLICIES_DIR, policyDirs };

/**
 * The toolchain (esbuild, binaryen, Wizer, quickjs-wasi) is a dev dependency:
 * loaded on use, so the installed CLI starts without it.
 */
export async function loadToolchain(): Promise<typeof import("../toolchain/build.js") & typeof import("../toolchain/module-cache.js")> {
  if (!isCheckout) throw new UsageError(NEEDS_CHECKOUT("building"), false);
  try {
    return { ...(await import("../toolchain/build.js")), ...(await import("../toolchain/module-cache.js")) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND")
      throw new Error(`building needs a source checkout with its dev dependencies (git clone …, then npm ci): ${(e as Error).message.split("\n")[0]}`);
    throw e;
  }
}

/** What the installed CLI says for commands that need the policy sources and the build toolchain. */
export const NEEDS_CHECKOUT = (what: string) =>
  `${what} needs a source checkout of loopback-probe-policies (git clone, then npm ci): this installed package has the built modules (${join(packageRoot, "dist")}) but not the policy sources or the build toolchain`;

export const buildCommand: Command = {
  name: "build",
  summary: "build policies into annotated Kubewarden modules (dist/<name>.wasm)",
  help: `Usage: loopback-probes build [POLICY_DIR…] [--out DIR] [--mode preevaluated|javy]

Builds each policy folder (default: every folder under policies/) into
DIR/<name>.wasm: esbuild bundle → glue + quickjs-wasi (wasm-merge) → Wizer
snapshot → wasm-opt -Oz → io.kubewarden.metadata section from metadata.yml,
with README.md as io.kubewarden.policy.usage. Same inputs give byte-identical
output. Modules of the checkout's policies/ are built once per change of
their inputs into .cache/modules/<hash>/ (shared with npm test and npm pack)
and copied to DIR. Needs a source checkout (npm ci): the installed package
ships the built modules instead.

Options:
  --out DIR      output folder (default: dist)
  --mode MODE    preevaluated (default): the policy's top level runs at build
                 time and _start only dispatches; javy: the top level runs in
                 every _start, as a Javy-built module does (for comparison)
  -h, --help     this text

Examples:
  loopback-probes build                                  every policy → dist/
  loopback-probes build policies/reject-loopback-probes --out /tmp/wasm`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      out: { type: "string", default: "dist" },
      mode: { type: "string", default: "preevaluated" },
    });
    const mode = values.mode as EvaluationMode;
    if (mode !== "preevaluated" && mode !== "javy") throw new UsageError(`--mode must be preevaluated or javy, got ${values.mode}`);
    if (!isCheckout) throw new UsageError(NEEDS_CHECKOUT("build"), false);
    const dirs = positionals.length > 0 ? positionals : policyDirs(join(packageRoot, POLICIES_DIR));
    if (dirs.length === 0) throw new UsageError(`no policy folders given and none found under ${POLICIES_DIR}/`);
    for (const dir of dirs) if (!existsSync(join(dir, "policy.ts"))) throw new UsageError(`${dir}: not a policy folder (no policy.ts)`);
    const { buildPolicy, cachedModules } = await loadToolchain();
    mkdirSync(values.out, { recursive: true });
    // The checkout's own policies, built the default way, come from the shared cache (built there when missing).
    const ownPolicies = join(packageRoot, POLICIES_DIR);
    const cacheable = (dir: string) => mode === "preevaluated" && dirname(resolve(dir)) === ownPolicies;
    const cached = dirs.filter(cacheable);
    if (cached.length > 0) {
      const { dir: from } = await cachedModules(packageRoot, cached.map((d) => ({ dir: resolve(d) })), { progress: (l) => console.error(l) });
      for (const dir of cached) {
        const output = join(values.out, `${basename(resolve(dir))}.wasm`);
        copyFileSync(join(from, `${basename(resolve(dir))}.wasm`), output);
        console.error(`${relative(process.cwd(), resolve(dir)) || dir} → ${resolve(output)}  ${(statSync(output).size / 1024).toFixed(0)} KiB`);
      }
    }
    for (const dir of dirs.filter((d) => !cacheable(d))) {
      console.error(`building ${dir}`);
      const r = await buildPolicy(dir, values.out, { mode, log: (l) => console.error(l) });
      console.error(`  → ${resolve(r.output)}  ${(r.bytes / 1024).toFixed(0)} KiB in ${(r.ms / 1000).toFixed(1)} s`);
    }
    return 0;
  },
};
