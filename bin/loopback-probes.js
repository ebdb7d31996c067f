#!/usr/bin/env node
// Entry for the `loopback-probes` command. In a source checkout it runs the
// TypeScript CLI through tsx's loader; the npm package ships no sources, only
// the CLI compiled at pack time into lib/ (scripts/pack.ts).
import { existsSync } from "node:fs";

// node:wasi is flagged experimental in Node 20; the warning is noise for users of this CLI.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === "string" ? warning : warning?.message;
  if (typeof text === "string" && text.includes("WASI")) return;
  return emitWarning(warning, ...rest);
};

let main;
if (existsSync(new URL("../src/cli/main.ts", import.meta.url))) {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
} else {
  ({ main } = await import("../lib/main.js"));
}
process.exitCode = await main(process.argv.slice(2));
