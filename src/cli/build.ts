import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { EvaluationMode } from "../toolchain/glue.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { POLICIES_DIR, policyDirs } from "./module-source.js";

export { POLICIES_DIR, policyDirs };

/**
 * The toolchain (esbuild, binaryen, Wizer, quickjs-wasi) is a dev dependency:
 * loaded on use, so the installed CLI starts without it.
 */
export async function loadToolchain(): Promise<typeof import("../toolchain/build.js")> {
  try {
    return await import("../toolchain/build.js");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND")
      throw new Error(`building needs a source checkout with its dev dependencies (git clone …, then npm ci): ${(e as Error).message.split("\n")[0]}`);
    throw e;
  }
}

export const buildCommand: Command = {
  name: "build",
  summary: "build policies into annotated Kubewarden modules (dist/<name>.wasm)",
  help: `Usage: loopback-probes build [POLICY_DIR…] [--out DIR] [--mode preevaluated|javy]

Builds each policy folder (default: every folder under policies/) into
DIR/<name>.wasm: esbuild bundle → glue + quickjs-wasi (wasm-merge) → Wizer
snapshot → wasm-opt -Oz → io.kubewarden.metadata section from metadata.yml,
with README.md as io.kubewarden.policy.usage. Same inputs give byte-identical
output. Needs a source checkout (npm ci): the installed package ships the
built modules instead.

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
    const dirs = positionals.length > 0 ? positionals : policyDirs();
    if (dirs.length === 0) throw new UsageError(`no policy folders given and none found under ${POLICIES_DIR}/`);
    for (const dir of dirs) if (!existsSync(join(dir, "policy.ts"))) throw new UsageError(`${dir}: not a policy folder (no policy.ts)`);
    const { buildPolicy } = await loadToolchain();
    mkdirSync(values.out, { recursive: true });
    for (const dir of dirs) {
      console.error(`building ${dir}`);
      const r = await buildPolicy(dir, values.out, { mode, log: (l) => console.error(l) });
      console.error(`  → ${resolve(r.output)}  ${(r.bytes / 1024).toFixed(0)} KiB in ${(r.ms / 1000).toFixed(1)} s`);
    }
    return 0;
  },
};
