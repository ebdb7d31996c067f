/**
 * The shell and wrapper families (tests/cases/shell-families.yml) through both
 * built policies, each evaluation under node:wasi and wasmtime (which must agree):
 * reject-loopback-probes denies exactly the `fail` cases, naming the loopback
 * bind; rewrite-loopback-probes patches exactly those, and the patched object then
 * passes the reject policy and is left alone by a second rewrite. Warnings the
 * cases name (a container over its work bound) are in both answers.
 */
import fastJsonPatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import type { AdmissionRequest } from "../../src/kubewarden/protocol.js";
import { loadPolicy, patchOf } from "../../src/toolchain/evaluate.js";
import { validateBoth as validate, wasmBytes } from "../helpers.js";
import { caseRequest, shellCases } from "../support/shell-cases.js";

const cases = shellCases();

describe("shell and wrapper families: both policies, both engines", async () => {
  const reject = await loadPolicy(wasmBytes("reject-loopback-probes"));
  const rewrite = await loadPolicy(wasmBytes("rewrite-loopback-probes"));

  it.each(cases.map((c) => [`${c.family}: ${c.name}`, c] as const))("%s", async (_label, c) => {
    const request = caseRequest(c) as unknown as AdmissionRequest;
    const verdict = await validate(reject, request, {});
    expect(verdict.allowed, verdict.status?.message ?? "allowed").toBe(c.result === "pass");
    if (c.result === "fail") expect(verdict.status?.message).toContain("bound only on loopback");
    if (c.warning) expect(verdict.warnings?.join("\n")).toContain(c.warning);

    const mutation = await validate(rewrite, request, {});
    expect(mutation.allowed).toBe(true);
    expect(mutation.patch !== undefined, JSON.stringify(mutation.warnings)).toBe(c.result === "fail");
    if (c.warning) expect(mutation.warnings?.join("\n")).toContain(c.warning);
    if (mutation.patch === undefined) return;
    const patched = fastJsonPatch.applyPatch(structuredClone(request.object), patchOf(mutation)).newDocument as AdmissionRequest["object"];
    expect(JSON.stringify(patched)).toContain("127.0.0.1:8080");
    const after = await validate(reject, { ...request, object: patched }, {});
    expect(after.allowed, after.status?.message).toBe(true);
    const again = await validate(rewrite, { ...request, object: patched }, {});
    expect(again.patch).toBeUndefined();
  });
});
