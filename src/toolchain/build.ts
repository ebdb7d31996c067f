/**
 * Policy folder → annotated Kubewarden WASI module.
 *
 *   policy.ts ─esbuild─▶ script ─┐
 *   prelude.js ──────────────────┴─quickjs-wasi compile─▶ bytecode ─▶ glue.wat ─wasm-as─▶ glue.wasm ─┐
 *   quickjs-wasi quickjs.wasm ─────────────────────────────────────────────────────────────────────┴─wasm-merge─▶ merged
 *   merged ─keep exports─▶ ─wasm-opt─▶ ─wizer (runs init)─▶ ─wasm-opt─▶ ─annotate─▶ dist/<name>.wasm
 */
import { build as esbuild } from "esbuild";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DETERMINISTIC_DURING_INIT, ENGINE_INTRINSICS, type EvaluationMode, glueWat, SCRIPT_FILES } from "./glue.js";
import { capabilityMismatch, scanHostCapabilities } from "./capabilities.js";
import { annotate, MetadataError, parseMetadata, type PolicyMetadata } from "./metadata.js";
import { runTool, toolPaths, WASM_FEATURES } from "./tools.js";
import { keepExports, renameImportModule } from "./wasm-binary.js";

/** QuickJS may use this much C stack before JS recursion throws a catchable RangeError. */
export const MAX_STACK_BYTES = 128 * 1024;
/** QuickJS heap ceiling: allocation beyond it throws a catchable "out of memory" error. */
export const MEMORY_LIMIT_BYTES = 512 * 1024 * 1024;
/** Cycle-collector threshold: a fresh instance per evaluation rarely needs collecting. */
export const GC_THRESHOLD_BYTES = 64 * 1024 * 1024;

export interface BuildOptions {
  /** Entry script (policy.ts). */
  entry: string;
  mode?: EvaluationMode;
  /** Skip the Wizer snapshot (initialisation then runs inside every `_start`). */
  snapshot?: boolean;
  /** wasm-opt level for the final pass, e.g. "-Oz". */
  optimize?: string;
  /** Engine intrinsics bitmask (default ENGINE_INTRINSICS); profiling builds may want all. */
  intrinsics?: number;
  /** Honour the policy's native pre-check (default true); off for differential soundness tests. */
  nativePrecheck?: boolean;
  log?: (line: string) => void;
}

export interface BuildResult {
  wasm: Uint8Array;
  bundleBytes: number;
  steps: { step: string; ms: number }[];
}

// From src/toolchain/, or from the checkout's compiled CLI (.cache/cli-*/, as deep below the root).
const preludePath = join(import.meta.dirname, "..", "..", "src", "toolchain", "prelude.js");

