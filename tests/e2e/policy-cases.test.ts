/**
 * Each policy's test_data/cases.yml, evaluated through the built modules the
 * way `loopback-probes run` (and kwctl run) evaluates: settings first, then
 * validate, AdmissionResponse with the JSONPatch diffed by the host. Every
 * evaluation runs under node:wasi and wasmtime, which must answer the same.
 */
import fastJsonPatch from "fast-json-patch";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { AdmissionRequest } from "../../src/kubewarden/protocol.js";
import { loadPolicy, patchOf } from "../../src/toolchain/evaluate.js";
import { ROOT, validateBoth as validate, validateSettingsBoth as validateSettings, wasmBytes } from "../helpers.js";
import { caseRequest, programCases } from "../support/program-cases.js";

interface Case {
  request: string;
  settings?: unknown;
  allowed?: boolean;
  messageIncludes?: string[];
  mutated?: boolean;
  expectObject?: string;
  execIncludes?: string[];
  /** Substrings the patched object must not contain (e.g. a removed probe's path). */
  execExcludes?: string[];
  warningsInclude?: string[];
  /** The rewrite deliberately leaves some findings (kept probes): the result still fails the validating policy. */
  keeps?: boolean;
}
interface CaseFile {
  cases: Case[];
  invalidSettings: { settings: unknown; messageIncludes: string[] }[];
}

const dataDir = (policy: string) => join(ROOT, "policies", policy, "test_data");
const casesOf = (policy: string) => parse(readFileSync(join(dataDir(policy), "cases.yml"), "utf8")) as CaseFile;
const requestOf = (policy: string, file: string) => JSON.parse(readFileSync(join(dataDir(policy), file), "utf8")) as AdmissionRequest;
const label = (c: Case) => `${c.request}${c.settings ? ` with ${JSON.stringify(c.settings)}` : ""}`;

describe("reject-loopback-probes test_data", async () => {
  const policy = await loadPolicy(wasmBytes("reject-loopback-probes"));
  const file = casesOf("reject-loopback-probes");
  it.each(file.cases.map((c) => [label(c), c] as const))("%s", async (_l, c) => {
    const settings = c.settings ?? {};
    expect((await validateSettings(policy, settings)).valid).toBe(true);
    const response = await validate(policy, requestOf("reject-loopback-probes", c.request), settings);
    expect(response.allowed).toBe(c.allowed);
    expect(response.patch).toBeUndefined();
    for (const text of c.messageIncludes ?? []) expect(response.status?.message).toContain(text);
    for (const w of c.warningsInclude ?? []) expect(response.warnings?.join("\n")).toContain(w);
  });
  it.each(file.invalidSettings.map((c) => [JSON.stringify(c.settings), c] as const))("refuses settings %s", async (_l, c) => {
    const verdict = await validateSettings(policy, c.settings);
    expect(verdict.valid).toBe(false);
    for (const text of c.messageIncludes) expect(verdict.message).toContain(text);
  });
});

describe("rewrite-loopback-probes test_data", async () => {
  const rewrite = await loadPolicy(wasmBytes("rewrite-loopback-probes"));
  const reject = await loadPolicy(wasmBytes("reject-loopback-probes"));
  const file = casesOf("rewrite-loopback-probes");
  it.each(file.cases.map((c) => [label(c), c] as const))("%s", async (_l, c) => {
    const settings = c.settings ?? {};
    expect((await validateSettings(rewrite, settings)).valid).toBe(true);
    const request = requestOf("rewrite-loopback-probes", c.request);
    const response = await validate(rewrite, request, settings);
    expect(response.allowed).toBe(true);
    expect(response.patch !== undefined).toBe(c.mutated);
    for (const w of c.warningsInclude ?? []) expect(response.warnings?.join("\n")).toContain(w);
    if (!c.mutated) return;
    const patched = fastJsonPatch.applyPatch(structuredClone(request.object), patchOf(response)).newDocument;
    if (c.expectObject) expect(patched).toEqual(requestOf("rewrite-loopback-probes", c.expectObject).object);
    const text = JSON.stringify(patched);
    for (const s of c.execIncludes ?? []) expect(text).toContain(JSON.stringify(s).slice(1, -1));
    for (const s of c.execExcludes ?? []) expect(text).not.toContain(JSON.stringify(s).slice(1, -1));
    // The rewritten object passes the validating policy with the same settings (judged
    // as a CREATE), unless the rewrite deliberately kept a probe it cannot fix…
    const { strategy: _s, imagesWithShell: _w, imagesWithoutShell: _wo, ...common } = settings as Record<string, unknown>;
    const verdict = await validate(reject, { ...request, operation: "CREATE", oldObject: null, object: patched as AdmissionRequest["object"] }, common);
    expect(verdict.allowed).toBe(!c.keeps);
    if (!c.keeps) expect(verdict.status?.message).toBeUndefined();
    // …and rewriting it again changes nothing (idempotence).
    const again = await validate(rewrite, { ...request, object: patched as AdmissionRequest["object"] }, settings);
    expect(again.patch).toBeUndefined();
  });
  it.each(file.invalidSettings.map((c) => [JSON.stringify(c.settings), c] as const))("refuses settings %s", async (_l, c) => {
    const verdict = await validateSettings(rewrite, c.settings);
    expect(verdict.valid).toBe(false);
    for (const text of c.messageIncludes) expect(verdict.message).toContain(text);
  });
});

/**
 * The program knowledge cases (reject-loopback-probes/test_data/programs.yml): the reject
 * policy flags exactly the listed probes, the rewrite fixes them (its result passes the
 * reject policy unless the case keeps a probe) and is idempotent, under both engines.
 */
describe("programs.yml through both policies", async () => {
  const reject = await loadPolicy(wasmBytes("reject-loopback-probes"));
  const rewrite = await loadPolicy(wasmBytes("rewrite-loopback-probes"));
  const cases = programCases();
  it.each(cases.map((c, i) => [c.title, c, i] as const))("%s", async (_t, c, i) => {
    const request = caseRequest(c, i) as unknown as AdmissionRequest;
    const verdict = await validate(reject, request, {});
    expect(verdict.allowed).toBe(c.findings.length === 0);
    for (const probe of c.findings) {
      const [container, kind] = probe.split("/");
      expect(verdict.status?.message).toContain(`container "${container}" ${kind}`);
    }
    for (const text of c.messageIncludes ?? []) expect(verdict.status?.message).toContain(text);
    const mutation = await validate(rewrite, request, {});
    expect(mutation.allowed).toBe(true);
    // No patch: nothing to fix, or only probes the rewrite keeps (a readiness probe in an image without a shell).
    if (mutation.patch === undefined) {
      expect(c.findings.length === 0 || c.keeps === true).toBe(true);
      return;
    }
    expect(c.findings.length).toBeGreaterThan(0);
    const patched = fastJsonPatch.applyPatch(structuredClone(request.object), patchOf(mutation)).newDocument;
    const text = JSON.stringify(patched);
    for (const s of c.exec ?? []) expect(text).toContain(JSON.stringify(s).slice(1, -1));
    const after = await validate(reject, { ...request, object: patched as AdmissionRequest["object"] }, {});
    expect(after.allowed).toBe(c.keeps !== true);
    const again = await validate(rewrite, { ...request, object: patched as AdmissionRequest["object"] }, {});
    expect(again.patch).toBeUndefined();
  });
});
