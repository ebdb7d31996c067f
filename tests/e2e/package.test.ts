/**
 * The npm package as a user gets it: `npm pack`, install the tarball into an
 * empty project (offline: the package has no dependencies), then run the
 * installed `loopback-probes` from that folder, far from the repository —
 * as root, and as an unprivileged user (created with useradd when the tests
 * run as root, as in CI; otherwise the current user is that user).
 *
 * The pack runs in a copy of the source tree (node_modules linked), so the test
 * writes nothing into the checkout; it takes the modules from the module cache
 * the test setup filled (LOOPBACK_PROBES_MODULE_CACHE) instead of building them.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetadata } from "../../src/toolchain/metadata.js";
import { moduleCacheRoot } from "../../src/toolchain/module-cache.js";
import { WASMTIME_VERSION } from "../../src/toolchain/wasmtime-setup.js";
import { fleetYaml } from "../../src/bench/fleet.js";
import { ROOT } from "../helpers.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const REQUEST = join(ROOT, "policies", "reject-loopback-probes", "test_data", "alertmanager-listenlocal-broken-defaulted.json");
/** A generated fleet of 2.3 MB in one file. */
const FLEET = fleetYaml(1500);
const isRoot = process.getuid?.() === 0;
/** The unprivileged user the package is also installed and run as (tests run as root). */
const USER = "lpp-package-user";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Someone who installed the package into a project of their own and runs it from there. */
interface Installer {
  who: string;
  project: string;
  home: string;
  /** The CLI's user cache: the default (~/.cache/loopback-probes) for the unprivileged user. */
  cache: string;
  run(command: string, args: string[], env?: Record<string, string>, input?: string): Result;
}

let work: string;
let tarball: string;
let packLog: string;
let registry: TestRegistry;
const installers: Installer[] = [];

function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}, input?: string): Result {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 64 * 1024 * 1024, ...(input === undefined ? {} : { input }) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** pip's index settings of this machine (a local index on the project's machines), for a user whose own pip config has none. */
function pipIndexEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, name] of [
    ["global.index-url", "PIP_INDEX_URL"],
    ["global.extra-index-url", "PIP_EXTRA_INDEX_URL"],
    ["global.find-links", "PIP_FIND_LINKS"],
  ] as const) {
    const r = spawnSync("python3", ["-m", "pip", "config", "get", key], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) env[name] = r.stdout.trim().replace(/\n/g, " ");
  }
  return env;
}

function install(who: string, project: string, home: string, cache: string, run: Installer["run"]): Installer {
  cpSync(join(ROOT, "examples", "alertmanager-listenlocal-broken.yaml"), join(project, "broken.yaml"));
  cpSync(join(ROOT, "examples", "prometheus-listenlocal-fixed.yaml"), join(project, "fixed.yaml"));
  cpSync(REQUEST, join(project, "request.json"));
  cpSync(tarball, join(project, "package.tgz"));
  // Past the 1 MiB read on the main thread: the package's reader and evaluation thread entries run.
  mkdirSync(join(project, "fleet"));
  writeFileSync(join(project, "fleet", "fleet.yaml"), FLEET.text);
  for (let k = 0; k < 30; k++) cpSync(join(ROOT, "examples", "kubebuilder-manager.yaml"), join(project, "fleet", `small-${k}.yaml`));
  const init = run("npm", ["init", "-y"]);
  if (init.code !== 0) throw new Error(`npm init as ${who} failed:\n${init.stderr}`);
  const r = run("npm", ["install", "--offline", "--no-audit", "--no-fund", "./package.tgz"]);
  if (r.code !== 0) throw new Error(`npm install of the tarball as ${who} failed (${r.code}):\n${r.stderr}`);
  return { who, project, home, cache, run };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "lpp-package-"));
  const source = join(work, "source");
  mkdirSync(source);
  for (const p of ["package.json", "package-lock.json", "README.md", "tsconfig.json", "bin", "src", "policies", "scripts"]) cpSync(join(ROOT, p), join(source, p), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(source, "node_modules"), "dir");
  const pack = sh("npm", ["pack", "--json", "--pack-destination", work], source, { LOOPBACK_PROBES_MODULE_CACHE: moduleCacheRoot(ROOT) });
  if (pack.code !== 0) throw new Error(`npm pack failed (${pack.code}):\n${pack.stderr}`);
  packLog = pack.stderr;
  const [info] = JSON.parse(pack.stdout) as [{ filename: string }];
  tarball = join(work, info.filename);

  // Whoever runs the tests: root in CI (the CLI's cache in a temp folder, so nothing of the machine's is touched).
  const ownCache = join(work, "cache");
  const ownProject = join(work, "project");
  mkdirSync(ownProject);
  const ownEnv = { LOOPBACK_PROBES_CACHE: ownCache };
  installers.push(install(isRoot ? "root" : "the current user", ownProject, work, ownCache, (command, args, env = {}, input) => sh(command, args, ownProject, { ...ownEnv, ...env }, input)));

  if (isRoot) {
    // An unprivileged user with a home of its own, running a clean environment (no root PATH, no root pip config).
    if (spawnSync("id", ["-u", USER]).status !== 0) {
      const added = spawnSync("useradd", ["--create-home", "--shell", "/bin/sh", USER], { encoding: "utf8" });
      if (added.status !== 0) throw new Error(`useradd ${USER} failed: ${added.stderr}`);
    }
    const uid = Number(spawnSync("id", ["-u", USER], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", USER], { encoding: "utf8" }).stdout.trim());
    const home = mkdtempSync(join(tmpdir(), "lpp-package-user-"));
    const project = join(home, "project");
    mkdirSync(project);
    chmodSync(home, 0o755);
    const pip = pipIndexEnv();
    const run: Installer["run"] = (command, args, env = {}, input) => {
      const vars = { HOME: home, PATH: "/usr/local/bin:/usr/bin:/bin", NO_COLOR: "1", ...pip, ...env };
      const r = spawnSync("runuser", ["-u", USER, "--", "env", "-i", ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), command, ...args], {
        cwd: project,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        ...(input === undefined ? {} : { input }),
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const owned = (dir: string) => {
      chownSync(dir, uid, gid);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) owned(p);
        else chownSync(p, uid, gid);
      }
    };
    owned(home);
    // Files the install step copies in are the user's too.
    const user = install(USER, project, home, join(home, ".cache", "loopback-probes"), (command, args, env, input) => {
      owned(home);
      return run(command, args, env, input);
    });
    owned(home);
    installers.push({ ...user, run });
  }
  registry = await startRegistry();
}, 900_000);

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  for (const i of installers.slice(1)) rmSync(i.home, { recursive: true, force: true });
});

