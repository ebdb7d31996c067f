/**
 * Two checkouts' `audit -f json` end to end, in the same interleaved rounds
 * (the way README's before/after figures of the audit were taken):
 *   npx tsx scripts/compare-audits.ts BEFORE_CHECKOUT [AFTER_CHECKOUT=.] [DIR=../shared/corpus] [ROUNDS=3]
 * Each round: js-yaml's parse floor of DIR's files, then per checkout the audit
 * of DIR and of the 5,000-object fleet (a new process each, peak RSS included).
 * Both checkouts need their dist/ modules (make build).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { manifestFiles } from "../src/audit/read.js";
import { auditProcess, parseFloor } from "../src/bench/corpus.js";
import { CORPUS_FLEET_OBJECTS, CORPUS_ROUNDS } from "../src/bench/defaults.js";
import { fleetYaml } from "../src/bench/fleet.js";
import { DEFAULT_CORPUS_DIR } from "../src/bench/modules.js";

const [before, after = ".", dir = DEFAULT_CORPUS_DIR, roundsArg] = process.argv.slice(2);
if (before === undefined) {
  console.error("usage: npx tsx scripts/compare-audits.ts BEFORE_CHECKOUT [AFTER_CHECKOUT] [DIR] [ROUNDS]");
  process.exit(2);
}
const rounds = Number(roundsArg ?? CORPUS_ROUNDS);
const clis: [string, string][] = [
  ["before", join(resolve(before), "bin", "loopback-probes.js")],
  ["after", join(resolve(after), "bin", "loopback-probes.js")],
];
const scratch = mkdtempSync(join(tmpdir(), "lpp-compare-"));
try {
  const fleetFile = join(scratch, "fleet.yaml");
  writeFileSync(fleetFile, fleetYaml(CORPUS_FLEET_OBJECTS).text);
  const files = manifestFiles([resolve(dir)], [], []).files;
  for (let r = 1; r <= rounds; r++) {
    const line = [`round ${r}, load ${loadavg()[0]!.toFixed(1)}`];
    const floor = await parseFloor(files);
    line.push(`floor ${floor.seconds.toFixed(2)} s`);
    for (const [label, cli] of clis) {
      const c = await auditProcess(resolve(dir), scratch, cli);
      const f = await auditProcess(fleetFile, scratch, cli);
      line.push(
        `${label}: ${dir} ${c.seconds.toFixed(2)} s = ${(c.seconds / floor.seconds).toFixed(2)}× floor, CPU ${c.cpuSeconds.toFixed(2)} s, ${Math.round(c.peakMiB)} MiB, ${c.objects} objects; fleet ${f.seconds.toFixed(2)} s = ${Math.round(CORPUS_FLEET_OBJECTS / f.seconds)} objects/s, CPU ${f.cpuSeconds.toFixed(2)} s, ${Math.round(f.peakMiB)} MiB`,
      );
    }
    console.log(line.join(" | "));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
