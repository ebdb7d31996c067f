/**
 * `npm run corpus`: audit the real-world manifest corpus (../shared/corpus, or
 * CORPUS_DIR / the first argument) with the built reject-loopback-probes module,
 * print counts per status, and fail on
 *  - a crash (any exception),
 *  - an error (YAML, alias limit, malformed object, policy failure) not listed as
 *    reviewed in scripts/corpus-expectations.yml,
 *  - a missed known finding, or a finding nobody has reviewed.
 * The expectations name corpus files by their folder/path only: the corpus is
 * other projects' data and is never copied into this repository.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { auditObjects, type AuditResult } from "../src/audit/evaluate.js";
import { readManifests } from "../src/audit/read.js";
import { loadPolicy, validateSettings } from "../src/toolchain/evaluate.js";
import { cachedModules } from "../src/toolchain/module-cache.js";

const ROOT = resolve(import.meta.dirname, "..");
const CORPUS = resolve(process.argv[2] ?? process.env.CORPUS_DIR ?? join(ROOT, "..", "shared", "corpus"));
const EXPECTATIONS = join(import.meta.dirname, "corpus-expectations.yml");

interface Reviewed {
  file: string;
  reason: string;
}
interface ReviewedFinding extends Reviewed {
  /** "<container>/<probe>" of every finding expected in the file. */
  probes: string[];
}
interface Expectations {
  findings: ReviewedFinding[];
  errors: Reviewed[];
}

/** The module from the cache npm test, make build and npm pack share (built there when missing). */
async function policyModule(): Promise<Uint8Array> {
  const { dir } = await cachedModules(ROOT, [{ dir: join(ROOT, "policies", "reject-loopback-probes") }], { progress: (l) => console.error(`corpus: ${l}`) });
  return new Uint8Array(readFileSync(join(dir, "reject-loopback-probes.wasm")));
}

async function main(): Promise<number> {
  if (!existsSync(join(CORPUS, "INDEX.tsv"))) {
    console.error(`corpus: ${CORPUS}/INDEX.tsv not found (set CORPUS_DIR or pass the corpus folder)`);
    return 2;
  }
  const expectations = parse(readFileSync(EXPECTATIONS, "utf8")) as Expectations;
  const validator = await loadPolicy(await policyModule());
  const settings = {};
  const verdict = await validateSettings(validator, settings);
  if (!verdict.valid) throw new Error(`default settings rejected: ${verdict.message}`);

  const started = performance.now();
  const manifests = readManifests([CORPUS]);
  const results = await auditObjects(manifests.objects, { validators: [{ name: "reject-loopback-probes", policy: validator, settings }] });
  const seconds = (performance.now() - started) / 1000;
  const corpusPath = (file: string) => relative(CORPUS, resolve(file));

  // ---- counts ----
  const count = (status: AuditResult["status"]) => results.filter((r) => r.status === status).length;
  const skipsByReason = new Map<string, number>();
  const bump = (reason: string) => skipsByReason.set(reason, (skipsByReason.get(reason) ?? 0) + 1);
  for (const s of manifests.skipped) bump(s.reason);
  for (const r of results) if (r.status === "skip") bump(r.skipReason ?? "not-selected");
  const errors = [
    ...manifests.errors.map((e) => ({ file: corpusPath(e.file), what: `${e.kind}${e.line ? ` at ${e.line}:${e.column}` : ""}: ${e.message}` })),
    ...results.filter((r) => r.status === "error").map((r) => ({ file: corpusPath(r.manifest.file), what: `${r.errorKind}: ${r.message ?? ""}` })),
  ];
  const findings = results.filter((r) => r.status === "fail");
  console.log(`corpus: ${CORPUS} (${seconds.toFixed(1)} s)`);
  console.log(`files ${manifests.files.length}, objects ${results.length}, documents skipped ${manifests.skipped.length}`);
  console.log(`pass ${count("pass")}, finding ${findings.length} (${findings.reduce((n, r) => n + r.findings.length, 0)} probes), error ${errors.length}, skipped ${manifests.skipped.length + count("skip")}`);
  console.log(`skipped by reason: ${[...skipsByReason].sort().map(([k, v]) => `${k} ${v}`).join(", ")}`);

  // ---- against the reviewed expectations ----
  const problems: string[] = [];
  const found = new Map<string, Set<string>>();
  for (const r of findings) {
    const file = corpusPath(r.manifest.file);
    const set = found.get(file) ?? new Set<string>();
    for (const f of r.findings) set.add(`${f.container}/${f.probe}`);
    found.set(file, set);
  }
  const expected = new Map(expectations.findings.map((e) => [e.file, e]));
  for (const [file, probes] of found) {
    const e = expected.get(file);
    const unreviewed = [...probes].filter((p) => !e?.probes.includes(p));
    if (unreviewed.length > 0) problems.push(`new finding nobody has reviewed: ${file}: ${unreviewed.join(", ")} (review it, then add it to ${relative(ROOT, EXPECTATIONS)})`);
  }
  for (const e of expectations.findings) {
    const missing = e.probes.filter((p) => !found.get(e.file)?.has(p));
    if (missing.length > 0) problems.push(`missed known finding: ${e.file}: ${missing.join(", ")} — ${e.reason}`);
  }
  const reviewedErrors = new Set(expectations.errors.map((e) => e.file));
  for (const e of errors) if (!reviewedErrors.has(e.file)) problems.push(`error on a file nobody has reviewed as invalid: ${e.file}: ${e.what}`);
  for (const e of expectations.errors) if (!errors.some((x) => x.file === e.file)) problems.push(`listed as invalid but read fine now: ${e.file} (remove it from the list)`);

  for (const p of problems) console.error(`FAIL ${p}`);
  console.log(problems.length === 0 ? "corpus: as reviewed" : `corpus: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`corpus: crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