/** How policy.ts becomes the one script a module runs (sbom.ts bundles the same way to list what it includes). */
export const BUNDLE_OPTIONS = {
  bundle: true,
  write: false,
  format: "iife",
  platform: "neutral",
  target: "es2022",
  mainFields: ["module", "main"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  logLevel: "silent",
} as const satisfies Parameters<typeof esbuild>[0];

export async function bundle(entry: string): Promise<string> {
  const result = await esbuild({ ...BUNDLE_OPTIONS, entryPoints: [entry] });
  return result.outputFiles[0]!.text;
}

/**
 * Compile scripts to QuickJS bytecode with the very engine the module links
 * (quickjs-wasi's quickjs.wasm, run here in V8), source text stripped: Function
 * source is never read by a policy, and without it the snapshot is ~60 KB
 * smaller. Stack traces keep their file names and line numbers.
 */
export async function compileScripts(scripts: { source: string; file: string }[]): Promise<Uint8Array[]> {
  const { QuickJS, CompileFlags } = await import("quickjs-wasi");
  const vm = await QuickJS.create({ wasm: await readFile(toolPaths.engine()) });
  try {
    return scripts.map(({ source, file }) => vm.compile(source, file, 0, CompileFlags.STRIP_SOURCE));
  } finally {
    vm.dispose();
  }
}

/** Build an unannotated module from one entry script. */
export async function buildModule(options: BuildOptions): Promise<BuildResult> {
  const log = options.log ?? (() => {});
  const steps: BuildResult["steps"] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const ms = performance.now() - t0;
    steps.push({ step, ms });
    log(`  ${step.padEnd(10)} ${ms.toFixed(0).padStart(6)} ms`);
    return r;
  };
  const work = await mkdtemp(join(tmpdir(), "lpp-build-"));
  try {
    const script = await timed("bundle", () => bundle(options.entry));
    const prelude = await readFile(preludePath, "utf8");
    const [preludeBytecode, bundleBytecode] = await timed("compile", () =>
      compileScripts([
        { source: prelude, file: SCRIPT_FILES.prelude },
        { source: script, file: SCRIPT_FILES.bundle },
      ]),
    );
    const wat = glueWat({
      bundle: script,
      bytecode: { prelude: preludeBytecode!, bundle: bundleBytecode! },
      mode: options.mode ?? "preevaluated",
      maxStackBytes: MAX_STACK_BYTES,
      memoryLimitBytes: MEMORY_LIMIT_BYTES,
      gcThresholdBytes: GC_THRESHOLD_BYTES,
      intrinsics: options.intrinsics ?? ENGINE_INTRINSICS,
      nativePrecheck: options.nativePrecheck ?? true,
    });
    const p = (name: string) => join(work, name);
    await writeFile(p("glue.wat"), wat);
    await timed("assemble", () =>
      runTool(toolPaths.binaryen("wasm-as"), [...WASM_FEATURES, p("glue.wat"), "-o", p("glue.wasm")], { node: true }),
    );
    // The engine's clock and entropy are served by the glue (module "env").
    const engine = renameImportModule(await readFile(toolPaths.engine()), "wasi_snapshot_preview1", DETERMINISTIC_DURING_INIT, "env");
    await writeFile(p("engine.wasm"), engine);
    await timed("link", () =>
      runTool(
        toolPaths.binaryen("wasm-merge"),
        [...WASM_FEATURES, p("engine.wasm"), "qjs", p("glue.wasm"), "env", "-o", p("merged.wasm")],
        { node: true },
      ),
    );
    const snapshot = options.snapshot ?? true;
    const keep = snapshot ? ["_start", "memory", "wizer.initialize"] : ["_start", "memory"];
    await writeFile(p("trimmed.wasm"), keepExports(await readFile(p("merged.wasm")), keep));
    await timed("optimize", () =>
      runTool(
        toolPaths.binaryen("wasm-opt"),
        [...WASM_FEATURES, "--remove-unused-module-elements", "--duplicate-import-elimination", p("trimmed.wasm"), "-o", p("opt.wasm")],
        { node: true },
      ),
    );
    let current = p("opt.wasm");
    if (snapshot) {
      await timed("snapshot", () =>
        runTool(toolPaths.wizer(), [
          "--allow-wasi",
          "--inherit-stdio",
          "true",
          "--wasm-bulk-memory",
          "true",
          "-o",
          p("wizer.wasm"),
          current,
        ]),
      );
      current = p("wizer.wasm");
    }
    await timed("finish", () =>
      runTool(
        toolPaths.binaryen("wasm-opt"),
        // The engine's target_features section claims features (reference-types, multivalue,
        // extended-const) the module does not use: strip it rather than advertise them.
        [...WASM_FEATURES, ...(options.optimize ? [options.optimize] : []), "--remove-unused-module-elements", "--strip-debug", "--strip-target-features", current, "-o", p("final.wasm")],
        { node: true },
      ),
    );
    return { wasm: new Uint8Array(await readFile(p("final.wasm"))), bundleBytes: Buffer.byteLength(script), steps };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface PolicyBuild {
  name: string;
  output: string;
  bytes: number;
  ms: number;
  metadata: PolicyMetadata;
}

/** Build `policies/<name>/` into `<outDir>/<name>.wasm`, annotated with metadata.yml and README.md. */
export async function buildPolicy(
  policyDir: string,
  outDir: string,
  opts: { log?: (line: string) => void; mode?: EvaluationMode; optimize?: string; nativePrecheck?: boolean; name?: string } = {},
): Promise<PolicyBuild> {
  const dir = resolve(policyDir);
  const name = opts.name ?? basename(dir);
  const t0 = performance.now();
  const metadataPath = join(dir, "metadata.yml");
  if (!existsSync(metadataPath)) throw new Error(`${dir}: no metadata.yml`);
  const metadata = parseMetadata(await readFile(metadataPath, "utf8"), metadataPath);
  const entry = join(dir, "policy.ts");
  if (!existsSync(entry)) throw new Error(`${dir}: no policy.ts`);
  const readme = join(dir, "README.md");
  const usage = existsSync(readme) ? await readFile(readme, "utf8") : undefined;
  const built = await buildModule({ entry, log: opts.log, mode: opts.mode, optimize: opts.optimize ?? "-Oz", nativePrecheck: opts.nativePrecheck });
  checkHostCapabilities(built.wasm, metadata, metadataPath, opts.log);
  const annotated = annotate(built.wasm, metadata, usage);
  const output = join(resolve(outDir), `${name}.wasm`);
  await mkdir(resolve(outDir), { recursive: true });
  await writeFile(output, annotated);
  return { name, output, bytes: annotated.length, ms: performance.now() - t0, metadata };
}

/**
 * The capabilities the module's bytes name (found as `kwctl annotate` finds
 * them) must all be declared in metadata.yml `hostCapabilities`: kwctl only
 * warns, but a module that calls what its metadata hides would be refused by
 * every PolicyServer that grants what the metadata says. Declared but unused is
 * a warning (the policy asks for more than it needs).
 */
export function checkHostCapabilities(module: Uint8Array, metadata: PolicyMetadata, metadataPath: string, log?: (line: string) => void): void {
  const { undeclared, unused } = capabilityMismatch(scanHostCapabilities(module), metadata.hostCapabilities);
  if (undeclared.length > 0)
    throw new MetadataError(
      `${metadataPath}: the module uses host capabilities its metadata does not declare: ${undeclared.join(", ")}. Add them to hostCapabilities (exact names), or stop calling them.`,
    );
  if (unused.length > 0) log?.(`warning: ${metadataPath}: hostCapabilities declares ${unused.join(", ")}, which the module does not use`);
}
