/**
 * Cost is linear in the object, measured deterministically: wasmtime fuel counts
 * the wasm instructions an evaluation executes. For each dimension an attacker
 * controls, the cost of an object 4× larger must stay within 4.5× (linear, plus
 * slack for the fixed part shrinking relatively); quadratic growth gives ~16×.
 * Each policy is measured through its built module, as policy-server runs it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runWasmtime } from "../../src/toolchain/wasmtime-runner.js";
import { ROOT, wasmBytes } from "../helpers.js";

const POLICIES = ["reject-loopback-probes", "rewrite-loopback-probes"] as const;
const SMALL = 200;
const LARGE = 800;
const MAX_RATIO = 4.5;
/**
 * Realistic Prometheus containers are ~1 KB each: 300 of them (a 330 KB pod) is
 * as far as the rewrite goes inside its work budget (policies/shared/work-budget.ts),
 * past which it stops and answers without a patch. Same factor of 4.
 */
const SIZES: Record<string, [number, number]> = { containers: [75, 300], script: [30, 120] };

/**
 * Lines of an ordinary entrypoint script. 120 of them (~6.5 KB) stay inside the
 * container's work bound (12 units per character plus the pod's pool), so every
 * size is read in full and has its finding.
 */
const SCRIPT_LINES = [
  "mkdir -p /var/lib/app/dN && chown 1000:1000 /var/lib/app/dN",
  'export OPT_N="--opt-N=${MODE:-x}"',
  'cp /etc/app/defaults.conf /var/lib/app/appN.conf',
  'sed -i "s/PORT/8080/" /var/lib/app/appN.conf',
  "if [ ! -f /var/lib/app/initN ]; then app init --config /var/lib/app/appN.conf; fi",
  '[ -n "${DEBUG:-}" ] && echo "debug N"',
  "helper --id=N >/dev/null 2>&1 &",
];

const probe = (port: number | string) => ({ httpGet: { path: "/healthz", port }, periodSeconds: 10 });
const statefulSet = (containers: unknown[]) => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "cost", namespace: "cost" },
  spec: { serviceName: "cost", template: { metadata: {}, spec: { containers } } },
});

/** The broken Prometheus StatefulSet of test_data: its containers repeated make the realistic large pod. */
const prometheus = JSON.parse(readFileSync(join(ROOT, "policies", "reject-loopback-probes", "test_data", "prometheus-listenlocal-broken.json"), "utf8")).object;

