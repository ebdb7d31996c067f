#!/usr/bin/env node
// Entry for the `loopback-probes` command: runs the TypeScript CLI through tsx's loader.
import { register } from "tsx/esm/api";

// node:wasi is flagged experimental in Node 20; the warning is noise for users of this CLI.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === "string" ? warning : warning?.message;
  if (typeof text === "string" && text.includes("WASI")) return;
  return emitWarning(warning, ...rest);
};

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
