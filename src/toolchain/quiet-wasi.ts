/**
 * node:wasi is flagged experimental in Node 20, and loading it prints an
 * ExperimentalWarning: noise for whoever runs our scripts. Import this module
 * first (`import "../src/toolchain/quiet-wasi.js"`, before anything that loads
 * node:wasi): it filters that one warning; every other warning still shows.
 * bin/loopback-probes.js and the evaluation pool's workers filter it the same way.
 */
const emit = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === "string" ? warning : warning?.message;
  if (typeof text === "string" && text.includes("WASI")) return;
  return (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
