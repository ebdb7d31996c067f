/**
 * `npm run upstream-data [-- --from DIR] [--out DIR]`: extract the upstream data
 * files the tests check against (tests/support/upstream.ts: CRDs at named
 * commits) from fetched git snapshots into DIR/<owner>/<name>@<commit>/<path>.
 *
 * --from  a folder of snapshots laid out <owner>+<name>/repo (a bare git dir each),
 *         default $UPSTREAM_SNAPSHOTS
 * --out   default .cache/upstream (the tests also look in $UPSTREAM_DATA_DIR and
 *         ../shared/upstream)
 *
 * Only these data files are extracted; nothing is built or run from a snapshot.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { UPSTREAM_FILES, upstreamRelative } from "../tests/support/upstream.js";

const { values } = parseArgs({ options: { from: { type: "string" }, out: { type: "string" } } });
const fromDir = values.from ?? process.env.UPSTREAM_SNAPSHOTS;
if (!fromDir) {
  console.error("usage: npm run upstream-data -- --from DIR [--out DIR]   (DIR: fetched git snapshots, <owner>+<name>/repo each; or set UPSTREAM_SNAPSHOTS)");
  process.exit(2);
}
const from = resolve(fromDir);
const out = resolve(values.out ?? join(import.meta.dirname, "..", ".cache", "upstream"));
let failed = 0;
for (const f of Object.values(UPSTREAM_FILES)) {
  const gitDir = join(from, f.repo.replace("/", "+"), "repo");
  const target = join(out, upstreamRelative(f));
  if (!existsSync(gitDir)) {
    console.error(`missing snapshot ${gitDir} (fetch github:${f.repo} first)`);
    failed++;
    continue;
  }
  try {
    const text = execFileSync("git", ["--git-dir", gitDir, "show", `${f.commit}:${f.path}`], { maxBuffer: 64 << 20 });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    console.error(`wrote ${target}`);
  } catch (e) {
    console.error(`${f.repo}@${f.commit.slice(0, 7)}:${f.path}: ${(e as Error).message.split("\n")[0]}`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
