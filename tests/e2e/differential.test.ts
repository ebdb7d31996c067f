/**
 * Differential test: the built Wasm modules and the TypeScript analysis give the
 * same verdicts and the same rewrites on generated workloads, and the modules
 * answer the same under node:wasi and wasmtime.
 */
import fc from "fast-check";
import fastJsonPatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { findUnreachableProbes } from "../../src/analysis/reachability.js";
import { rewriteUnreachableProbes } from "../../src/analysis/rewrite.js";
import type { AdmissionRequest, KubernetesObject } from "../../src/kubewarden/protocol.js";
import { loadPolicy, patchOf } from "../../src/toolchain/evaluate.js";
import { SEED, workload } from "../generators.js";
import { podRequest, validateBoth as validate, wasmBytes } from "../helpers.js";

const SAMPLE = Number(process.env.DIFF_SAMPLE ?? 40);

describe("TypeScript and built Wasm agree", async () => {
  const reject = await loadPolicy(wasmBytes("reject-loopback-probes"));
  const rewrite = await loadPolicy(wasmBytes("rewrite-loopback-probes"));
  const sample = fc.sample(workload, { numRuns: SAMPLE, seed: SEED });

  it(`on ${SAMPLE} generated workloads`, async () => {
    console.info(`differential: ${SAMPLE} workloads, seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    let rejected = 0;
    for (const object of sample) {
      const request = podRequest(object) as unknown as AdmissionRequest;
      const findings = findUnreachableProbes(object);
      const verdict = await validate(reject, request, {});
      expect(verdict.allowed).toBe(findings.length === 0);
      if (!verdict.allowed) rejected++;
      const mutation = await validate(rewrite, request, {});
      const expected = rewriteUnreachableProbes(object, findings, "exec");
      const patched = fastJsonPatch.applyPatch(structuredClone(object), patchOf(mutation)).newDocument as KubernetesObject;
      expect(patched).toEqual(expected.object);
      expect(mutation.warnings ?? []).toEqual(expected.changes.map((c) => c.description));
    }
    expect(rejected).toBeGreaterThan(0);
  });
});
