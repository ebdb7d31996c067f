/**
 * `sbom`: SPDX 2.3 per built policy, the same bytes for the same inputs, naming the
 * module by the digests push and the registry give it, signed with the release key
 * (checked by openssl and node:crypto).
 */
import Ajv from "ajv";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build as esbuild } from "esbuild";
import { bundle, BUNDLE_OPTIONS } from "../../src/toolchain/build.js";
import { bundledPackages, bundleWithInputs, lockfileKeyOf, spdxTime } from "../../src/toolchain/sbom.js";
import { ROOT, runCli, TEST_WASM_DIR, wasmBytes } from "../helpers.js";
import { keyFiles, makeKey, nodeVerifies, opensslVerifies } from "../support/keys.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

const POLICIES = ["reject-loopback-probes", "rewrite-loopback-probes", "reject-listenlocal-reloader-probes"];
const validate = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(ROOT, "tests", "schemas", "spdx-2.3-required.schema.json"), "utf8")));
const lockfile = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string; integrity: string; license?: string }> };

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceLocator: string }[];
  licenseDeclared?: string;
  comment?: string;
}
interface SpdxDocument {
  documentNamespace: string;
  creationInfo: { created: string };
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

describe("sbom", () => {
  const key = makeKey();
  const keys = keyFiles({ "release.key": key.privatePem });
  const dirs: string[] = [];
  const out = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `lpp-sbom-${name}-`));
    dirs.push(dir);
    return dir;
  };
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    keys.remove();
  });
  const sbom = (dir: string, epoch: string, sign = true) =>
    runCli(["sbom", "--dist", TEST_WASM_DIR, "-o", dir, ...(sign ? ["--sign-key", keys.path("release.key")] : [])], { env: { SOURCE_DATE_EPOCH: epoch } });

  it("writes one valid SPDX 2.3 document per policy, byte-identical for the same inputs, signed", async () => {
    const [a, b, c] = [out("a"), out("b"), out("c")];
    const first = sbom(a, "1700000000");
    expect(first.stderr).toContain("wrote");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("");
    expect(sbom(b, "1700000000").code).toBe(0);
    expect(sbom(c, "1800000000", false).code).toBe(0);
    for (const name of POLICIES) {
      const file = `${name}-sbom.spdx.json`;
      const bytes = readFileSync(join(a, file));
      expect(Buffer.compare(bytes, readFileSync(join(b, file)))).toBe(0);
      // Another SOURCE_DATE_EPOCH changes the creation time, and nothing else.
      const later = readFileSync(join(c, file), "utf8");
      expect(later.replace('"created": "2027-01-15T08:00:00Z"', '"created": "2023-11-14T22:13:20Z"')).toBe(bytes.toString("utf8"));

      const doc = JSON.parse(bytes.toString("utf8")) as SpdxDocument;
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
      expect(doc.creationInfo.created).toBe("2023-11-14T22:13:20Z");
      const module = wasmBytes(name);
      const moduleHex = createHash("sha256").update(module).digest("hex");
      expect(doc.documentNamespace).toBe(`https://github.com/loopback-probe-policies/loopback-probe-policies/spdx/${name}-0.1.0-${moduleHex}`);
      const ids = doc.packages.map((p) => p.SPDXID);
      expect(new Set(ids).size).toBe(ids.length);
      for (const r of doc.relationships) for (const id of [r.spdxElementId, r.relatedSpdxElement]) expect(id === "SPDXRef-DOCUMENT" || ids.includes(id), id).toBe(true);
      const byId = new Map(doc.packages.map((p) => [p.SPDXID, p]));
      expect(byId.get("SPDXRef-Module")!.checksums).toEqual([{ algorithm: "SHA256", checksumValue: moduleHex }]);
      expect(doc.relationships[0]).toEqual({ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-Module" });

      // The bundle: the hash of what build bundles; the npm packages it includes, as the lockfile has them.
      expect(byId.get("SPDXRef-Bundle")!.checksums![0]!.checksumValue).toBe(createHash("sha256").update(await bundle(join(ROOT, "policies", name, "policy.ts"))).digest("hex"));
      const contained = doc.relationships.filter((r) => r.spdxElementId === "SPDXRef-Bundle" && r.relationshipType === "CONTAINS").map((r) => byId.get(r.relatedSpdxElement)!.name);
      // What esbuild itself reports reading from node_modules for this entry (every policy runs on javy's IO).
      const meta = await esbuild({ ...BUNDLE_OPTIONS, entryPoints: [join(ROOT, "policies", name, "policy.ts")], metafile: true, absWorkingDir: ROOT });
      const fromNodeModules = [...new Set(Object.keys(meta.metafile.inputs).flatMap((f) => (f.startsWith("node_modules/") ? [f.split("/")[1]!] : [])))].sort();
      expect(fromNodeModules).toContain("javy");
      expect(contained).toEqual(fromNodeModules);
      for (const pkg of doc.packages.filter((p) => p.SPDXID.startsWith("SPDXRef-npm-"))) {
        const entry = lockfile.packages[`node_modules/${pkg.name}`]!;
        expect(pkg.versionInfo).toBe(entry.version);
        expect(pkg.checksums).toEqual([{ algorithm: "SHA512", checksumValue: Buffer.from(entry.integrity.slice(7), "base64").toString("hex") }]);
        expect(pkg.licenseDeclared).toBe(entry.license);
      }
      const tools = doc.relationships.filter((r) => r.relationshipType === "BUILD_TOOL_OF").map((r) => byId.get(r.spdxElementId)!.name);
      expect(tools).toEqual(["esbuild", "binaryen", "@bytecodealliance/wizer-linux-x64"]);
      const engine = doc.relationships.find((r) => r.relationshipType === "STATIC_LINK")!;
      expect(byId.get(engine.relatedSpdxElement)!.name).toBe("quickjs-wasi");

      // Signed like `cosign sign-blob --output-signature`: base64 of a signature over the file's bytes.
      const signature = readFileSync(join(a, `${file}.sig`), "utf8");
      expect(nodeVerifies(key, bytes, signature)).toBe(true);
      expect(opensslVerifies(key.publicPem, "P-256", bytes, signature).output).toBe("Verified OK");
      expect(nodeVerifies(key, Buffer.from(later), signature)).toBe(false);
    }
  });

  it("names the OCI manifest digest the registry gives the pushed module", () => {
    const dir = out("oci");
    expect(sbom(dir, "1700000000", false).code).toBe(0);
    const name = POLICIES[0]!;
    const pushed = runCli(["push", join(TEST_WASM_DIR, `${name}.wasm`), `registry://${registry.host}/p/${name}:v0.1.0`, "--plain-http"]);
    expect(pushed.code).toBe(0);
    const digest = pushed.stdout.trim().split("@")[1]!;
    const doc = JSON.parse(readFileSync(join(dir, `${name}-sbom.spdx.json`), "utf8")) as SpdxDocument;
    expect(doc.packages[0]!.externalRefs![0]!.referenceLocator).toBe(
      `pkg:oci/${name}@${digest.replace(":", "%3A")}?repository_url=ghcr.io/loopback-probe-policies/policies/${name}&tag=v0.1.0`,
    );
  });

  it("groups bundled files by the lockfile package they come from", async () => {
    expect(lockfileKeyOf("node_modules/javy/dist/fs/index.js")).toEqual({ path: "node_modules/javy", rest: "dist/fs/index.js" });
    expect(lockfileKeyOf("node_modules/a/node_modules/@s/b/x.js")).toEqual({ path: "node_modules/a/node_modules/@s/b", rest: "x.js" });
    expect(lockfileKeyOf("src/analysis/hosts.ts")).toBeNull();
    expect(lockfileKeyOf("my_node_modules/x/y.js")).toBeNull();
    expect(bundledPackages(["node_modules/b/2.js", "src/x.ts", "node_modules/b/1.js", "node_modules/@a/c/i.js"])).toEqual([
      { path: "node_modules/@a/c", files: ["i.js"] },
      { path: "node_modules/b", files: ["1.js", "2.js"] },
    ]);
    expect(spdxTime(0)).toBe("1970-01-01T00:00:00Z");
    expect(() => spdxTime(-1)).toThrow();
    // The bundle the SBOM hashes is the one build makes.
    const entry = join(ROOT, "policies", POLICIES[0]!, "policy.ts");
    expect((await bundleWithInputs(entry, ROOT)).script).toBe(await bundle(entry));
  });

  it("refuses to date an SBOM from the clock", () => {
    const r = runCli(["sbom", "--dist", TEST_WASM_DIR, "-o", out("bad")], { env: { SOURCE_DATE_EPOCH: "yesterday" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SOURCE_DATE_EPOCH must be whole seconds");
  });
});
