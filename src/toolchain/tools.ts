/**
 * Locating and running the pinned npm-shipped tools (binaryen, Wizer).
 * Nothing here is downloaded at run time: every binary comes from node_modules.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

export const toolPaths = {
  /** The quickjs-wasi engine, a WASI reactor. */
  engine: () => join(packageDir("quickjs-wasi"), "quickjs.wasm"),
  binaryen: (tool: "wasm-as" | "wasm-merge" | "wasm-opt") => join(packageDir("binaryen"), "bin", tool),
  wizer: () => join(packageDir("@bytecodealliance/wizer-linux-x64"), "wizer"),
};

/** wasm features the engine and the glue use; every binaryen step must agree. */
export const WASM_FEATURES = [
  "--enable-bulk-memory",
  "--enable-nontrapping-float-to-int",
  "--enable-sign-ext",
  "--enable-mutable-globals",
];

export class ToolError extends Error {
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(`${tool}: ${message}`);
  }
}

/** Run a tool; node scripts (binaryen's) run under this node. Resolves with stdout. */
export function runTool(path: string, args: string[], opts: { node?: boolean } = {}): Promise<string> {
  const [file, argv] = opts.node ? [process.execPath, [path, ...args]] : [path, args];
  const name = path.split("/").pop() ?? path;
  return new Promise((resolve, reject) => {
    execFile(file, argv, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new ToolError(name, (stderr || error.message).trim()));
      else resolve(stdout);
    });
  });
}
