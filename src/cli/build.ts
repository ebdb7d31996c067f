import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildPolicy } from "../toolchain/build.js";
import type { EvaluationMode } from "../toolchain/glue.js";
import { type Command, parseFlags, UsageError } from "./command.js";

export const POLICIES_DIR = "policies";

/** Every folder under policies/ that has a policy.ts. */
export function policyDirs(root = POLICIES_DIR): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => join(root, n))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, "policy.ts")))
    .sort();
}

export const buildCommand: Command = {
  name: "build",
  summary: "build policies into annotated Kubewarden modules (dist/<name>.wasm)",
  help: `Usage: loopback-probes build [POLICY_DIR…] [--out DIR] [--mode preevaluated|javy]

Builds each policy folder (default: every folder under policies/) into
DIR/<name>.wasm: esbuild bundle → glue + quickjs-wasi (wasm-merge) → Wizer
snapshot → wasm-opt -Oz → io.kubewarden.metadata section from metadata.yml,
with README.md as io.kubewarden.policy.usage. Same inputs give byte-identical
output.

Options:
  --out DIR      output folder (default: dist)
  --mode MODE    preevaluated (default): the policy's top level runs at build
                 time and _start only dispatches; javy: the top level runs in
                 every _start, as a Javy-built module does (for comparison)
  -h, --help     this text`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      out: { type: "string", default: "dist" },
      mode: { type: "string", default: "preevaluated" },
    });
    const mode = values.mode as EvaluationMode;
    if (mode !== "preevaluated" && mode !== "javy") throw new UsageError(`--mode must be preevaluated or javy, got ${values.mode}`);
    const dirs = positionals.length > 0 ? positionals : policyDirs();
    if (dirs.length === 0) throw new UsageError(`no policy folders given and none found under ${POLICIES_DIR}/`);
    mkdirSync(values.out, { recursive: true });
    for (const dir of dirs) {
      if (!existsSync(join(dir, "policy.ts"))) throw new UsageError(`${dir}: not a policy folder (no policy.ts)`);
      console.error(`building ${dir}`);
      const r = await buildPolicy(dir, values.out, { mode, log: (l) => console.error(l) });
      console.error(`  → ${resolve(r.output)}  ${(r.bytes / 1024).toFixed(0)} KiB in ${(r.ms / 1000).toFixed(1)} s`);
    }
    return 0;
  },
};
