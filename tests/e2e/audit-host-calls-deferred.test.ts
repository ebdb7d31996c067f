/**
 * A context-aware policy's runs are tried on the evaluation threads while the
 * objects that answer its host calls are still being read, with host calls
 * deferred (src/audit/evaluate.ts poolRunner): a run that never calls the host
 * is answered then and there; one that does is stopped at its first call and
 * run again on the calling thread, with the handler, once the world is
 * complete. The answers are the ones the reference evaluation gives (no pool,
 * every run after the world is complete), through the built modules.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AuditQueue, type AuditResult, auditObjects } from "../../src/audit/evaluate.js";
import { auditPolicies, type BundledPolicy } from "../../src/audit/policies.js";
import { readManifests } from "../../src/audit/read.js";
import { EvaluationPool } from "../../src/toolchain/evaluation-pool.js";
import { loadPolicy } from "../../src/toolchain/evaluate.js";
import { KubernetesObjects } from "../../src/toolchain/kubernetes-context.js";
import { podRequest, ROOT, wasmBytes, wasmPath } from "../helpers.js";

const decoder = new TextDecoder();
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const LIST_DEPLOYMENTS = { binding: "kubewarden", namespace: "kubernetes", operation: "list_resources_by_namespace", payload: '{"api_version":"apps/v1","kind":"Deployment","namespace":"monitoring"}' };

/** Whether `promise` has settled (after the reactions already due have run). */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe("a pooled run with host calls deferred", () => {
  const pool = new EvaluationPool({ probe: wasmBytes("host-call-probe") }, { threads: 1 });
  afterAll(() => pool.close());
  const stdin = (calls: unknown[]) => encode({ request: podRequest({}), settings: { calls } });

  it("stops at the first host call with no answer, and the thread's next run answers as a fresh instance would", async () => {
    const stopped = await pool.run({ module: "probe", action: "validate", stdin: stdin([LIST_DEPLOYMENTS]), deferHostCalls: true });
    expect(stopped.deferred).toBe(true);
    expect(stopped.exitCode).toBeNull();
    expect(stopped.stdout).toHaveLength(0);
    // Without deferring, the worker refuses the call (it has no handler): an answer, not a stop.
    const refused = await pool.run({ module: "probe", action: "validate", stdin: stdin([LIST_DEPLOYMENTS]) });
    expect(refused.deferred).toBeUndefined();
    expect(decoder.decode(refused.stdout)).toContain('"accepted":true');
    const local = await pool.runLocal({ module: "probe", action: "validate", stdin: stdin([LIST_DEPLOYMENTS]) });
    expect(decoder.decode(refused.stdout)).toBe(decoder.decode(local.stdout));
  });

  it("a run that never calls the host answers as it does with a handler", async () => {
    const tried = await pool.run({ module: "probe", action: "validate", stdin: stdin([]), deferHostCalls: true });
    expect(tried.deferred).toBeUndefined();
    const withHandler = await pool.runLocal({ module: "probe", action: "validate", stdin: stdin([]) }, { hostCall: () => ({ ok: true, response: encode({ items: [] }) }) });
    expect(tried.exitCode).toBe(0);
    expect(decoder.decode(tried.stdout)).toBe(decoder.decode(withHandler.stdout));
  });
});

describe("an audit's context-aware runs while the world is still being read", async () => {
  const name = "reject-listenlocal-reloader-probes";
  const policy = await loadPolicy(new Uint8Array(readFileSync(wasmPath(name))));
  const bundle: BundledPolicy[] = [{ name, file: wasmPath(name), policy }];
  // The operator render's CRs: those whose run asks the host for the operator's Deployment, and those whose run does not.
  const manifests = readManifests([join(ROOT, "tests", "fixtures", "operator-render", "render.yaml")]);
  const crs = manifests.objects.filter((o) => String(o.object.apiVersion).startsWith("monitoring.coreos.com/"));

  it("answers the runs that never call the host before the world is complete, the others after it, as the reference does", async () => {
    // The reference: no pool, each run with the complete world; which runs call the host, counted object by object.
    const validator = auditPolicies(bundle, {}, manifests.objects.map((o) => o.object))[0]!;
    const handler = validator.hostCall!;
    let calls = 0;
    const counting: typeof validator = { ...validator, hostCall: (call) => (calls++, handler(call)) };
    const reference: AuditResult[] = [];
    const asking: typeof crs = [];
    for (const cr of crs) {
      const before = calls;
      reference.push(...(await auditObjects([cr], { validators: [counting], namespace: "default" })));
      if (calls > before) asking.push(cr);
    }
    const notAsking = crs.filter((o) => !asking.includes(o));
    expect(asking.length).toBeGreaterThanOrEqual(4);
    expect(notAsking.length).toBeGreaterThanOrEqual(2);
    expect(reference.filter((r) => r.status === "fail").length).toBeGreaterThanOrEqual(4);

    const pool = new EvaluationPool({ [name]: policy.bytes }, { threads: 2 });
    try {
      const world = new KubernetesObjects([]);
      let complete!: () => void;
      const queue = new AuditQueue({ pool, validators: auditPolicies(bundle, {}, world), namespace: "default", hostCallsReady: new Promise<void>((resolve) => (complete = resolve)) });
      queue.add(crs);
      const early = queue.results(notAsking);
      const late = queue.results(asking);
      // Those that never call the host are answered while the world is still empty and not
      // complete (were they waiting for it, this would wait for ever: the test's timeout).
      expect(await early).toHaveLength(notAsking.length);
      expect(await hasSettled(late)).toBe(false);
      world.add(manifests.objects.map((o) => o.object));
      complete();
      const results = await queue.results(crs);
      const strip = (r: AuditResult) => ({ ...r, manifest: `${String(r.manifest.object.kind)}/${r.manifest.documentIndex}` });
      expect(results.map(strip)).toEqual(reference.map(strip));
      // Only the runs that called the host were run again on this thread, with the handler.
      expect(pool.localRuns).toBe(asking.length);
    } finally {
      await pool.close();
    }
  });
});
