/**
 * Adversarial shapes (issue 9): many binds per port, many probes, long URL lists,
 * expansion chains, long names, patterns with many `*`. Properties: answers are
 * bounded whatever the shape, the per-port summary agrees with a naive
 * reference, and glob matching agrees with a reference matcher.
 * (Instruction counts under wasmtime are measured by the wasmtime harness.)
 */
import fc from "fast-check";
import type { Container } from "kubernetes-types/core/v1";
import { describe, expect, it } from "vitest";
import { ContainerEnv, MAX_VALUE_LENGTH, newBudget } from "../../src/analysis/env-expansion.js";
import { classifyHost } from "../../src/analysis/host.js";
import { containerListeners } from "../../src/analysis/listeners.js";
import { runningContainers } from "../../src/analysis/probes.js";
import {
  DEFAULT_ANALYSIS_OPTIONS,
  findingRecords,
  findUnreachableProbes,
  matchesName,
  MAX_FINDING_RECORDS,
  MAX_LISTED_BINDS,
  podBinds,
  renderedByPrometheusOperator,
  summarizeFindings,
} from "../../src/analysis/reachability.js";
import { analysisOptions } from "../../policies/shared/settings.js";
import { RUNS, SEED } from "../generators.js";

const params = { numRuns: Math.max(20, Math.floor(RUNS / 5)), seed: SEED };
const sts = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "s", namespace: "ns", ...extra },
  spec: { template: { spec: { containers } } },
});

const hostile = fc.oneof(
  fc.string({ maxLength: 3000 }),
  fc.integer({ min: 1, max: 20_000 }).map((n) => "a".repeat(n)),
  fc.constantFrom("127.0.0.1", "localhost", "0x7f000001", "127.1", "$(X)", "${Y}", "constructor", "__proto__", "toString"),
);

