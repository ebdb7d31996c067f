/**
 * Host capabilities by name: allow-list patterns as policy-evaluator parses and
 * matches them, the module scan `kwctl annotate` runs (cases from
 * crates/policy-evaluator/src/host_capabilities.rs and crates/kwctl/src/wasm_scanner.rs),
 * the build's check of metadata hostCapabilities, and the shipped modules.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  capabilityDeniedMessage,
  capabilityMismatch,
  describeAllowList,
  isHostCapabilityAllowed,
  KNOWN_HOST_CAPABILITIES,
  parseHostCapabilityPatterns,
  scanHostCapabilities,
} from "../../src/toolchain/capabilities.js";
import { checkHostCapabilities } from "../../src/toolchain/build.js";
import { parseMetadata, readMetadata } from "../../src/toolchain/metadata.js";
import { dataSegments, encodeU32 } from "../../src/toolchain/wasm-binary.js";
import { ROOT, wasmBytes } from "../helpers.js";

/** A module with one memory and one active data segment holding the strings, each NUL-terminated (as kwctl's tests build them). */
function moduleWith(strings: string[], extraSegments: Uint8Array[] = []): Uint8Array {
  const enc = new TextEncoder();
  const payload = strings.flatMap((s) => [...enc.encode(s), 0]);
  const section = (id: number, content: number[]) => [id, ...encodeU32(content.length), ...content];
  const segments = [
    [0x00, 0x41, 0x00, 0x0b, ...encodeU32(payload.length), ...payload], // active, memory 0, offset i32.const 0
    ...extraSegments.map((bytes) => [0x01, ...encodeU32(bytes.length), ...bytes]), // passive
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(5, [0x01, 0x00, 0x01]), // memory: min 1 page
    ...section(11, [...encodeU32(segments.length), ...segments.flat()]),
  ]);
}

