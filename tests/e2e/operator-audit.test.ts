/**
 * The README's CI example, run as written (minus `helm template`, replaced by a
 * render-like stream: CRs + the prometheus-operator Deployment in one file), and
 * `run --context` / `--replay-host-capabilities-interactions` as a user types them.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli, wasmPath } from "../helpers.js";

const RENDER = readFileSync(join(ROOT, "tests", "fixtures", "operator-render", "render.yaml"), "utf8");
const FLAGGED = ["Prometheus/monitoring/monitoring-prometheus", "Alertmanager/monitoring/monitoring-alertmanager", "ThanosRuler/monitoring/monitoring-thanos-ruler", "PrometheusAgent/monitoring/monitoring-agent"];

/** The shell lines of the README's "Render and audit" step, without the helm line. */
function readmeAuditCommands(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```yaml\n(# \.github\/workflows\/loopback-probes\.yml[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README has no CI workflow block");
  const workflow = parse(block) as { jobs: { audit: { steps: { name?: string; run?: string }[] } } };
  const step = workflow.jobs.audit.steps.find((s) => s.name === "Render and audit");
  if (!step?.run) throw new Error('README workflow has no "Render and audit" step');
  return step.run
    .split("\n")
    .filter((l) => !l.startsWith("helm template"))
    .join("\n");
}

let bundle: string;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "lpp-ci-"));
  // What `make build` leaves in /tmp/lpp/dist: the built modules of the bundle.
  bundle = join(work, "lpp", "dist");
  mkdirSync(bundle, { recursive: true });
  for (const name of ["reject-loopback-probes", "rewrite-loopback-probes", "reject-listenlocal-reloader-probes"]) copyFileSync(wasmPath(name), join(bundle, `${name}.wasm`));
});

function runReadmeExample(render: string): { code: number | null; sarif: { runs: { results: { ruleId: string; message: { text: string }; locations: unknown[] }[] }[] }; stderr: string } {
  const dir = mkdtempSync(join(work, "job-"));
  writeFileSync(join(dir, "rendered.yaml"), render);
  // The README installs the package; here the checkout's CLI stands in, with the test build as its bundle.
  const script = readmeAuditCommands().replace(/^loopback-probes audit /m, `node ${join(ROOT, "bin", "loopback-probes.js")} audit --bundle ${bundle} `);
  // GitHub runs `run:` steps with bash -e.
  const r = spawnSync("bash", ["-e", "-c", script], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, sarif: JSON.parse(readFileSync(join(dir, "loopback-probes.sarif"), "utf8")), stderr: r.stderr };
}

describe("the README CI example on a chart-like render", () => {
  it("the README's audit step uses the whole bundle (no --policy)", () => {
    const commands = readmeAuditCommands();
    expect(commands).toContain("loopback-probes audit rendered.yaml");
    expect(commands).not.toContain("--policy");
  });

  it("operator v0.74.0 with --enable-config-reloader-probes=true: each listenLocal CR is flagged, the step fails", () => {
    const { code, sarif, stderr } = runReadmeExample(RENDER);
    expect(code, stderr).toBe(1);
    const texts = sarif.runs[0]!.results.map((r) => r.message.text);
    expect(texts).toHaveLength(4);
    for (const [i, object] of FLAGGED.entries()) {
      const [kind, ns, name] = object.split("/");
      expect(texts[i]).toContain(`${kind} ${ns}/${name} sets spec.listenLocal: true, and prometheus-operator monitoring/monitoring-operator (v0.74.0, --enable-config-reloader-probes=true)`);
    }
  });

  it.each([
    ["operator v0.75.0", RENDER.replace("prometheus-operator:v0.74.0", "prometheus-operator:v0.75.0")],
    ["no probes flag", RENDER.replace("            - --enable-config-reloader-probes=true\n", "")],
    ["probes flag =false", RENDER.replace("--enable-config-reloader-probes=true", "--enable-config-reloader-probes=false")],
    ["no operator in the render", RENDER.replace(/# Source: monitoring\/templates\/prometheus-operator\/deployment\.yaml[\s\S]*?---\n/, "")],
  ])("%s: nothing is flagged, the step passes", (_label, render) => {
    expect(render).not.toBe(RENDER);
    const { code, sarif, stderr } = runReadmeExample(render);
    expect(code, stderr).toBe(0);
    expect(sarif.runs[0]!.results).toEqual([]);
  });

  it("--context supplies an operator the render does not contain", () => {
    const dir = mkdtempSync(join(work, "ctx-"));
    const docs = RENDER.split("\n---\n");
    const operatorDoc = docs.find((d) => d.includes("kind: Deployment"))!;
    writeFileSync(join(dir, "crs.yaml"), docs.filter((d) => d !== operatorDoc).join("\n---\n"));
    writeFileSync(join(dir, "cluster.yaml"), operatorDoc);
    const without = runCli(["audit", join(dir, "crs.yaml"), "--bundle", bundle, "--format", "json"]);
    expect(without.code, without.stderr).toBe(0);
    const withContext = runCli(["audit", join(dir, "crs.yaml"), "--bundle", bundle, "--context", join(dir, "cluster.yaml"), "--format", "json"]);
    expect(withContext.code, withContext.stderr).toBe(1);
  });

  it("no operator in the render: each listenLocal CR is warned about (never a silent pass), nothing is flagged", () => {
    const dir = mkdtempSync(join(work, "none-"));
    writeFileSync(join(dir, "r.yaml"), RENDER.replace(/# Source: monitoring\/templates\/prometheus-operator\/deployment\.yaml[\s\S]*?---\n/, ""));
    const r = runCli(["audit", join(dir, "r.yaml"), "--bundle", bundle]);
    expect(r.code, r.stderr).toBe(0);
    // In the table, as `run` shows them in its answer (and counted in its summary).
    const warnings = r.stdout.match(/warning: .*reject-listenlocal-reloader-probes: .*no prometheus-operator that reconciles it was found where the policy looks for one \(trustedOperators: monitoring, /g);
    expect(warnings).toHaveLength(4);
    expect(r.stdout).toContain("4 policy warnings");
  });

  it("the operator rendered into a namespace the policy does not trust (helm template without --namespace): warned, not flagged; trusting it flags", () => {
    const dir = mkdtempSync(join(work, "default-ns-"));
    writeFileSync(join(dir, "r.yaml"), RENDER.replaceAll("namespace: monitoring", "namespace: default"));
    const untrusted = runCli(["audit", join(dir, "r.yaml"), "--bundle", bundle, "--format", "json"]);
    expect(untrusted.code, untrusted.stderr).toBe(0);
    expect(untrusted.stderr.match(/no prometheus-operator that reconciles it was found/g)).toHaveLength(4);
    const trusted = runCli(["audit", join(dir, "r.yaml"), "--bundle", bundle, "--format", "json", "--settings-json", JSON.stringify({ "reject-listenlocal-reloader-probes": { trustedOperators: ["default"] } })]);
    expect(trusted.code, trusted.stderr).toBe(1);
    expect(trusted.stdout).toContain("prometheus-operator default/monitoring-operator (v0.74.0, --enable-config-reloader-probes=true)");
  });

  it("a tenant's look-alike operator beside a fixed one neither flags nor warns", () => {
    const dir = mkdtempSync(join(work, "tenant-"));
    writeFileSync(join(dir, "r.yaml"), RENDER.replace("prometheus-operator:v0.74.0", "prometheus-operator:v0.76.0"));
    const lookAlike = RENDER.split("\n---\n").find((d) => d.includes("kind: Deployment"))!.replace("namespace: monitoring", "namespace: team-a");
    writeFileSync(join(dir, "tenant.yaml"), lookAlike);
    expect(lookAlike).toContain("prometheus-operator:v0.74.0");
    const r = runCli(["audit", join(dir, "r.yaml"), "--bundle", bundle, "--context", join(dir, "tenant.yaml"), "--format", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("reject-listenlocal-reloader-probes");
    expect(r.stdout).not.toContain("team-a");
  });

  it("per-policy settings: warn instead of reject passes the audit and prints the warning", () => {
    const dir = mkdtempSync(join(work, "warn-"));
    writeFileSync(join(dir, "r.yaml"), RENDER);
    const r = runCli(["audit", join(dir, "r.yaml"), "--bundle", bundle, "--settings-json", JSON.stringify({ "reject-listenlocal-reloader-probes": { action: "warn" } })]);
    expect(r.code, r.stderr).toBe(0);
    // The policy's warnings are in the report (the table), as `run` shows them.
    expect(r.stdout.match(/warning: .*reject-listenlocal-reloader-probes: /g)).toHaveLength(4);
    expect(r.stdout).toContain("4 policy warnings");
  });
});

describe("run with host capabilities", () => {
  const module = () => join(bundle, "reject-listenlocal-reloader-probes.wasm");
  const data = join(ROOT, "policies", "reject-listenlocal-reloader-probes", "test_data");
  const operatorFile = () => {
    const f = join(work, "operator.yaml");
    writeFileSync(f, RENDER.split("\n---\n").find((d) => d.includes("kind: Deployment"))!);
    return f;
  };

  it("--context of an affected operator rejects the CR with the message", () => {
    const r = runCli(["run", module(), "-r", join(data, "alertmanager-listenlocal.json"), "--context", operatorFile()]);
    expect(r.code, r.stderr).toBe(0);
    const response = JSON.parse(r.stdout);
    expect(response.allowed).toBe(false);
    expect(response.status.message).toContain("Alertmanager monitoring/main sets spec.listenLocal: true, and prometheus-operator monitoring/monitoring-operator (v0.74.0");
    expect(response.status.message).toContain("upgrade prometheus-operator to v0.75.0 or later");
  });

  it("--settings-json action warn accepts with the message as a warning", () => {
    const r = runCli(["run", module(), "-r", join(data, "alertmanager-listenlocal.json"), "--context", operatorFile(), "--settings-json", '{"action":"warn"}']);
    const response = JSON.parse(r.stdout);
    expect(response.allowed).toBe(true);
    expect(response.warnings[0]).toContain("restarts in a loop");
  });

  it("--replay-host-capabilities-interactions replays a kwctl session", () => {
    const r = runCli(["run", module(), "-r", join(data, "prometheus-listenlocal.json"), "--replay-host-capabilities-interactions", join(data, "sessions", "operator-v0.74.0-probes.yml")]);
    expect(JSON.parse(r.stdout).allowed).toBe(false);
    expect(r.stderr).not.toContain("not replayed");
  });

  it("--context answers namespace-scoped lists: objects without a namespace land in default, outside the trusted namespaces", () => {
    const f = join(work, "operator-no-namespace.yaml");
    writeFileSync(f, readFileSync(operatorFile(), "utf8").replace(/\n\s*namespace: monitoring/, ""));
    const r = runCli(["run", module(), "-r", join(data, "alertmanager-listenlocal.json"), "--context", f]);
    const response = JSON.parse(r.stdout);
    expect(response.allowed).toBe(true);
    expect(response.warnings[0]).toContain("no prometheus-operator that reconciles it was found");
    const trusted = runCli(["run", module(), "-r", join(data, "alertmanager-listenlocal.json"), "--context", f, "--settings-json", '{"trustedOperators":["default"]}']);
    expect(JSON.parse(trusted.stdout).status.message).toContain("prometheus-operator default/monitoring-operator (v0.74.0");
  });

  it("--replay-host-capabilities-interactions replays per-namespace lists (OpenShift's two operators)", () => {
    const request = JSON.parse(readFileSync(join(data, "prometheus-listenlocal.json"), "utf8"));
    request.namespace = request.object.metadata.namespace = "openshift-monitoring";
    request.object.metadata.annotations = { "operator.prometheus.io/controller-id": "openshift-monitoring/prometheus-operator" };
    const req = join(work, "openshift-request.json");
    writeFileSync(req, JSON.stringify(request));
    const r = runCli(["run", module(), "-r", req, "--replay-host-capabilities-interactions", join(data, "sessions", "openshift.yml")]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).status.message).toContain("prometheus-operator openshift-monitoring/prometheus-operator (v0.73.2 from its label app.kubernetes.io/version: 0.73.2");
    expect(r.stderr).not.toContain("not replayed");
    // A session recorded with other settings no longer matches: kwctl's "unexpected request", as a warning.
    const mismatch = runCli(["run", module(), "-r", req, "--replay-host-capabilities-interactions", join(data, "sessions", "openshift.yml"), "--settings-json", '{"trustedOperators":["cattle-monitoring-system"]}']);
    expect(JSON.parse(mismatch.stdout).warnings[0]).toContain("Replay error: unexpected request");
  });

  it("bad usage: both sources, an unreadable session, a malformed context file", () => {
    const req = join(data, "prometheus-listenlocal.json");
    const both = runCli(["run", module(), "-r", req, "--context", operatorFile(), "--replay-host-capabilities-interactions", join(data, "sessions", "no-operator.yml")]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("not both");
    const missing = runCli(["run", module(), "-r", req, "--replay-host-capabilities-interactions", join(work, "nope.yml")]);
    expect(missing.code).toBe(2);
    const badSession = join(work, "bad-session.yml");
    writeFileSync(badSession, "- type: Exchange\n  request: 'no tag'\n  response: {type: Success, payload: x}\n");
    const bad = runCli(["run", module(), "-r", req, "--replay-host-capabilities-interactions", badSession]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("must start with a tag");
    const badContext = join(work, "bad-context.yaml");
    writeFileSync(badContext, "just: [unclosed\n");
    const ctx = runCli(["run", module(), "-r", req, "--context", badContext]);
    expect(ctx.code).toBe(2);
    expect(ctx.stderr).toContain("--context");
  });
});
