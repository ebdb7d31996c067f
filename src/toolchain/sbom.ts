/**
 * SPDX 2.3 SBOM of one policy module, from what the module is built from:
 *
 *   module (the annotated .wasm: sha256, its OCI manifest digest as `push` writes it)
 *     ├─ GENERATED_FROM the bundle (esbuild's policy.js, compiled to QuickJS bytecode
 *     │    and snapshotted into the module) ── CONTAINS the npm packages whose files
 *     │    it includes (from esbuild's metafile, versions and hashes from package-lock.json)
 *     │    └─ GENERATED_FROM the source (this repository, at a commit when known)
 *     ├─ STATIC_LINK the engine (quickjs-wasi's quickjs.wasm, merged in by wasm-merge)
 *     └─ build tools: esbuild (bundle), binaryen and Wizer (module), BUILD_TOOL_OF
 *
 * The same inputs give the same bytes: no wall-clock time (the caller passes
 * `created`, from SOURCE_DATE_EPOCH or the commit time), no random namespace (it is
 * derived from the module's digest), every list in a fixed order.
 *
 * Kubewarden ships a policy's SBOM as a release asset (policy-sbom.spdx.json, and
 * a Sigstore bundle from `cosign sign-blob`); see README "Publishing a release".
 */
import { createHash } from "node:crypto";
import { buildManifest, manifestAnnotations, sha256 } from "./oci.js";
import { readMetadata } from "./metadata.js";

export interface LockfileEntry {
  version?: string;
  integrity?: string;
  license?: string;
}

export interface Lockfile {
  packages: Record<string, LockfileEntry>;
}

/** A package of the lockfile the bundle includes files of. */
export interface BundledPackage {
  /** The lockfile key, e.g. "node_modules/javy". */
  path: string;
  /** The included files, relative to the package folder, sorted. */
  files: string[];
}

export interface SbomInputs {
  /** The policy's name (its folder). */
  name: string;
  /** The annotated module, as `build` wrote it. */
  module: Uint8Array;
  /** The bundled script (build.ts `bundle`), and the lockfile packages it includes. */
  bundle: { script: string; packages: BundledPackage[] };
  /** package-lock.json (lockfileVersion 2 or 3). */
  lockfile: Lockfile;
  /** Our package.json: name, version, license, repository URL, homepage. */
  project: { name: string; version: string; license?: string; repository?: string; homepage?: string };
  /** The engine file linked into the module (quickjs.wasm). */
  engine: Uint8Array;
  /** When the document was made, ISO 8601 UTC to the second (from the inputs, never the clock). */
  created: string;
  /** The source commit, when known. */
  commit?: string;
}

/** The npm packages whose versions and hashes the SBOM names as the engine and build tools. */
export const ENGINE_PACKAGE = "quickjs-wasi";
export const BUILD_TOOLS = { bundle: ["esbuild"], module: ["binaryen", "@bytecodealliance/wizer-linux-x64"] } as const;

/** The lockfile key of the package a bundled file belongs to ("node_modules/a/node_modules/@s/b/x.js" → "node_modules/a/node_modules/@s/b"). */
export function lockfileKeyOf(file: string): { path: string; rest: string } | null {
  const marker = "node_modules/";
  const at = file.lastIndexOf(marker);
  if (at < 0 || (at > 0 && file[at - 1] !== "/")) return null;
  const after = file.slice(at + marker.length).split("/");
  const nameParts = after[0]?.startsWith("@") ? 2 : 1;
  if (after.length <= nameParts) return null;
  const path = file.slice(0, at + marker.length) + after.slice(0, nameParts).join("/");
  return { path, rest: after.slice(nameParts).join("/") };
}

/** Groups esbuild metafile inputs by lockfile package. */
export function bundledPackages(inputs: readonly string[]): BundledPackage[] {
  const byPath = new Map<string, string[]>();
  for (const input of inputs) {
    const key = lockfileKeyOf(input);
    if (!key) continue;
    const files = byPath.get(key.path) ?? [];
    files.push(key.rest);
    byPath.set(key.path, files);
  }
  return [...byPath.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, files]) => ({ path, files: [...new Set(files)].sort() }));
}

