import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { bundleWithInputs, type Lockfile, sbomFileName, sbomJson, spdxDocument, spdxTime } from "../toolchain/sbom.js";
import { signMessage } from "../toolchain/signing-keys.js";
import { toolPaths } from "../toolchain/tools.js";
import { type Command, parseFlags, UsageError, writeReport } from "./command.js";
import { packageJson, packageRoot, policyDirs } from "./module-source.js";
import { readSigningKey, SIGNING_KEY_HELP, SIGNING_KEY_OPTIONS } from "./signing-key.js";

/** The SBOM's time, never the clock: SOURCE_DATE_EPOCH, else the HEAD commit's time. */
function creationTime(): { created: string; commit?: string } {
  const git = (() => {
    try {
      const [time, commit] = execFileSync("git", ["-C", packageRoot, "log", "-1", "--format=%ct%n%H"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n");
      return { time: Number(time), commit };
    } catch {
      return null;
    }
  })();
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== "") {
    if (!/^\d{1,12}$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${epoch.slice(0, 40)}"`);
    return { created: spdxTime(Number(epoch)), ...(git?.commit ? { commit: git.commit } : {}) };
  }
  if (git && Number.isSafeInteger(git.time)) return { created: spdxTime(git.time), ...(git.commit ? { commit: git.commit } : {}) };
  throw new UsageError("no time to date the SBOM with: set SOURCE_DATE_EPOCH (seconds), or run in a git checkout (the HEAD commit's time is used)");
}

export const sbomCommand: Command = {
  name: "sbom",
  summary: "write each policy's SPDX 2.3 SBOM (deterministic), signed with --sign-key (source checkout)",
  help: `Usage: loopback-probes sbom [POLICY_DIR…] [--dist DIR] [-o DIR] [--sign-key KEY]

Writes DIR/<name>-sbom.spdx.json (SPDX 2.3 JSON) for each policy, from what its
module is built from: the module in --dist (sha256, and the OCI manifest digest
push will give it), the esbuild bundle of policy.ts and the npm packages whose
files it includes (versions, licenses and hashes from package-lock.json), the
QuickJS engine linked in (quickjs-wasi), and the build tools (esbuild, binaryen,
Wizer). The same inputs give the same bytes: the time is SOURCE_DATE_EPOCH, else
the HEAD commit's, never the clock. Run it on the tree that built the modules
(make sbom does).

With --sign-key, also writes DIR/<name>-sbom.spdx.json.sig: the base64 signature
of the file's bytes, as \`cosign sign-blob --key … --output-signature\` writes it.
Check it with either of
  cosign verify-blob --key policy-signing.pub --signature X.sig --insecure-ignore-tlog=true X
  openssl dgst -sha256 -verify policy-signing.pub -signature <(base64 -d X.sig) X

Kubewarden ships a policy's SBOM as a release asset (policy-sbom.spdx.json beside
policy.wasm); attach these to the GitHub release the same way.

Options:
  --dist DIR            where the built modules are (default: dist)
  -o, --output DIR      where to write (default: the --dist folder)
  --sign-key KEY        sign each SBOM with this private key (see sign --help)
${SIGNING_KEY_HELP}

Needs a source checkout (esbuild, package-lock.json), like build.`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...SIGNING_KEY_OPTIONS, dist: { type: "string", default: "dist" }, output: { type: "string", short: "o" }, "sign-key": { type: "string" } });
    const dirs = positionals.length > 0 ? positionals : policyDirs(join(packageRoot, "policies"));
    if (dirs.length === 0) throw new UsageError("no policy folders (policies/<name>/policy.ts) to describe");
    const key = values["sign-key"] ? readSigningKey(values["sign-key"], values) : undefined;
    const out = values.output ?? values.dist;
    const { created, commit } = creationTime();
    const lockfile = JSON.parse(readFileSync(join(packageRoot, "package-lock.json"), "utf8")) as Lockfile;
    const engine = new Uint8Array(readFileSync(toolPaths.engine()));
    const repository = (packageJson as { repository?: { url?: string } }).repository?.url;
    for (const dir of dirs) {
      const name = basename(resolve(dir));
      const entry = join(dir, "policy.ts");
      if (!existsSync(entry)) throw new UsageError(`${dir} is not a policy folder (no policy.ts)`);
      const modulePath = join(values.dist, `${name}.wasm`);
      if (!existsSync(modulePath)) throw new UsageError(`${modulePath} not found: build the policies first (make build)`);
      const document = spdxDocument({
        name,
        module: new Uint8Array(readFileSync(modulePath)),
        bundle: await bundleWithInputs(entry, packageRoot),
        lockfile,
        project: { name: packageJson.name, version: packageJson.version, ...(packageJson.license ? { license: packageJson.license } : {}), ...(repository ? { repository } : {}), ...(packageJson.homepage ? { homepage: packageJson.homepage } : {}) },
        engine,
        created,
        ...(commit ? { commit } : {}),
      });
      const text = sbomJson(document);
      const file = join(out, sbomFileName(name));
      writeReport(text, file);
      console.error(`wrote ${file}`);
      if (key) {
        writeReport(signMessage(key, new TextEncoder().encode(text)), `${file}.sig`);
        console.error(`wrote ${file}.sig (${key.kind} key ${key.fingerprint})`);
      }
    }
    return 0;
  },
};
