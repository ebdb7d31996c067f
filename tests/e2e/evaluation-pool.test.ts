/**
 * The worker-thread evaluation pool: answers identical to the reference runner,
 * work spread over the threads, a run past its deadline answered as a timeout
 * (the worker is replaced and later runs still work), host-call runs on the
 * calling thread.
 */
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it, vi } from "vitest";
import { EvaluationPool } from "../../src/toolchain/evaluation-pool.js";
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
