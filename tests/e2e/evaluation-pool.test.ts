/**
 * The worker-thread evaluation pool: answers identical to the reference runner,
 * work spread over the threads, a run past its deadline answered as a timeout
 * (the worker is replaced and later runs still work), host-call runs on the
 * calling thread.
 */
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it, vi } from "vitest";
import { AuditQueue, BACKLOG_WORTH_MORE_THREADS, evaluationThreadsWhileReading } from "../../src/audit/evaluate.js";
import type { ManifestObject } from "../../src/audit/read.js";
import { EvaluationPool } from "../../src/toolchain/evaluation-pool.js";
import { loadPolicy } from "../../src/toolchain/evaluate.js";
import { compileModule, runWasi } from "../../src/toolchain/wasi-runner.js";
import { podRequest, wasmBytes } from "../helpers.js";

const decoder = new TextDecoder();
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const PROBE = "protocol-probe";

describe("evaluation pool", () => {
  const pool = new EvaluationPool({ reject: wasmBytes("reject-loopback-probes"), probe: wasmBytes(PROBE) }, { threads: 2, timeoutMs: 3000 });
  afterAll(() => pool.close());

  it("answers as fresh node:wasi instances do, for many concurrent runs", async () => {
    const fresh = await compileModule(wasmBytes("reject-loopback-probes"));
    const requests = Array.from({ length: 40 }, (_, i) =>
      encode({
        request: podRequest({ kind: "Pod", metadata: { name: `p${i}` }, spec: { containers: [{ name: "c", args: [`--listen-address=${i % 2 ? "127.0.0.1" : "0.0.0.0"}:80`], livenessProbe: { tcpSocket: { port: 80 } } }] } }),
        settings: {},
      }),
    );
    const pooled = await Promise.all(requests.map((stdin) => pool.run({ module: "reject", action: "validate", stdin })));
    for (const [i, stdin] of requests.entries()) {
      const expected = await runWasi(fresh, "validate", stdin);
      expect(decoder.decode(pooled[i]!.stdout)).toBe(decoder.decode(expected.stdout));
    }
    expect(pooled.filter((r) => decoder.decode(r.stdout).includes('"accepted":false'))).toHaveLength(20);
    expect(pooled.some((r) => r.reused)).toBe(true);
  });

  it("sends jobs to a worker in batches, each job once (a message costs the sending thread the same whatever it carries)", async () => {
    const sent = vi.spyOn(Worker.prototype, "postMessage");
    const batched = new EvaluationPool({ reject: wasmBytes("reject-loopback-probes") }, { threads: 2 });
    try {
      const requests = Array.from({ length: 200 }, (_, i) => encode({ request: podRequest({ kind: "Pod", metadata: { name: `p${i}` }, spec: { containers: [{ name: "c" }] } }), settings: {} }));
      const answers = await Promise.all(requests.map((stdin) => batched.run({ module: "reject", action: "validate", stdin })));
      expect(answers.map((r) => decoder.decode(r.stdout))).toEqual(requests.map(() => '{"accepted":true}'));
      const batches = sent.mock.calls.map(([message]) => message as { stdin: Uint8Array }[]);
      // Every job in exactly one message.
      expect(batches.flat().map((job) => job.stdin)).toEqual(expect.arrayContaining(requests));
      expect(batches.flat()).toHaveLength(requests.length);
      // One message per job was 200; a worker is refilled only when it runs low (below 16), up to its
      // depth (64): 8 would take at least 25 messages.
      expect(batches.length).toBeLessThanOrEqual(12);
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(64);
    } finally {
      sent.mockRestore();
      await batched.close();
    }
  });

  it("answers a run past its deadline as a timeout and keeps serving", async () => {
    const spin = await pool.run({ module: "probe", action: "validate", stdin: encode({ request: podRequest({}), settings: { mode: "spin" } }) });
    expect(spin.timedOut).toBe(true);
    expect(spin.exitCode).toBeNull();
    const after = await pool.run({ module: "probe", action: "validate", stdin: encode({ request: podRequest({ metadata: { name: "after" } }), settings: {} }) });
    expect(decoder.decode(after.stdout)).toContain("name=after");
  });

  it("runs queued behind a run past its deadline are run by the next worker, not lost or timed out", async () => {
    // One worker: the spin and the runs after it all go to it (they wait in its port).
    const single = new EvaluationPool({ probe: wasmBytes(PROBE) }, { threads: 1, timeoutMs: 3000 });
    try {
      const runs = [
        single.run({ module: "probe", action: "validate", stdin: encode({ request: podRequest({}), settings: { mode: "spin" } }) }),
        ...["a", "b", "c", "d"].map((name) => single.run({ module: "probe", action: "validate", stdin: encode({ request: podRequest({ metadata: { name } }), settings: {} }) })),
      ];
      const [spin, ...after] = await Promise.all(runs);
      expect(spin!.timedOut).toBe(true);
      expect(after.map((r) => [r.timedOut ?? false, decoder.decode(r.stdout).match(/name=(\w)/)?.[1]])).toEqual([
        [false, "a"],
        [false, "b"],
        [false, "c"],
        [false, "d"],
      ]);
    } finally {
      await single.close();
    }
  });

  it("runs host-call evaluations on the calling thread with the handler", async () => {
    const r = await pool.runLocal({ module: "probe", action: "validate", stdin: encode({ request: podRequest({}), settings: {} }) }, { hostCall: () => ({ ok: false, error: "no" }) });
    expect(decoder.decode(r.stdout)).toContain('"accepted":true');
  });
});