/** ISO 8601 UTC to the second, SPDX's `created` format. */
export function spdxTime(epochSeconds: number): string {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds < 0) throw new Error(`not a time in seconds since 1970: ${epochSeconds}`);
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const spdxId = (...parts: string[]) => `SPDXRef-${parts.join("-").replace(/[^A-Za-z0-9.-]+/g, "-").replace(/-{2,}/g, "-")}`;
const hex = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** `sha512-<base64>` (npm's integrity) → SPDX checksum. */
function integrityChecksum(integrity: string | undefined): { algorithm: string; checksumValue: string }[] {
  const m = integrity ? /^sha(512|384|256|1)-([A-Za-z0-9+/]+={0,2})$/.exec(integrity.split(/\s+/)[0]!) : null;
  if (!m) return [];
  return [{ algorithm: `SHA${m[1]}`, checksumValue: Buffer.from(m[2]!, "base64").toString("hex") }];
}

/** purl of an npm package: the scope's "@" is percent-encoded. */
const npmPurl = (name: string, version: string) => `pkg:npm/${name.startsWith("@") ? `%40${name.slice(1)}` : name}@${version}`;

function npmPackage(lockfile: Lockfile, path: string, purpose: string, comment?: string): Record<string, unknown> {
  const entry = Object.hasOwn(lockfile.packages, path) ? lockfile.packages[path]! : undefined;
  if (!entry?.version) throw new Error(`package-lock.json has no version for ${path}: run npm ci (or npm install) so the lockfile matches node_modules`);
  const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
  return {
    name,
    SPDXID: spdxId("npm", name, entry.version),
    versionInfo: entry.version,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    checksums: integrityChecksum(entry.integrity),
    licenseConcluded: "NOASSERTION",
    licenseDeclared: entry.license ?? "NOASSERTION",
    copyrightText: "NOASSERTION",
    externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: npmPurl(name, entry.version) }],
    primaryPackagePurpose: purpose,
    ...(comment ? { comment } : {}),
  };
}

