/**
 * The source text behind the reports: the repository root SARIF URIs are
 * relative to, and the `SourceAccess` the reports use for positions and fixes,
 * built on what reading kept (`ManifestObject.locate`, error positions, the
 * exact audited bytes) and on the fix stage itself, so a SARIF fix is exactly
 * what `--fix` writes.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { AuditResult } from "./evaluate.js";
import { fixedFileText } from "./fix.js";
import type { ManifestSource } from "./read.js";
import type { SourceAccess } from "./report/common.js";

/** The nearest directory from `start` upwards holding `.git` (a repository or worktree root), else `start`. */
export function sourceRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, ".git"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}

/** SourceAccess over what the reader kept: `sources` are the audited bytes per file, `stdinText` what stdin held. */
export function manifestSourceAccess(sources: ReadonlyMap<string, ManifestSource>, stdinText: () => string | null): SourceAccess {
  const textOf = (file: string): string | null => (file === "<stdin>" ? stdinText() : (sources.get(file)?.bytes.toString("utf8") ?? null));
  return {
    locate: (manifest, path) => manifest.locate(path),
    locateError: (error) => (error.line === undefined ? null : { line: error.line, column: error.column ?? 1 }),
    fixedText(result: AuditResult) {
      const before = textOf(result.manifest.file);
      if (before === null || !result.patch) return null;
      const { text, outcome } = fixedFileText(result.manifest.file, before, [result]);
      return outcome.fixed.length > 0 ? { before, after: text } : null;
    },
  };
}