describe("evaluation threads while the main thread reads, and after", () => {
  const pods = (n: number): ManifestObject[] =>
    Array.from({ length: n }, (_, i) => ({
      file: "pods.yaml",
      documentIndex: i,
      itemIndex: null,
      line: 1 + i * 8,
      object: { apiVersion: "v1", kind: "Pod", metadata: { name: `p${i}`, namespace: "ns" }, spec: { containers: [{ name: "c", args: [`--listen-address=${i % 2 ? "127.0.0.1" : "0.0.0.0"}:80`], livenessProbe: { tcpSocket: { port: 80 } } }] } },
      locate: () => null,
    }));

  it("one core is left to the reading: on 2 cores one evaluation thread while the main thread reads, all of them when threads read", () => {
    expect(evaluationThreadsWhileReading(0, 2)).toBe(1);
    expect(evaluationThreadsWhileReading(0, 1)).toBe(1);
    expect(evaluationThreadsWhileReading(0, 8)).toBe(7);
    expect(evaluationThreadsWhileReading(3, 4)).toBeUndefined();
  });

  it("a pool started with fewer threads starts no other until it grows, then starts them as jobs wait", async () => {
    const grown = new EvaluationPool({ reject: wasmBytes("reject-loopback-probes") }, { threads: 2, startThreads: 1 });
    try {
      const run = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => grown.run({ module: "reject", action: "validate", stdin: encode({ request: podRequest({ metadata: { name: `p${i}` } }), settings: {} }) })));
      await run(300);
      expect(grown.started).toBe(1);
      grown.grow();
      await run(300);
      expect(grown.started).toBe(2);
    } finally {
      await grown.close();
    }
  });

  it("objects no policy selects are answered without a lane or a thread: none starts, and they are done at once", async () => {
    const policy = await loadPolicy(wasmBytes("reject-loopback-probes"));
    const pool = new EvaluationPool({ "reject-loopback-probes": policy.bytes }, { threads: 2, startThreads: 1 });
    try {
      const queue = new AuditQueue({ pool, validators: [{ name: "reject-loopback-probes", policy, settings: {} }], namespace: "default" });
      const configMaps = pods(1000).map((o) => ({ ...o, object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: String(o.object.metadata && (o.object.metadata as { name: string }).name) }, data: {} } }));
      queue.add(configMaps);
      expect(queue.pending).toBe(0);
      const results = await queue.results(configMaps);
      expect(results.map((r) => r.skipReason)).toEqual(configMaps.map(() => "not-selected"));
      expect(pool.started).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it.each([
    ["a backlog past the bound gets the other threads", BACKLOG_WORTH_MORE_THREADS + 100, 2],
    ["a small one does not", 40, 1],
  ])("when the reading ends, %s", async (_label, objects, threads) => {
    const policy = await loadPolicy(wasmBytes("reject-loopback-probes"));
    const pool = new EvaluationPool({ "reject-loopback-probes": policy.bytes }, { threads: 2, startThreads: 1 });
    try {
      const queue = new AuditQueue({ pool, validators: [{ name: "reject-loopback-probes", policy, settings: {} }], namespace: "default" });
      const all = pods(objects);
      queue.add(all);
      expect(queue.pending).toBe(objects);
      queue.readingEnded();
      const results = await queue.results(all);
      expect(results.filter((r) => r.status === "fail")).toHaveLength(Math.floor(objects / 2));
      expect(queue.pending).toBe(0); // counted without an onProgress callback too
      expect(pool.started).toBe(threads);
    } finally {
      await pool.close();
    }
  });
});