/** The SPDX 2.3 document (a plain object); sbomJson gives its bytes. */
export function spdxDocument(inputs: SbomInputs): Record<string, unknown> {
  const metadata = readMetadata(inputs.module);
  if (!metadata) throw new Error(`${inputs.name}: the module is not annotated (no io.kubewarden.metadata): build it with \`loopback-probes build\``);
  const annotations = metadata.annotations;
  const version = annotations["io.kubewarden.policy.version"] ?? inputs.project.version;
  const moduleHex = hex(inputs.module);
  // The manifest digest `push` will produce: the SBOM names the artifact policy-server pulls.
  const manifestDigest = sha256(buildManifest(inputs.module, new TextEncoder().encode("{}"), manifestAnnotations(inputs.module)));
  const ociUrl = annotations["io.kubewarden.policy.ociUrl"];
  const base = (inputs.project.homepage ?? "https://spdx.org/spdxdocs").replace(/\/$/, "");

  const moduleId = "SPDXRef-Module";
  const bundleId = "SPDXRef-Bundle";
  const sourceId = "SPDXRef-Source";
  const module = {
    name: inputs.name,
    SPDXID: moduleId,
    versionInfo: version,
    packageFileName: `${inputs.name}.wasm`,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    checksums: [{ algorithm: "SHA256", checksumValue: moduleHex }],
    licenseConcluded: "NOASSERTION",
    licenseDeclared: annotations["io.kubewarden.policy.license"] ?? inputs.project.license ?? "NOASSERTION",
    copyrightText: "NOASSERTION",
    ...(annotations["io.kubewarden.policy.description"] ? { description: annotations["io.kubewarden.policy.description"] } : {}),
    externalRefs: [
      {
        referenceCategory: "PACKAGE-MANAGER",
        referenceType: "purl",
        referenceLocator: `pkg:oci/${inputs.name}@${manifestDigest.replace(":", "%3A")}${ociUrl ? `?repository_url=${ociUrl}&tag=v${version}` : ""}`,
      },
    ],
    primaryPackagePurpose: "APPLICATION",
    comment: `Kubewarden WASI policy module; OCI manifest ${manifestDigest} when pushed by loopback-probes push/publish or kwctl push`,
  };
  const source = {
    name: inputs.project.name,
    SPDXID: sourceId,
    versionInfo: inputs.project.version,
    downloadLocation: inputs.project.repository ? `${inputs.project.repository}${inputs.commit ? `@${inputs.commit}` : ""}` : "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: inputs.project.license ?? "NOASSERTION",
    copyrightText: "NOASSERTION",
    ...(inputs.commit ? { sourceInfo: `built from commit ${inputs.commit}` } : {}),
    primaryPackagePurpose: "SOURCE",
    comment: `policies/${inputs.name}/policy.ts with src/analysis and src/kubewarden (bundled), src/toolchain's glue and prelude.js (linked)`,
  };
  const bundle = {
    name: `${inputs.name}-policy.js`,
    SPDXID: bundleId,
    downloadLocation: "NONE",
    filesAnalyzed: false,
    checksums: [{ algorithm: "SHA256", checksumValue: hex(inputs.bundle.script) }],
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "NOASSERTION",
    copyrightText: "NOASSERTION",
    primaryPackagePurpose: "FILE",
    comment: `the esbuild bundle of policies/${inputs.name}/policy.ts (${Buffer.byteLength(inputs.bundle.script)} bytes), compiled to QuickJS bytecode and run into the module's Wizer snapshot`,
  };
  const bundled = inputs.bundle.packages.map((p) => npmPackage(inputs.lockfile, p.path, "LIBRARY", `files in the bundle: ${p.files.join(", ")}`));
  const engine = npmPackage(inputs.lockfile, `node_modules/${ENGINE_PACKAGE}`, "LIBRARY", `quickjs.wasm (sha256:${hex(inputs.engine)}), the QuickJS engine linked into the module by wasm-merge`);
  const bundleTools = BUILD_TOOLS.bundle.map((n) => npmPackage(inputs.lockfile, `node_modules/${n}`, "APPLICATION", "build tool: bundles policy.ts"));
  const moduleTools = BUILD_TOOLS.module.map((n) => npmPackage(inputs.lockfile, `node_modules/${n}`, "APPLICATION", "build tool: assembles, links, snapshots and optimises the module"));

  const relationships = [
    { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: moduleId },
    { spdxElementId: moduleId, relationshipType: "GENERATED_FROM", relatedSpdxElement: bundleId },
    { spdxElementId: moduleId, relationshipType: "STATIC_LINK", relatedSpdxElement: engine.SPDXID as string },
    { spdxElementId: bundleId, relationshipType: "GENERATED_FROM", relatedSpdxElement: sourceId },
    ...bundled.map((p) => ({ spdxElementId: bundleId, relationshipType: "CONTAINS", relatedSpdxElement: p.SPDXID as string })),
    ...bundleTools.map((p) => ({ spdxElementId: p.SPDXID as string, relationshipType: "BUILD_TOOL_OF", relatedSpdxElement: bundleId })),
    ...moduleTools.map((p) => ({ spdxElementId: p.SPDXID as string, relationshipType: "BUILD_TOOL_OF", relatedSpdxElement: moduleId })),
  ];
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `${inputs.name}-${version}`,
    documentNamespace: `${base}/spdx/${inputs.name}-${version}-${moduleHex}`,
    creationInfo: { created: inputs.created, creators: [`Tool: ${inputs.project.name}-${inputs.project.version}`] },
    packages: [module, source, bundle, ...bundled, engine, ...bundleTools, ...moduleTools],
    relationships,
  };
}

/** The document's bytes: 2-space JSON and a final newline (key order as built). */
export const sbomJson = (document: Record<string, unknown>) => `${JSON.stringify(document, null, 2)}\n`;

/** The file name Kubewarden's release assets use, per policy of a repository with several. */
export const sbomFileName = (name: string) => `${name}-sbom.spdx.json`;

/**
 * Bundles `entry` as build.ts does and lists the lockfile packages the bundle includes
 * (esbuild's metafile, paths relative to `root`).
 */
export async function bundleWithInputs(entry: string, root: string): Promise<{ script: string; packages: BundledPackage[] }> {
  const { build } = await import("esbuild");
  const { BUNDLE_OPTIONS } = await import("./build.js");
  const result = await build({ ...BUNDLE_OPTIONS, entryPoints: [entry], metafile: true, absWorkingDir: root });
  return { script: result.outputFiles[0]!.text, packages: bundledPackages(Object.keys(result.metafile.inputs)) };
}