describe("allow lists (HostCapabilities::new / is_allowed)", () => {
  const cases: [string[], string, boolean][] = [
    [[], "oci/v1/verify", false],
    [["*"], "oci/v1/verify", true],
    [["*"], "kubernetes/can_i", true],
    [["oci/v1/verify"], "oci/v1/verify", true],
    [["oci/v1/verify"], "oci/v2/verify", false],
    [["oci/*"], "oci/v1/verify", true],
    [["oci/*"], "oci/v2/verify", true],
    [["oci/*"], "net/v1/dns_lookup_host", false],
    [["oci/v2/*"], "oci/v2/verify", true],
    [["oci/v2/*"], "oci/v1/verify", false],
    [["oci/v1/verify", "net/v1/dns_lookup_host"], "net/v1/dns_lookup_host", true],
    [["oci/*", "kubernetes/can_i"], "net/v1/dns_lookup_host", false],
    [["kubernetes/list_resources_by_namespace"], "kubernetes/list_resources_all", false],
    [["kubernetes/*"], "kubernetes/list_resources_all", true],
  ];
  it.each(cases)("%j allows %s: %s", (patterns, capability, allowed) => {
    expect(isHostCapabilityAllowed(parseHostCapabilityPatterns(patterns), capability)).toBe(allowed);
  });

  it("refuses what kwctl refuses, in its words", () => {
    const error = (p: string) => {
      try {
        parseHostCapabilityPatterns([p]);
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    };
    for (const p of ["oci*", "oci/v1/oci_*", "*/oci", "", "unknown/v1/op", "oci/v99/verify", "oci/v1/nonexistent", "kubernetes/nonexistent", "unknown/*", "oci/v99/*", "oci", "oci/v1", "net", "kubernetes"])
      expect(error(p), p).not.toBe("accepted");
    expect(error("")).toBe("invalid pattern: pattern must not be empty");
    expect(error("oci*")).toBe(`invalid pattern "oci*": wildcard '*' must be the entire last path segment (e.g. 'oci/*'), not a partial match`);
    expect(error("oci/v99/verify")).toBe(`invalid pattern "oci/v99/verify": unknown segment "v99", valid options at this level are: v1, v2`);
    expect(error("kubernetes")).toBe(`invalid pattern "kubernetes": not a complete capability path; use "kubernetes/*" to allow all capabilities under it`);
  });

  it("* anywhere allows all; every known path is a valid exact pattern; displayed as kwctl does", () => {
    expect(parseHostCapabilityPatterns(["*", "oci/*", "kubernetes/can_i"])).toEqual({ kind: "all" });
    for (const path of KNOWN_HOST_CAPABILITIES) expect(isHostCapabilityAllowed(parseHostCapabilityPatterns([path]), path)).toBe(true);
    expect(KNOWN_HOST_CAPABILITIES).toHaveLength(11);
    expect(describeAllowList(parseHostCapabilityPatterns(["oci/*", "kubernetes/can_i"]))).toBe("[oci/*, kubernetes/can_i]");
    expect(describeAllowList(parseHostCapabilityPatterns([]))).toBe("[]");
    expect(capabilityDeniedMessage("kubernetes/list_resources_all")).toBe(
      "Policy has not been granted access to the 'kubernetes/list_resources_all' host capability. The violation has been reported.",
    );
  });
});

describe("module scan (kwctl wasm_scanner)", () => {
  it("finds a capability only when its namespace and operation are both in the data", () => {
    expect(scanHostCapabilities(moduleWith(["hello", "world"]))).toEqual([]);
    expect(scanHostCapabilities(moduleWith(["kubewarden"]))).toEqual([]);
    expect(scanHostCapabilities(moduleWith(["kubewarden", "crypto", "v1/is_certificate_trusted"]))).toEqual(["crypto/v1/is_certificate_trusted"]);
    expect(scanHostCapabilities(moduleWith(["kubewarden", "can_i"]))).toEqual([]);
    expect(scanHostCapabilities(moduleWith(["kubernetes", "list_resources_all"]))).toEqual(["kubernetes/list_resources_all"]);
  });

  it("a prefix of a longer operation counts only on its own", () => {
    expect(scanHostCapabilities(moduleWith(["kubewarden", "oci", "v1/oci_manifest_config"]))).toEqual(["oci/v1/oci_manifest_config"]);
    expect(scanHostCapabilities(moduleWith(["kubewarden", "oci", "v1/oci_manifest_config", "v1/oci_manifest"]))).toEqual(["oci/v1/oci_manifest", "oci/v1/oci_manifest_config"]);
  });

  it("reads every segment (passive ones too) and never matches across two", () => {
    const all = KNOWN_HOST_CAPABILITIES.flatMap((c) => [c.slice(0, c.indexOf("/")), c.slice(c.indexOf("/") + 1)]);
    expect(scanHostCapabilities(moduleWith(all))).toEqual([...KNOWN_HOST_CAPABILITIES]);
    const enc = new TextEncoder();
    expect(scanHostCapabilities(moduleWith(["kubernetes"], [enc.encode("get_res"), enc.encode("ource")]))).toEqual([]);
    expect(scanHostCapabilities(moduleWith(["kubernetes"], [enc.encode("get_resource")]))).toEqual(["kubernetes/get_resource"]);
    expect(dataSegments(moduleWith(["a"], [enc.encode("bc")])).map((d) => d.length)).toEqual([2, 2]);
  });
});

describe("metadata hostCapabilities and the build's check", () => {
  const base = "rules: [{apiGroups: [''], apiVersions: [v1], resources: [pods], operations: [CREATE]}]\nmutating: false\nexecutionMode: wasi\n";

  it("takes exact known names only, sorted and unique", () => {
    expect(parseMetadata(`${base}hostCapabilities: [kubernetes/list_resources_all, kubernetes/get_resource, kubernetes/get_resource]\n`).hostCapabilities).toEqual([
      "kubernetes/get_resource",
      "kubernetes/list_resources_all",
    ]);
    expect(() => parseMetadata(`${base}hostCapabilities: [kubernetes/*]\n`)).toThrow(/unknown capability "kubernetes\/\*"/);
    expect(() => parseMetadata(`${base}hostCapabilities: [kubernetes/list_resources]\n`)).toThrow(/known: crypto\/v1\/is_certificate_trusted, /);
    expect(parseMetadata(base).hostCapabilities).toBeUndefined();
  });

  it("fails a build whose module uses an undeclared capability, warns about a declared unused one", () => {
    const module = moduleWith(["kubernetes", "list_resources_all", "get_resource"]);
    const declared = (list: string) => parseMetadata(`${base}hostCapabilities: [${list}]\n`);
    expect(() => checkHostCapabilities(module, parseMetadata(base), "metadata.yml")).toThrow(
      "metadata.yml: the module uses host capabilities its metadata does not declare: kubernetes/get_resource, kubernetes/list_resources_all.",
    );
    expect(() => checkHostCapabilities(module, declared("kubernetes/list_resources_all"), "metadata.yml")).toThrow(/declare: kubernetes\/get_resource\./);
    const log: string[] = [];
    checkHostCapabilities(module, declared("kubernetes/list_resources_all, kubernetes/get_resource, kubernetes/can_i"), "metadata.yml", (l) => log.push(l));
    expect(log).toEqual(["warning: metadata.yml: hostCapabilities declares kubernetes/can_i, which the module does not use"]);
    expect(capabilityMismatch(["a"], undefined)).toEqual({ undeclared: ["a"], unused: [] });
  });

  it("the shipped modules declare exactly what their bytes use, and carry it in their metadata", () => {
    for (const name of ["reject-loopback-probes", "rewrite-loopback-probes", "reject-listenlocal-reloader-probes"]) {
      const bytes = wasmBytes(name);
      const declared = parseMetadata(readFileSync(join(ROOT, "policies", name, "metadata.yml"), "utf8")).hostCapabilities ?? [];
      expect(scanHostCapabilities(bytes), name).toEqual(declared);
      expect(readMetadata(bytes)?.hostCapabilities ?? [], name).toEqual(declared);
    }
    // The context-aware policy reads Deployments through the Kubernetes capabilities.
    expect(parseMetadata(readFileSync(join(ROOT, "policies", "reject-listenlocal-reloader-probes", "metadata.yml"), "utf8")).hostCapabilities?.length).toBeGreaterThan(0);
  });
});
