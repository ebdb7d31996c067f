/**
 * The command line as a product: version, flags and their errors, --help,
 * --output, module resolution from any folder (paths and registry://, with a
 * digest-verified cache), and `make` not rebuilding what did not change.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closest } from "../../src/cli/command.js";
import { pushModule } from "../../src/toolchain/oci.js";
import { ROOT, runCli, wasmBytes, wasmPath } from "../helpers.js";
import { missingPrerequisites } from "../setup/prerequisites.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const BROKEN = join(ROOT, "examples", "alertmanager-listenlocal-broken.yaml");
const modules = ["--policy", wasmPath("reject-loopback-probes"), "--rewrite-policy", wasmPath("rewrite-loopback-probes")];
const temp = () => mkdtempSync(join(tmpdir(), "lpp-cli-"));

describe("version", () => {
  it.each([["--version"], ["-V"], ["version"]])("%s prints the package version", (flag) => {
    const r = runCli([flag]);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("the overview names the version", () => {
    expect(runCli(["--help"]).stdout.split("\n")[0]).toContain(version);
  });
});

describe("the command in a checkout", () => {
  it("runs src/cli compiled into .cache/cli-<hash>/, built again only when a source changes, and through tsx with LOOPBACK_PROBES_FROM_SOURCE=1 or when .cache/ cannot be written", () => {
    const dir = temp();
    try {
      for (const d of ["bin", "src", "policies"]) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
      for (const f of ["package.json", "package-lock.json", "scripts/cli-build.js"]) cpSync(join(ROOT, f), join(dir, f));
      symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
      const run = (env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [join(dir, "bin", "loopback-probes.js"), "--version"], { encoding: "utf8", env: { ...process.env, ...env } });
      const build = () => JSON.parse(readFileSync(join(dir, ".cache", "cli-build.json"), "utf8")) as { inputs: string[]; hash: string };
      expect(run()).toMatchObject({ status: 0, stdout: `${version}\n` });
      const first = build();
      expect(first.inputs).toContain("src/cli/main.ts");
      // The sources, and how they are built; the bundled dependencies through the lock file that pins them.
      expect(first.inputs.filter((p) => !p.startsWith("src/") && !p.startsWith("policies/"))).toEqual(["bin/loopback-probes.js", "package-lock.json", "scripts/cli-build.js"]);
      const built = join(dir, ".cache", `cli-${first.hash}`);
      expect(existsSync(join(built, "main.js"))).toBe(true);
      // As the package's lib/: the pure-JS dependencies are in the build, the toolchain is not.
      const chunks = readdirSync(built).map((f) => readFileSync(join(built, f), "utf8")).join("\n");
      expect(chunks).not.toMatch(/from "(yaml|ajv|fast-json-patch)"/);
      expect(chunks).toMatch(/from "esbuild"|\("esbuild"\)/);
      // Unchanged sources: the same build.
      expect(run()).toMatchObject({ status: 0, stdout: `${version}\n` });
      expect(build().hash).toBe(first.hash);
      // A source changes: built again, beside the earlier build.
      writeFileSync(join(dir, "src", "cli", "main.ts"), `${readFileSync(join(dir, "src", "cli", "main.ts"), "utf8")}\n// changed\n`);
      expect(run()).toMatchObject({ status: 0, stdout: `${version}\n` });
      const second = build();
      expect(second.hash).not.toBe(first.hash);
      expect(existsSync(join(dir, ".cache", `cli-${second.hash}`, "main.js"))).toBe(true);
      // How it is built changes: built again.
      writeFileSync(join(dir, "scripts", "cli-build.js"), `${readFileSync(join(dir, "scripts", "cli-build.js"), "utf8")}\n// changed\n`);
      expect(run()).toMatchObject({ status: 0, stdout: `${version}\n` });
      expect(build().hash).not.toBe(second.hash);
      // The TypeScript itself, through tsx; and so when nothing can be written in .cache/.
      expect(run({ LOOPBACK_PROBES_FROM_SOURCE: "1" })).toMatchObject({ status: 0, stdout: `${version}\n` });
      rmSync(join(dir, ".cache"), { recursive: true, force: true });
      writeFileSync(join(dir, ".cache"), "not a folder");
      expect(run()).toMatchObject({ status: 0, stdout: `${version}\n` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("flags", () => {
  it("an unknown flag is named with the closest valid one", () => {
    const r = runCli(["audit", "--formt", "json", BROKEN]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("loopback-probes audit: unknown flag --formt; did you mean --format?");
    expect(r.stderr).toContain("loopback-probes audit --help");
    expect(r.stdout).toBe("");
  });

  it("no suggestion when nothing is close, and no raw Node message", () => {
    const r = runCli(["audit", "--zzzzzz", BROKEN]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("loopback-probes audit: unknown flag --zzzzzz");
    expect(r.stderr).not.toMatch(/Unknown option|ERR_PARSE_ARGS|'/);
  });

  it("an unknown short flag lists the short flags of the command", () => {
    const r = runCli(["audit", "-x", BROKEN]);
    expect(r.stderr.split("\n")[0]).toBe("loopback-probes audit: unknown flag -x (short flags here: -f, -o, -n, -q, -k, -a, -h)");
  });

  it("a missing value and a value given to a switch are named", () => {
    expect(runCli(["audit", BROKEN, "--format"]).stderr.split("\n")[0]).toBe("loopback-probes audit: --format needs a value");
    expect(runCli(["audit", "--diff=yes", BROKEN]).stderr.split("\n")[0]).toBe("loopback-probes audit: --diff is a switch and takes no value");
  });

  it("an unknown command suggests the closest", () => {
    const r = runCli(["adit", BROKEN]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe('loopback-probes: unknown command "adit"; did you mean "audit"?');
  });

  it("closest() prefers a prefix and refuses far names", () => {
    expect(closest("rewrite", ["rewrite-policy", "policy"])).toBe("rewrite-policy");
    expect(closest("setings-json", ["settings-json", "settings-path"])).toBe("settings-json");
    expect(closest("xyz", ["format", "output"])).toBeUndefined();
  });

  it("-f is the format and -o the output file in audit, as -o is in pull and scaffold", () => {
    const dir = temp();
    const out = join(dir, "report.sarif");
    const r = runCli(["audit", ...modules, "-f", "sarif", "-o", out, BROKEN]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(JSON.parse(readFileSync(out, "utf8")).version).toBe("2.1.0");
    for (const command of [["pull", "--help"], ["scaffold", "--help"], ["audit", "--help"]]) expect(runCli(command).stdout).toMatch(/-o, --output FILE/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("--output - is stdout", () => {
    const r = runCli(["audit", ...modules, "-f", "json", "--output", "-", BROKEN]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).results.length).toBeGreaterThan(0);
  });

  it("an unwritable --output is a usage error (exit 2), not a crash", () => {
    const dir = temp();
    writeFileSync(join(dir, "file"), "");
    const r = runCli(["audit", ...modules, "-o", join(dir, "file", "report.txt"), BROKEN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^loopback-probes audit: cannot write .*report\.txt/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("bench", () => {
  // It used to measure every module for minutes and only then say the folder was missing.
  it("a missing --mix folder is a usage error before anything is built or measured", () => {
    const r = runCli(["bench", "--mix", "/nonexistent/mix-folder", "--engine", "node", "--iterations", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mix \/nonexistent\/mix-folder: no such file or folder/);
    expect(r.stderr).not.toMatch(/building|evaluations/);
  });
});

describe("--help", () => {
  it.each(["build", "run", "audit", "push", "pull", "publish", "scaffold", "bench", "version", "sign", "verify", "sbom"])("%s --help shows usage and examples", (command) => {
    const r = runCli([command, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:/);
    expect(r.stdout).toMatch(/\nExamples:\n {2}(docker login \S+ && )?loopback-probes /);
    expect(r.stdout.match(/\nExamples:/g)).toHaveLength(1);
  });
});

describe("modules from any folder", () => {
  it("audit runs from another working directory with module paths", () => {
    const dir = temp();
    cpSync(BROKEN, join(dir, "broken.yaml"));
    const r = runCli(["audit", ...modules, "broken.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("StatefulSet/monitoring/alertmanager-main");
    rmSync(dir, { recursive: true, force: true });
  });

  it("a missing module is named, exit 2", () => {
    const r = runCli(["audit", "--policy", "nowhere/reject.wasm", BROKEN]);
    expect(r.code).toBe(2);
    // The bundled names are those built into dist/ (none in a clone that ran only `npm test`).
    const built = existsSync(join(ROOT, "dist"))
      ? readdirSync(join(ROOT, "dist")).filter((f) => f.endsWith(".wasm")).map((f) => f.slice(0, -5)).sort()
      : [];
    expect(r.stderr).toBe(
      `loopback-probes audit: nowhere/reject.wasm not found (a file path, registry://HOST/REPO[:TAG|@sha256:…], or a bundled module: ${built.length > 0 ? built.join(", ") : "none built here (make build)"})\n`,
    );
    const notWasm = runCli(["audit", "--policy", BROKEN, BROKEN]);
    expect(notWasm.code).toBe(2);
    expect(notWasm.stderr).toContain("is not a WebAssembly module");
    const run = runCli(["run", join(ROOT, "README.md"), "-r", BROKEN]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not a WebAssembly module");
    // A .yaml is a file of policy resources, as for kwctl run: a workload manifest is not one.
    const manifest = runCli(["run", BROKEN, "-r", BROKEN]);
    expect(manifest.code).toBe(2);
    expect(manifest.stderr).toContain('invalid apiVersion Some("apps/v1") (expected policies.kubewarden.io/v1)');
    expect(manifest.stderr).toContain("run takes a module");
  });

  describe("--policy registry://…", () => {
    let registry: TestRegistry;
    let cache: string;
    let immutable: string;
    let stopped = false;
    beforeAll(async () => {
      registry = await startRegistry();
      cache = temp();
      immutable = (await pushModule(wasmBytes("reject-loopback-probes"), `registry://${registry.host}/policies/reject-loopback-probes:v1`, { plainHttp: true })).immutable;
    });
    afterAll(async () => {
      if (!stopped) await registry?.stop();
      if (cache) rmSync(cache, { recursive: true, force: true });
    });
    const env = () => ({ LOOPBACK_PROBES_CACHE: cache });

    it("pulls a tag into the cache, digest-verified, and audits with it", () => {
      const r = runCli(["audit", "--plain-http", "--policy", `registry://${registry.host}/policies/reject-loopback-probes:v1`, BROKEN], { env: env() });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("StatefulSet/monitoring/alertmanager-main");
      const digest = immutable.split("@")[1]!.replace("sha256:", "");
      // The cache is keyed by digest: the manifest under its digest, the module under its layer's.
      expect(readdirSync(join(cache, "oci", "manifests", "sha256"))).toEqual([`${digest}.json`]);
      const blobs = readdirSync(join(cache, "oci", "blobs", "sha256"));
      expect(blobs).toHaveLength(1);
      // Byte for byte (toEqual walks a 2 MB array element by element: 8 s).
      expect(Buffer.compare(readFileSync(join(cache, "oci", "blobs", "sha256", blobs[0]!)), wasmBytes("reject-loopback-probes"))).toBe(0);
    });

    it("scaffold manifest takes the registry:// reference, checks settings with it, and points spec.module at it", () => {
      const ref = `registry://${registry.host}/policies/reject-loopback-probes:v1`;
      const r = runCli(["scaffold", "manifest", ref, "--plain-http", "--settings-json", '{"excludeContainers":["x"]}'], { env: env() });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`module: ${ref}\n`);
      const refused = runCli(["scaffold", "manifest", ref, "--plain-http", "--settings-json", '{"bogus":1}'], { env: env() });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
    });

    it("reuses the cached module for a digest reference without the registry", async () => {
      runCli(["audit", "--plain-http", "--policy", immutable, BROKEN], { env: env() });
      await registry.stop();
      stopped = true;
      const r = runCli(["audit", "--plain-http", "--policy", immutable, BROKEN], { env: env() });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
    });

    it("does not trust a cached module whose bytes changed", () => {
      const [blob] = readdirSync(join(cache, "oci", "blobs", "sha256"));
      const file = join(cache, "oci", "blobs", "sha256", blob!);
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      writeFileSync(file, bytes);
      // The registry is stopped: a corrupt cache entry forces a pull, which fails (exit 2, not "findings").
      const r = runCli(["audit", "--plain-http", "--policy", immutable, BROKEN], { env: env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^loopback-probes audit: cannot pull registry:\/\//);
      expect(r.stdout).toBe("");
    });
  });
});

describe("test prerequisites", () => {
  it("names what is missing with the exact install command", () => {
    const path = process.env.PATH;
    process.env.PATH = "";
    try {
      const missing = missingPrerequisites();
      expect(missing.map((m) => m.command)).toContain("apt-get install -y --no-install-recommends docker-registry openssl   # as root");
    } finally {
      process.env.PATH = path;
    }
    expect(missingPrerequisites()).toEqual([]); // this machine has everything
  });
});

describe("make", () => {
  /** A fake tree with the real Makefile; `make -n` says what it would run. */
  function tree(): string {
    const dir = temp();
    cpSync(join(ROOT, "Makefile"), join(dir, "Makefile"));
    for (const f of ["policies/p/policy.ts", "src/analysis/a.ts", "src/kubewarden/k.ts", "src/toolchain/glue.ts", "src/toolchain/oci.ts", "src/cli/c.ts", "package-lock.json", "node_modules/.package-lock.json", "dist/p.wasm"]) {
      mkdirSync(join(dir, f, ".."), { recursive: true });
      writeFileSync(join(dir, f), "");
    }
    // sources old, outputs newer, the node_modules folder itself newest (just created)
    const old = new Date("2026-01-01T00:00:00Z");
    const built = new Date("2026-02-01T00:00:00Z");
    for (const f of ["policies/p/policy.ts", "src/analysis/a.ts", "src/kubewarden/k.ts", "src/toolchain/glue.ts", "src/toolchain/oci.ts", "src/cli/c.ts", "package-lock.json"]) utimesSync(join(dir, f), old, old);
    for (const f of ["node_modules/.package-lock.json", "dist/p.wasm"]) utimesSync(join(dir, f), built, built);
    return dir;
  }
  const dryRun = (dir: string) => spawnSync("make", ["-n", "build"], { cwd: dir, encoding: "utf8" }).stdout;
  const touch = (dir: string, f: string) => utimesSync(join(dir, f), new Date(), new Date());

  it("does not rebuild when only node_modules, the CLI, tests or the toolchain's runners and registry client changed", () => {
    const dir = tree();
    expect(dryRun(dir)).not.toContain("build policies/p");
    touch(dir, "node_modules"); // vitest writes its cache there (the folder is already newer than dist/)
    touch(dir, "src/cli/c.ts");
    touch(dir, "src/toolchain/oci.ts");
    expect(dryRun(dir)).not.toContain("build policies/p");
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(["policies/p/policy.ts", "src/analysis/a.ts", "src/toolchain/glue.ts", "package-lock.json"])("rebuilds when %s changed", (f) => {
    const dir = tree();
    touch(dir, f);
    expect(dryRun(dir)).toContain("build policies/p --out dist");
    if (f === "package-lock.json") expect(dryRun(dir)).toContain("npm ci");
    rmSync(dir, { recursive: true, force: true });
  });

  it("the fake tree matches the real layout", () => {
    expect(existsSync(join(ROOT, "node_modules", ".package-lock.json"))).toBe(true);
  });
});