/** Containers that pile binds and probes onto a few ports, with long values and names. */
const adversarialPod = fc
  .record({
    n: fc.integer({ min: 1, max: 120 }),
    ports: fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 3 }),
    name: hostile,
    urlCount: fc.integer({ min: 0, max: 2000 }),
    host: fc.constantFrom("127.0.0.1", "localhost", "[::1]", "127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0.0.0.0", ""),
    chain: fc.integer({ min: 0, max: 60 }),
  })
  .map(({ n, ports, name, urlCount, host, chain }) => {
    const env = [{ name: "V0", value: `${host}` }];
    for (let i = 1; i < chain; i++) env.push({ name: `V${i}`, value: `$(V${i - 1})$(V${i - 1})` });
    return Array.from({ length: n }, (_, i) => {
      const port = ports[i % ports.length]!;
      const args = i % 7 === 3 ? [`--listen-client-urls=${Array.from({ length: urlCount }, () => `http://${host}:${port}`).join(",")}`] : [`--listen-address=${host}:${port}`];
      return {
        name: i === 0 ? name : `c${i}`,
        env: i % 5 === 1 ? env : undefined,
        args: i % 5 === 1 ? [...args, `--http-address=$(V${Math.max(0, chain - 1)}):${port}`] : args,
        readinessProbe: { httpGet: { port, path: "/" } },
        livenessProbe: { tcpSocket: { port } },
      };
    });
  });

describe("bounded answers for adversarial shapes", () => {
  it("messages and audit records stay bounded however many probes and binds", () => {
    fc.assert(
      fc.property(adversarialPod, (containers) => {
        const findings = findUnreachableProbes(sts(containers));
        if (findings.length === 0) return;
        const message = summarizeFindings(findings);
        expect(message.length).toBeLessThanOrEqual(24 * 1024);
        const records = findingRecords(findings);
        expect(records.length).toBeLessThanOrEqual(MAX_FINDING_RECORDS);
        expect(JSON.stringify(records).length).toBeLessThanOrEqual(MAX_FINDING_RECORDS * 2048);
        for (const f of findings) {
          expect(f.listeners.length).toBeLessThanOrEqual(MAX_LISTED_BINDS);
          expect(f.message.length).toBeLessThanOrEqual(1024);
        }
      }),
      params,
    );
  });

  it("the per-port summary agrees with judging every probe against every bind", () => {
    fc.assert(
      fc.property(adversarialPod, fc.boolean(), (containers, hostNetwork) => {
        const object = sts(containers);
        (object.spec.template.spec as Record<string, unknown>).hostNetwork = hostNetwork;
        const spec = object.spec.template.spec as never;
        // The binds as the pod reads them (a container over its work bound has none: judged without them).
        const all = [...podBinds(spec, DEFAULT_ANALYSIS_OPTIONS).byPort.values()].flatMap((b) => b.listeners);
        const expected: string[] = [];
        for (const c of containers)
          for (const kind of ["livenessProbe", "readinessProbe"] as const) {
            const port = kind === "livenessProbe" ? c.livenessProbe.tcpSocket.port : c.readinessProbe.httpGet.port;
            const binds = all.filter((l) => l.port === port);
            if (binds.length > 0 && binds.every((l) => l.hostClass === "loopback")) expected.push(`${c.name}/${kind}`);
          }
        const findings = findUnreachableProbes(object);
        expect(findings.map((f) => `${f.target.container}/${f.target.probeKind}`).sort()).toEqual(expected.sort());
        for (const f of findings) {
          const own = f.listeners.find((l) => l.container === f.target.container);
          if (all.some((l) => l.container === f.target.container && l.port === f.target.port)) expect(own).toBe(f.listeners[0]);
        }
      }),
      params,
    );
  });

  it("expansion never yields a value over the limit and never overdraws much", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("A", "B", "C", "D"), fc.array(fc.constantFrom("$(A)", "$(B)", "$(C)", "$(D)", "x".repeat(1000), "$$", "$(", ")"), { maxLength: 8 })), {
          maxLength: 40,
        }),
        (defs) => {
          const budget = newBudget(1 << 20);
          const env = new ContainerEnv({ name: "x", env: defs.map(([name, parts]) => ({ name, value: parts.join("") })) } as Container, budget);
          for (const name of ["A", "B", "C", "D"]) {
            const v = env.get(name);
            if (v !== undefined) expect(v.length).toBeLessThanOrEqual(MAX_VALUE_LENGTH);
          }
          expect(budget.remaining).toBeGreaterThanOrEqual(0);
        },
      ),
      params,
    );
  });
});

/** A reference glob matcher by dynamic programming (quadratic, fine for small inputs). */
function globReference(pattern: string, name: string): boolean {
  const m = pattern.length;
  const n = name.length;
  let row = new Array<boolean>(n + 1).fill(false);
  row[0] = true;
  for (let i = 1; i <= m; i++) {
    const next = new Array<boolean>(n + 1).fill(false);
    const p = pattern[i - 1];
    next[0] = row[0]! && p === "*";
    for (let j = 1; j <= n; j++) next[j] = p === "*" ? next[j - 1]! || row[j]! : row[j - 1]! && p === name[j - 1];
    row = next;
  }
  return row[n]!;
}

describe("glob matching", () => {
  it("agrees with a reference matcher", () => {
    const alphabet = fc.constantFrom("a", "b", "*", ".", "-");
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 10 }), fc.string({ unit: fc.constantFrom("a", "b", ".", "-"), maxLength: 12 }), (pattern, name) => {
        expect(matchesName(pattern, name)).toBe(globReference(pattern, name));
      }),
      { ...params, numRuns: params.numRuns * 10 },
    );
  });
  it("handles the ReDoS shapes in one pass", () => {
    expect(matchesName("*a*a*a*b", "a".repeat(60_000))).toBe(false);
    expect(matchesName("*config*reloader*", "c".repeat(60_000))).toBe(false);
    expect(matchesName(`${"*a".repeat(200)}*`, "a".repeat(60_000))).toBe(true);
  });
});

