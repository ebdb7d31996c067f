/**
 * The npm package as a user gets it: `npm pack`, install the tarball into an
 * empty project (offline: the package has no dependencies), then run the
 * installed `loopback-probes` from that folder, far from the repository.
 *
 * The pack runs in a copy of the source tree (node_modules linked), so the test
 * writes nothing into the checkout; it reuses the modules the test setup built
 * (LOOPBACK_PROBES_PREBUILT_DIR) instead of building them again.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetadata } from "../../src/toolchain/metadata.js";
import { ROOT, TEST_WASM_DIR } from "../helpers.js";

const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
let work: string;
let project: string;
let tarball: string;
let installLog: string;

function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The installed CLI, run the way a user runs it: npx from their project folder. */
const npx = (args: string[]) => sh("npx", ["--no-install", "loopback-probes", ...args], project);

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "lpp-package-"));
  const source = join(work, "source");
  mkdirSync(source);
  for (const p of ["package.json", "package-lock.json", "README.md", "tsconfig.json", "bin", "src", "policies", "scripts"]) cpSync(join(ROOT, p), join(source, p), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(source, "node_modules"), "dir");
  const pack = sh("npm", ["pack", "--json", "--pack-destination", work], source, { LOOPBACK_PROBES_PREBUILT_DIR: TEST_WASM_DIR });
  if (pack.code !== 0) throw new Error(`npm pack failed (${pack.code}):\n${pack.stderr}`);
  const [info] = JSON.parse(pack.stdout) as [{ filename: string }];
  tarball = join(work, info.filename);

  project = join(work, "project");
  mkdirSync(project);
  cpSync(join(ROOT, "examples", "alertmanager-listenlocal-broken.yaml"), join(project, "broken.yaml"));
  cpSync(join(ROOT, "examples", "prometheus-listenlocal-fixed.yaml"), join(project, "fixed.yaml"));
  sh("npm", ["init", "-y"], project);
  const install = sh("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], project);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed (${install.code}):\n${install.stderr}`);
  installLog = install.stdout + install.stderr;
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("holds the compiled CLI and the annotated modules, and nothing to install", () => {
    const list = sh("tar", ["tzf", tarball], work).stdout.split("\n").filter(Boolean);
    expect(list).toContain("package/bin/loopback-probes.js");
    expect(list).toContain("package/lib/main.js");
    expect(list.some((f) => f.startsWith("package/src/"))).toBe(false);
    const installed = join(project, "node_modules", "loopback-probe-policies");
    for (const policy of ["reject-loopback-probes", "rewrite-loopback-probes"]) {
      expect(list).toContain(`package/dist/${policy}.wasm`);
      const metadata = readMetadata(new Uint8Array(readFileSync(join(installed, "dist", `${policy}.wasm`))));
      expect(metadata?.annotations["io.kubewarden.policy.title"]).toBe(policy);
    }
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.private).toBeUndefined();
    expect(installLog).not.toMatch(/install-scripts|postinstall/);
  });

  it("npx loopback-probes --version prints the package version", () => {
    const r = npx(["--version"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${version}\n`);
    expect(npx(["version"]).stdout).toBe(`${version}\n`);
  });

  it("audit broken.yaml flags the broken StatefulSet with the bundled module (exit 1)", () => {
    const r = npx(["audit", "broken.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/broken\.yaml — StatefulSet\/monitoring\/alertmanager-main\n\d+:\d+ +config-reloader +liveness httpGet/);
    expect(r.stdout).toMatch(/1 failed/);
    const fixed = npx(["audit", "fixed.yaml"]);
    expect(fixed.code).toBe(0);
  });

  it("--output writes the report to a file, nothing on stdout", () => {
    const r = npx(["audit", "broken.yaml", "--format", "json", "--output", "reports/audit.json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const report = JSON.parse(readFileSync(join(project, "reports", "audit.json"), "utf8")) as { results: { status: string; kind: string }[] };
    expect(report.results.filter((x) => x.status === "fail").map((x) => x.kind)).toEqual(["StatefulSet"]);
  });

  it("--diff loads the bundled rewrite module too", () => {
    const r = npx(["audit", "--diff", "broken.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("exec");
  });

  it("build says it needs a source checkout instead of crashing", () => {
    const r = npx(["build", "--out", "x", "somewhere"]);
    expect(r.code).toBe(2);
    expect(existsSync(join(project, "x"))).toBe(false);
  });
});
