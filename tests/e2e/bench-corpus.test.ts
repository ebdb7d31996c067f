/**
 * `bench --corpus` on a small folder, through the built modules: each row
 * measures what it says — the reading alone finds the objects the audit
 * reports (kept as the audit keeps them), the audit row is that audit's, the
 * CPU bound is its CPU over the cores, the fleet is audited end to end. The
 * figures themselves are not asserted (benchmarks print, tests do not time).
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchCorpus, readAlone } from "../../src/bench/corpus.js";
import { readManifestsParallel } from "../../src/audit/read-parallel.js";
import { wholeObjectsFor } from "../../src/audit/selection.js";
import { loadPolicy } from "../../src/toolchain/evaluate.js";
import { ROOT, runCli, wasmBytes, wasmPath } from "../helpers.js";

const VALIDATING = ["reject-loopback-probes", "reject-listenlocal-reloader-probes"];
let scratch: string;
let corpus: string;
let bundle: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "lpp-bench-corpus-test-"));
  corpus = join(scratch, "corpus");
  bundle = join(scratch, "bundle");
  cpSync(join(ROOT, "examples"), corpus, { recursive: true });
  // Objects no policy selects (kept as their identity), a List, and a document that is not YAML.
  writeFileSync(
    join(corpus, "mixed.yaml"),
    [
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  a: b\n",
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: listed}\n",
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n  - c\n",
    ].join("---\n"),
  );
  mkdirSync(bundle);
  for (const name of VALIDATING) copyFileSync(wasmPath(name), join(bundle, `${name}.wasm`));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("bench --corpus", () => {
  it("prints the floor, the reading alone, the audit with its CPU bound, and the fleet, each measuring what it says", async () => {
    const audit = runCli(["audit", "--bundle", bundle, "-f", "json", corpus]);
    // Findings and a document that could not be read: exit 2.
    expect(audit.code, audit.stderr).toBe(2);
    const report = JSON.parse(audit.stdout) as { summary: { objects: number } };
    const objects = report.summary.objects;
    expect(objects).toBeGreaterThan(8);

    const logged: string[] = [];
    const printed: string[] = [];
    const code = await benchCorpus({ dir: corpus, bundle, rounds: 2, fleetObjects: 12, log: (l) => logged.push(l), print: (l) => printed.push(l) });
    expect(code).toBe(0);
    expect(logged.filter((l) => /^round [12]\/2: js-yaml floor, reading alone, audit of /.test(l))).toHaveLength(2);
    const out = printed.join("\n");

    const floor = /floor: js-yaml parse only, one thread +[\d.]+ s \([\d.]+–[\d.]+\), CPU [\d.]+ s {2}\((\d+) documents, (\d+) files it rejects/.exec(out);
    expect(floor, out).not.toBeNull();
    // js-yaml rejects the file with the bad document; the others' documents are counted.
    expect(Number(floor![2])).toBe(1);

    const reading = /reading alone, as the audit reads +[\d.]+ s \([\d.]+–[\d.]+\) = [\d.]+× the floor, CPU [\d.]+ s {2}\((\d+) objects, (\d+) of them more than their identity, (\d+) bad documents/.exec(out);
    expect(reading, out).not.toBeNull();
    expect(Number(reading![1])).toBe(objects);
    expect(Number(reading![2])).toBeGreaterThan(0);
    expect(Number(reading![2])).toBeLessThan(objects);
    expect(Number(reading![3])).toBe(1);

    const corpusRow = /audit -f json, process start included +[\d.]+ s \([\d.]+–[\d.]+\) = [\d.]+× the floor, CPU ([\d.]+) s; (\d+) objects = \d+ objects\/s; peak RSS \d+ MiB \(\d+–\d+\); exit 2/.exec(out);
    expect(corpusRow, out).not.toBeNull();
    expect(Number(corpusRow![2])).toBe(objects);
    const cpu = Number(corpusRow![1]);
    expect(cpu).toBeGreaterThan(0);

    const bound = /the audit's CPU over (\d+) cores: no less than ([\d.]+) s of wall/.exec(out);
    expect(bound, out).not.toBeNull();
    expect(Number(bound![1])).toBe(availableParallelism());
    // The printed median CPU is rounded to 10 ms: the bound is it over the cores, to that rounding.
    expect(Math.abs(Number(bound![2]) - cpu / availableParallelism())).toBeLessThanOrEqual(0.01);

    expect(out).toMatch(/generated fleet: 12 objects, [\d.]+ MB of YAML in one file\n {2}audit -f json, process start included +[\d.]+ s \([\d.]+–[\d.]+\) = \d+ objects\/s, CPU [\d.]+ s; peak RSS \d+ MiB \(\d+–\d+\); exit 1/);
  });

  it("reads alone as the audit reads: the same objects, those no policy selects kept as their identity", async () => {
    const keep = wholeObjectsFor(await Promise.all(VALIDATING.map(async (name) => (await loadPolicy(wasmBytes(name))).metadata)));
    const alone = await readAlone(corpus, keep);
    const here = await readManifestsParallel([corpus], { keep });
    expect(alone.objects).toBe(here.objects.length);
    expect(alone.errors).toBe(here.errors.length);
    expect(alone.seconds).toBeGreaterThan(0);
    expect(alone.cpuSeconds).toBeGreaterThan(0);
    // The ConfigMaps and the Service are kept as their identity, the workloads whole: as the audit keeps them.
    const selected = here.objects.filter((o) => Object.keys(o.object).some((k) => !["apiVersion", "kind", "metadata"].includes(k)));
    expect(selected.map((o) => o.object.kind)).not.toContain("ConfigMap");
    expect(alone.whole).toBe(selected.length);
    // Keeping every object whole (a module without metadata selects everything): the ConfigMap's data is read.
    const everything = await readAlone(corpus, { rules: null, kinds: [] });
    expect(everything.objects).toBe(alone.objects);
    expect(everything.whole).toBeGreaterThan(alone.whole);
  });

  it("refuses a bundle without validating modules, naming it", async () => {
    const empty = join(scratch, "empty-bundle");
    mkdirSync(empty, { recursive: true });
    await expect(benchCorpus({ dir: corpus, bundle: empty, rounds: 1, fleetObjects: 12, log: () => {}, print: () => {} })).rejects.toThrow(`no validating modules in ${empty}: build them first (make build)`);
  });
});