/** One object per dimension and size n; every one has findings, so the reporting and rewriting paths are measured too. */
const DIMENSIONS: Record<string, (n: number) => unknown> = {
  // n containers: the broken Prometheus pod's containers (prometheus, config-reloader, …) repeated, renamed.
  containers: (n) => {
    const object = structuredClone(prometheus);
    const spec = object.spec.template.spec;
    const base = spec.containers as Record<string, unknown>[];
    spec.containers = Array.from({ length: n }, (_, i) => ({ ...structuredClone(base[i % base.length]), name: `c${i}` }));
    return object;
  },
  // n small containers, each bound on loopback and probed there.
  "containers (one flag, one port, one probe each)": (n) =>
    statefulSet(Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: "app", args: [`--listen-address=127.0.0.1:${8000 + (i % 500)}`], ports: [{ name: "http", containerPort: 8000 + (i % 500) }], readinessProbe: probe("http") }))),
  // one container with n arguments (flags of every shape, the listen flag last).
  args: (n) =>
    statefulSet([{ name: "app", image: "app", args: [...Array.from({ length: n - 1 }, (_, i) => (i % 2 ? `--flag-${i}=value-${i}` : `-f${i}`)), "--listen-address=127.0.0.1:8080"], livenessProbe: probe(8080) }]),
  // one container with n environment variables, the bind address coming from one of them.
  env: (n) =>
    statefulSet([{ name: "app", image: "app", env: Array.from({ length: n }, (_, i) => ({ name: `VAR_${i}`, value: i === n - 1 ? "127.0.0.1:8080" : `value-${i}` })), args: [`--listen-address=$(VAR_${n - 1})`], livenessProbe: probe(8080) }]),
  // one container with n named ports, probed by name.
  ports: (n) =>
    statefulSet([{ name: "app", image: "app", args: ["--listen-address=127.0.0.1:9000"], ports: Array.from({ length: n }, (_, i) => ({ name: `p${i}`, containerPort: 9000 + i })), livenessProbe: probe(`p0`), readinessProbe: probe(`p${n - 1}`) }]),
  // one container whose entrypoint script has n lines of the usual kinds, binding loopback last.
  script: (n) =>
    statefulSet([
      {
        name: "app",
        image: "busybox:1.36",
        env: [{ name: "MODE", value: "prod" }],
        command: ["bash", "-euo", "pipefail", "-c", `${Array.from({ length: n }, (_, i) => SCRIPT_LINES[i % SCRIPT_LINES.length]!.replaceAll("N", String(i))).join("\n")}\nexec app --listen-address=127.0.0.1:8080`],
        livenessProbe: probe(8080),
      },
    ]),
  // n/4 containers each running a short script behind wrappers, each binding loopback and probed.
  "scripts (wrappers and shells per container)": (n) =>
    statefulSet(
      Array.from({ length: Math.ceil(n / 4) }, (_, i) => ({
        name: `c${i}`,
        image: "busybox:1.36",
        command: ["tini", "-e", "143", "--", "bash", "-euo", "pipefail", "-c", `export ADDR=127.0.0.1:${7000 + i}\nmkdir -p /data && exec app --listen-address="$ADDR"`],
        livenessProbe: probe(7000 + i),
      })),
    ),
  // n failing probes: n/3 containers with liveness, readiness and startup probes on loopback.
  probes: (n) =>
    statefulSet(Array.from({ length: Math.ceil(n / 3) }, (_, i) => ({ name: `c${i}`, image: "app", args: [`--listen-address=localhost:${7000 + i}`], livenessProbe: probe(7000 + i), readinessProbe: probe(7000 + i), startupProbe: probe(7000 + i) }))),
};

const stdinOf = (object: unknown) =>
  new TextEncoder().encode(
    JSON.stringify({
      request: { uid: "cost", kind: { group: "apps", version: "v1", kind: "StatefulSet" }, resource: { group: "apps", version: "v1", resource: "statefulsets" }, operation: "CREATE", userInfo: { username: "u" }, object },
      settings: {},
    }),
  );

async function fuel(policy: string, object: unknown): Promise<number> {
  const r = await runWasmtime(wasmBytes(policy), "validate", stdinOf(object), { fuel: true });
  expect(r.exitCode, r.stderr).toBe(0);
  const answer = JSON.parse(new TextDecoder().decode(r.stdout)) as { accepted: boolean; mutated_object?: unknown };
  // Every object has findings: rejected by one policy, rewritten by the other.
  expect(policy === "reject-loopback-probes" ? answer.accepted === false : answer.mutated_object !== undefined).toBe(true);
  return r.fuel!;
}

describe.each(POLICIES)("%s: wasm instructions grow linearly", (policy) => {
  it.each(Object.keys(DIMENSIONS))(`%s: fuel(4n) / fuel(n) ≤ ${MAX_RATIO}`, async (dimension) => {
    const make = DIMENSIONS[dimension]!;
    const [n, fourN] = SIZES[dimension] ?? [SMALL, LARGE];
    const small = await fuel(policy, make(n));
    const large = await fuel(policy, make(fourN));
    const ratio = large / small;
    console.info(`linear-cost ${policy} ${dimension}: fuel(${n}) = ${small}, fuel(${fourN}) = ${large}, ratio ${ratio.toFixed(2)}`);
    expect(ratio).toBeLessThanOrEqual(MAX_RATIO);
  });
});