/** The installed CLI, run the way a user runs it: npx from their project folder. */
const npx = (i: Installer, args: string[], env?: Record<string, string>, input?: string) => i.run("npx", ["--no-install", "loopback-probes", ...args], env, input);
/**
 * The installed command itself, the link a global install puts on PATH (README: "loopback-probes
 * <command> after a global install"): the same program as through npx, without npm's own start
 * (~0.8 s a run, 50 runs here). The first tests of each user go through npx.
 */
const bin = (i: Installer, args: string[], env?: Record<string, string>, input?: string) => i.run(join(i.project, "node_modules", ".bin", "loopback-probes"), args, env, input);
/** Who installs and runs the package (known when tests are collected; the installs happen in beforeAll). */
const WHO = isRoot ? ["root", USER] : ["the current user"];
const installer = (who: string) => installers.find((i) => i.who === who)!;

describe("the npm package", () => {
  it("holds the compiled CLI, the wasmtime runner and the annotated modules, and nothing to install; npm pack built no module", () => {
    const list = sh("tar", ["tzf", tarball], work).stdout.split("\n").filter(Boolean);
    expect(list).toContain("package/bin/loopback-probes.js");
    expect(list).toContain("package/lib/main.js");
    expect(list).toContain("package/lib/wasmtime/runner.py");
    expect(list.some((f) => f.startsWith("package/src/"))).toBe(false);
    const installed = join(installers[0]!.project, "node_modules", "loopback-probe-policies");
    for (const policy of ["reject-loopback-probes", "rewrite-loopback-probes", "reject-listenlocal-reloader-probes"]) {
      expect(list).toContain(`package/dist/${policy}.wasm`);
      const metadata = readMetadata(new Uint8Array(readFileSync(join(installed, "dist", `${policy}.wasm`))));
      expect(metadata?.annotations["io.kubewarden.policy.title"]).toBe(policy);
    }
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.private).toBeUndefined();
    expect(packLog).toContain("all from the module cache");
  });

  it("the README says the package's size and where to get it as they are", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const stated = /the package is ≈([\d.]+) MB compressed/.exec(readme);
    expect(stated, "README: 'the package is ≈N MB compressed'").not.toBeNull();
    const actual = statSync(tarball).size / 1e6;
    expect(Math.abs(actual - Number(stated![1])) / actual).toBeLessThan(0.15);
    // Not on npmjs.com yet: the install line names the tarball, and says so.
    expect(readme).toContain("npm install --global ./loopback-probe-policies-");
    expect(readme).toMatch(/not published to the npm registry yet/);
    expect(readme).not.toMatch(/npm install --global loopback-probe-policies@/);
    expect(readme).toContain("~/.cache/loopback-probes/oci/");
  });

  it.each(WHO)("%s: npx loopback-probes --version prints the package version", (who) => {
    const i = installer(who);
    const r = npx(i, ["--version"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${version}\n`);
    expect(npx(i, ["version"]).stdout).toBe(`${version}\n`);
  });

  it.each(WHO)("%s: audit broken.yaml flags the broken StatefulSet with the bundled module (exit 1)", (who) => {
    const i = installer(who);
    const r = npx(i, ["audit", "broken.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/broken\.yaml — StatefulSet\/monitoring\/alertmanager-main\n\d+:\d+ +config-reloader +liveness httpGet/);
    expect(r.stdout).toMatch(/1 failed/);
    expect(r.stderr).not.toMatch(/Warning|ExperimentalWarning/);
    expect(bin(i, ["audit", "fixed.yaml"]).code).toBe(0);
    // A folder big enough for reader threads (the package's own worker entries): every object read and judged.
    const fleet = bin(i, ["audit", "-f", "json", "fleet"]);
    expect(fleet.code).toBe(1);
    expect((JSON.parse(fleet.stdout) as { summary: unknown }).summary).toMatchObject({ files: 31, objects: 1530, fail: FLEET.broken, error: 0, unreadable: 0 });
  });

  it.each(WHO)("%s: --output writes the report to a file (folders created), nothing on stdout; --diff loads the bundled rewrite module", (who) => {
    const i = installer(who);
    const r = bin(i, ["audit", "broken.yaml", "--format", "json", "--output", "reports/audit.json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const report = JSON.parse(readFileSync(join(i.project, "reports", "audit.json"), "utf8")) as { results: { status: string; kind: string }[] };
    expect(report.results.filter((x) => x.status === "fail").map((x) => x.kind)).toEqual(["StatefulSet"]);
    const diff = bin(i, ["audit", "--diff", "broken.yaml"]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain("exec");
  });

  it.each(WHO)("%s: run names a bundled module and sets its wasmtime engine up in the user's cache on first use, with progress", (who) => {
    const i = installer(who);
    const venv = join(i.cache, `wasmtime-${WASMTIME_VERSION}`);
    expect(existsSync(venv)).toBe(false);
    const first = npx(i, ["run", "reject-loopback-probes", "-r", "request.json"]);
    expect(first.stderr).toContain(`setting up the wasmtime ${WASMTIME_VERSION} engine (first use) in ${venv}`);
    expect(first.stderr).toMatch(/ready in [\d.]+ s/);
    expect(first.code).toBe(0);
    const answer = JSON.parse(first.stdout) as { allowed: boolean; status: { message: string } };
    expect(answer.allowed).toBe(false);
    expect(answer.status.message).toContain("config-reloader");
    expect(existsSync(join(venv, "bin", "python"))).toBe(true);
    // Never inside the installed package, which may belong to another user.
    expect(existsSync(join(i.project, "node_modules", ".cache"))).toBe(false);
    const again = bin(i, ["run", "reject-loopback-probes", "-r", "request.json"]);
    expect(again.stderr).toBe("");
    expect(again.stdout).toBe(first.stdout);
  }, 300_000);

  it.each(WHO)("%s: when the engine cannot be set up, run says why, what to run by hand, and that --engine node needs nothing", (who) => {
    const i = installer(who);
    const cache = join(i.home, "no-index-cache");
    const r = bin(i, ["run", "reject-loopback-probes", "-r", "request.json"], { LOOPBACK_PROBES_CACHE: cache, PIP_NO_INDEX: "1", PIP_FIND_LINKS: "/nonexistent" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`cannot set up the wasmtime engine in ${join(cache, `wasmtime-${WASMTIME_VERSION}`)}`);
    expect(r.stderr).toContain(`python3 -m venv ${join(cache, `wasmtime-${WASMTIME_VERSION}`)}`);
    expect(r.stderr).toContain("--engine node");
    const node = bin(i, ["run", "reject-loopback-probes", "-r", "request.json", "--engine", "node"], { LOOPBACK_PROBES_CACHE: cache });
    expect(node.code).toBe(0);
    expect((JSON.parse(node.stdout) as { allowed: boolean }).allowed).toBe(false);
  }, 300_000);

  it.each(WHO)("%s: push, pull -o into new folders, run registry://… --plain-http, and publish work from the package", (who) => {
    const i = installer(who);
    const ref = `registry://${registry.host}/${i.who.replace(/\W/g, "")}/reject-loopback-probes:v1`;
    const pushed = bin(i, ["push", join("node_modules", "loopback-probe-policies", "dist", "reject-loopback-probes.wasm"), ref, "--plain-http"]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const pulled = bin(i, ["pull", ref, "--plain-http", "-o", "modules/pulled/reject.wasm"]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(existsSync(join(i.project, "modules", "pulled", "reject.wasm"))).toBe(true);
    const run = bin(i, ["run", ref, "--plain-http", "--engine", "node", "-r", "request.json"]);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { allowed: boolean }).allowed).toBe(false);
    expect(readdirSync(join(i.cache, "oci", "manifests", "sha256"))).toHaveLength(1);
    const published = bin(i, ["publish", `${registry.host}/${i.who.replace(/\W/g, "")}-all`, "--plain-http"]);
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout.trim().split("\n")).toHaveLength(3);
    expect(published.stdout).toContain(`/reject-loopback-probes:v${version} → registry://`);
  }, 300_000);

  it.each(WHO)("%s: commands that need a checkout say so plainly; help works everywhere", (who) => {
    const i = installer(who);
    for (const args of [["build"], ["build", "--out", "x", "somewhere"], ["bench"], ["bench", "--fleet", "10"], ["sbom"], ["sbom", "-o", "x"]]) {
      const r = bin(i, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/needs a source checkout of loopback-probe-policies \(git clone, then npm ci\)/);
      expect(r.stderr).not.toMatch(/esbuild|ERR_MODULE_NOT_FOUND|Cannot find/);
    }
    expect(existsSync(join(i.project, "x"))).toBe(false);
    const benchHelp = bin(i, ["bench", "--help"]);
    expect(benchHelp.code).toBe(0);
    expect(benchHelp.stdout).toMatch(/^Usage: loopback-probes bench/);
    const sbomHelp = bin(i, ["sbom", "--help"]);
    expect(sbomHelp.code, sbomHelp.stderr).toBe(0);
    expect(sbomHelp.stdout).toMatch(/^Usage: loopback-probes sbom/);
    const scaffold = bin(i, ["scaffold", "artifacthub"]);
    expect(scaffold.code).toBe(2);
    expect(scaffold.stderr).toMatch(/needs a source checkout/);
    expect(existsSync(join(i.project, "artifacthub-repo.yml"))).toBe(false);
    const help = bin(i, ["help", "audit"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(bin(i, ["audit", "--help"]).stdout);
    expect(help.stdout).toMatch(/^Usage: loopback-probes audit/);
  });

  it.each(WHO)("%s: an audit that cannot read its input says so and never passes: exit 2, SARIF executionSuccessful false", (who) => {
    const i = installer(who);
    const sarif = (r: Result) => (JSON.parse(r.stdout) as { runs: { invocations: { executionSuccessful: boolean }[] }[] }).runs[0]!.invocations[0]!.executionSuccessful;
    const empty = bin(i, ["audit", "-", "-f", "sarif"], {}, "");
    expect(empty.code).toBe(2);
    expect(sarif(empty)).toBe(false);
    expect(empty.stderr).toMatch(/cannot read <stdin>: it held no YAML or JSON document/);
    i.run("mkdir", ["-p", "docs-only/sub"]);
    i.run("sh", ["-c", "echo '# notes' > docs-only/sub/README.md"]);
    const noYaml = bin(i, ["audit", "docs-only", "-f", "sarif"]);
    expect(noYaml.code).toBe(2);
    expect(sarif(noYaml)).toBe(false);
    if (i.who !== "root") {
      // Permissions hold only for an unprivileged user.
      i.run("mkdir", ["-p", "locked"]);
      i.run("cp", ["broken.yaml", "locked/"]);
      i.run("chmod", ["000", "locked"]);
      const locked = bin(i, ["audit", "locked", "-f", "sarif"]);
      i.run("chmod", ["755", "locked"]);
      expect(locked.code).toBe(2);
      expect(sarif(locked)).toBe(false);
      expect(locked.stderr).toMatch(/cannot read locked: .*permission denied/i);
      i.run("chmod", ["000", "locked/broken.yaml"]);
      const lockedFile = bin(i, ["audit", "locked/broken.yaml", "fixed.yaml"]);
      i.run("chmod", ["644", "locked/broken.yaml"]);
      expect(lockedFile.code).toBe(2);
      // One stream: with the table on stdout, every error is in the table; the missing and the unreadable alike.
      expect(lockedFile.stdout).toMatch(/error: cannot read locked\/broken\.yaml: .*permission denied/i);
      expect(lockedFile.stderr).not.toMatch(/permission denied/i);
      const missing = bin(i, ["audit", "missing.yaml", "fixed.yaml"]);
      expect(missing.code).toBe(2);
      expect(missing.stdout).toMatch(/error: cannot read missing\.yaml: no such file or directory/);
      expect(missing.stderr).not.toMatch(/missing\.yaml/);
    }
  });
});

// The unprivileged user exists only when the tests run as root (as in CI); as anyone else, that user is the runner.
it("runs the package as root and as an unprivileged user when the tests run as root", () => {
  expect(installers.map((i) => i.who)).toEqual(isRoot ? ["root", USER] : ["the current user"]);
  if (isRoot) expect(installers[1]!.run("id", ["-u"]).stdout.trim()).not.toBe("0");
});
