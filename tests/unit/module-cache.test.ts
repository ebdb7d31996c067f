/**
 * The module cache make, npm test, npm pack and the corpus share
 * (src/toolchain/module-cache.ts): keyed by what modules are built from, so an
 * edit elsewhere rebuilds nothing and an edit there rebuilds; modules found in
 * the cache are not built again.
 */
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cachedModules, cachedModuleSet, moduleCacheDir, moduleCacheRoot } from "../../src/toolchain/module-cache.js";

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "lpp-module-cache-"));
  for (const [file, text] of Object.entries({
    "src/analysis/a.ts": "export const a = 1;\n",
    "src/kubewarden/k.ts": "export const k = 1;\n",
    "src/toolchain/glue.ts": "// glue\n",
    "src/toolchain/oci.ts": "// registry client\n",
    "src/cli/c.ts": "// cli\n",
    "policies/p/policy.ts": "// policy\n",
    "tests/fixtures/policies/t/policy.ts": "// test policy\n",
    "package-lock.json": "{}\n",
  })) {
    mkdirSync(join(root, file, ".."), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

const saved = process.env.LOOPBACK_PROBES_MODULE_CACHE;
afterEach(() => {
  if (saved === undefined) delete process.env.LOOPBACK_PROBES_MODULE_CACHE;
  else process.env.LOOPBACK_PROBES_MODULE_CACHE = saved;
});

describe("the module cache", () => {
  it("is keyed by the module inputs only (and the extra inputs a caller names)", () => {
    delete process.env.LOOPBACK_PROBES_MODULE_CACHE;
    const root = tree();
    const before = moduleCacheDir(root);
    expect(before.startsWith(join(root, ".cache", "modules"))).toBe(true);
    writeFileSync(join(root, "src/cli/c.ts"), "// cli, edited\n");
    writeFileSync(join(root, "src/toolchain/oci.ts"), "// registry client, edited\n");
    expect(moduleCacheDir(root)).toBe(before);
    const fixtures = moduleCacheDir(root, ["tests/fixtures/policies"]);
    expect(fixtures).not.toBe(before);
    writeFileSync(join(root, "tests/fixtures/policies/t/policy.ts"), "// test policy, edited\n");
    expect(moduleCacheDir(root)).toBe(before);
    expect(moduleCacheDir(root, ["tests/fixtures/policies"])).not.toBe(fixtures);
    for (const input of ["src/analysis/a.ts", "src/toolchain/glue.ts", "policies/p/policy.ts", "package-lock.json"]) {
      const key = moduleCacheDir(root);
      writeFileSync(join(root, input), `// ${input} edited\n`);
      expect(moduleCacheDir(root), input).not.toBe(key);
    }
    process.env.LOOPBACK_PROBES_MODULE_CACHE = join(root, "shared");
    expect(moduleCacheRoot(root)).toBe(join(root, "shared"));
    expect(moduleCacheDir(root).startsWith(join(root, "shared"))).toBe(true);
  });

  it("builds nothing that is already there, and keeps only the folders used last", async () => {
    const root = tree();
    process.env.LOOPBACK_PROBES_MODULE_CACHE = join(root, "cache");
    const dir = moduleCacheDir(root);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "p.wasm"), "built before");
    writeFileSync(join(dir, "p.variant.wasm"), "built before");
    // Old folders of earlier inputs: all but the newest few go.
    for (let i = 0; i < 6; i++) {
      const old = join(root, "cache", `old-${i}`);
      mkdirSync(old);
      utimesSync(old, new Date(2020, 0, 1 + i), new Date(2020, 0, 1 + i));
    }
    const lines: string[] = [];
    const r = await cachedModules(root, [{ dir: join(root, "policies", "p") }, { dir: join(root, "policies", "p"), name: "p.variant", nativePrecheck: false }], { progress: (l) => lines.push(l) });
    expect(r).toEqual({ dir, built: [] });
    expect(lines).toEqual([]);
    expect(readdirSync(join(root, "cache")).sort()).toEqual([dir.split("/").pop(), "old-3", "old-4", "old-5"].sort());
  });

  it("takes jobs of different inputs in one queue, each from its own folder, and says when each is there", async () => {
    const root = tree();
    process.env.LOOPBACK_PROBES_MODULE_CACHE = join(root, "cache");
    const [shipped, test] = [moduleCacheDir(root), moduleCacheDir(root, ["tests/fixtures/policies"])];
    for (const [dir, name] of [[shipped, "p"], [test, "t"]] as const) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name}.wasm`), "built before");
    }
    const ready: [string, string][] = [];
    const jobs = [{ dir: join(root, "policies", "p") }, { dir: join(root, "tests", "fixtures", "policies", "t"), extraInputs: ["tests/fixtures/policies"] }];
    const r = await cachedModuleSet(root, jobs, { onReady: (job, path) => ready.push([job.dir, path]) });
    expect(r).toEqual({ paths: [join(shipped, "p.wasm"), join(test, "t.wasm")], built: [] });
    expect(ready).toEqual(jobs.map((job, i) => [job.dir, r.paths[i]]));
  });
});