describe("no prototype lookups on input keys", () => {
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])("%s as a scheme, env name, label or container name", (key) => {
    const containers = [
      { name: key, args: [`--listen-client-urls=${key}://127.0.0.1`], env: [{ name: key, value: "1" }], livenessProbe: { httpGet: { port: key } } },
      { name: "b", args: [`--listen-address=$(${key})`], readinessProbe: { tcpSocket: { port: 80 } } },
    ];
    const findings = findUnreachableProbes(sts(containers, { labels: JSON.parse(`{"${key}": "x"}`) as unknown }));
    expect(findings.map((f) => f.reason)).toEqual(["unresolvable-port-name"]);
    expect(renderedByPrometheusOperator({ metadata: { labels: {}, ownerReferences: [{ apiVersion: key, kind: key }] } })).toBe(false);
  });
});

describe("prometheus-operator advice", () => {
  const broken = [{ name: "config-reloader", args: ["--listen-address=127.0.0.1:8080"], livenessProbe: { httpGet: { port: 8080 } } }];
  it.each([
    ["an owner reference to a Prometheus", { ownerReferences: [{ apiVersion: "monitoring.coreos.com/v1", kind: "Prometheus", name: "k8s" }] }],
    ["an owner reference to a PrometheusAgent", { ownerReferences: [{ apiVersion: "monitoring.coreos.com/v1alpha1", kind: "PrometheusAgent", name: "a" }] }],
    ["an owner reference to an Alertmanager", { ownerReferences: [{ apiVersion: "monitoring.coreos.com/v1", kind: "Alertmanager", name: "a" }] }],
    ["an owner reference to a ThanosRuler", { ownerReferences: [{ apiVersion: "monitoring.coreos.com/v1", kind: "ThanosRuler", name: "a" }] }],
    ["the managed-by label", { labels: { "app.kubernetes.io/managed-by": "prometheus-operator" } }],
  ])("%s → upgrade advice, said once", (_label, meta) => {
    const findings = findUnreachableProbes(sts([...broken, { ...broken[0], name: "second" }], meta));
    expect(findings).toHaveLength(2);
    const message = summarizeFindings(findings);
    expect(message.match(/upgrade prometheus-operator to v0\.75\.0 or later/g)).toHaveLength(1);
    expect(message.match(/^Fix: /gm)).toHaveLength(1);
    expect(message.split("\n").filter((l) => l.startsWith("- "))).toHaveLength(2);
  });
  it.each([
    ["no owner", {}],
    ["another owner", { ownerReferences: [{ apiVersion: "apps/v1", kind: "Prometheus", name: "x" }] }],
    ["another manager", { labels: { "app.kubernetes.io/managed-by": "Helm" } }],
  ])("%s → no advice", (_label, meta) => {
    expect(summarizeFindings(findUnreachableProbes(sts(broken, meta)))).not.toContain("prometheus-operator");
  });
});

describe("settings", () => {
  it("default settings reuse the built-in options (and so the flag index built before the snapshot)", () => {
    expect(analysisOptions({})).toBe(DEFAULT_ANALYSIS_OPTIONS);
    expect(analysisOptions({ extraListenFlags: [], includeContainers: [] })).toBe(DEFAULT_ANALYSIS_OPTIONS);
    const custom = analysisOptions({ extraListenFlags: [{ name: "--admin-address" }] });
    expect(custom.flags.map((f) => f.name)).toContain("admin-address");
    expect(custom.envVars).toBe(DEFAULT_ANALYSIS_OPTIONS.envVars);
  });
  it("inet_aton forms of any address classify like the address", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const expected = v >>> 24 === 127 ? "loopback" : v === 0 ? "all-interfaces" : "other";
        const o = [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
        for (const form of [String(v), `0x${v.toString(16)}`, `${o[0]}.${(v & 0xffffff) >>> 0}`, o.map((x) => `0${x.toString(8)}`).join("."), o.join(".")])
          expect(classifyHost(form)).toBe(expected);
      }),
      params,
    );
  });
});
