/**
 * Vitest global setup, first step: everything outside npm the suite needs is
 * there, or the run stops before any test with the exact commands to run
 * (instead of failing half-way, minutes in). `bash .ci/run` installs all of it.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { missingUpstreamFiles, upstreamDirs } from "../support/upstream.js";

const ROOT = join(import.meta.dirname, "..", "..");
/** The real engine policy-server embeds, as a Python venv (see README: Tests). */
export const WASMTIME_PYTHON = join(ROOT, ".cache", "wasmtime", "bin", "python");
export const WASMTIME_VERSION = "49.0.0";

const onPath = (binary: string) => (process.env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, binary)));

/** What is missing, each with the command that installs it. */
export function missingPrerequisites(): { what: string; command: string }[] {
  const missing: { what: string; command: string }[] = [];
  // Debian packages: the CNCF distribution registry for the OCI tests (its htpasswd file is a fixed bcrypt entry),
  // and openssl, the signature tests' independent verifier.
  const apt = [
    ["docker-registry", "docker-registry"],
    ["openssl", "openssl"],
  ].filter(([binary]) => !onPath(binary!));
  if (apt.length > 0)
    missing.push({
      what: `${apt.map(([b]) => b).join(", ")} (OCI registry and signature tests)`,
      command: `apt-get install -y --no-install-recommends ${apt.map(([, p]) => p).join(" ")}   # as root`,
    });
  const venv = `python3 -m venv .cache/wasmtime && .cache/wasmtime/bin/pip install wasmtime==${WASMTIME_VERSION}`;
  if (!existsSync(WASMTIME_PYTHON)) missing.push({ what: "the wasmtime venv (.cache/wasmtime)", command: venv });
  else {
    const r = spawnSync(WASMTIME_PYTHON, ["-c", "import importlib.metadata as m; print(m.version('wasmtime'))"], { encoding: "utf8" });
    const found = r.status === 0 ? r.stdout.trim() : "not installed";
    if (found !== WASMTIME_VERSION) missing.push({ what: `wasmtime ${WASMTIME_VERSION} in .cache/wasmtime (found: ${found})`, command: `.cache/wasmtime/bin/pip install wasmtime==${WASMTIME_VERSION}` });
  }
  return missing;
}

/**
 * Upstream CRDs at named commits (tests/support/upstream.ts): data from other
 * repositories, kept out of this one and unreachable from CI's network. Without
 * them the few schema checks against them do not run, and the run says so first.
 */
function reportMissingUpstreamData(): void {
  const upstream = missingUpstreamFiles();
  if (upstream.length === 0) return;
  console.warn(
    `NOTE: ${upstream.length} upstream CRD file(s) missing (e.g. ${upstream[0]}; looked in ${upstreamDirs().join(", ")}): ` +
      "the checks of deploy/ and the OpenReports against the upstream CRD schemas will not run. " +
      "Provide them with: npm run upstream-data -- --from DIR   # DIR: fetched snapshots, <owner>+<name>/repo each",
  );
}

export default function setup(): void {
  reportMissingUpstreamData();
  const missing = missingPrerequisites();
  if (missing.length === 0) return;
  throw new Error(
    [
      "the test suite needs what is missing below; run these commands (or `bash .ci/run`, which does it all) and start again:",
      ...missing.map((m) => `  - ${m.what}:\n      ${m.command}`),
    ].join("\n"),
  );
}
