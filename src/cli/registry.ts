import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { readMetadata } from "../toolchain/metadata.js";
import { type ClientOptions, type Credentials, dockerConfigCredentials, parseReference, pushModule } from "../toolchain/oci.js";
import { pullToFile } from "../toolchain/oci-files.js";
import { DEFAULT_TIMEOUTS } from "../toolchain/oci-http.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { annotationPairs, BUNDLED_MODULES_DIR, isCheckout, packageRoot, POLICIES_DIR, policyDirs, VERIFICATION_HELP, VERIFICATION_OPTIONS, verificationFromFlags, verifyModuleSource } from "./module-source.js";
import { readModule } from "./run.js";
import { checkAnnotations, describeSigning, readSigningKey, SIGNING_KEY_HELP, SIGNING_KEY_OPTIONS } from "./signing-key.js";
import { signModule } from "../toolchain/signatures.js";

export const AUTH_OPTIONS = {
  "plain-http": { type: "boolean", default: false },
  username: { type: "string", short: "u" },
  password: { type: "string", short: "p" },
  "password-stdin": { type: "boolean", default: false },
  "docker-config": { type: "string" },
  "trust-token-realm": { type: "string", multiple: true },
  "connect-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  "transfer-timeout": { type: "string" },
} as const;

export const AUTH_HELP = `  --plain-http         talk HTTP instead of HTTPS (local registries)
  -u, --username U     registry user (with --password or --password-stdin)
  -p, --password P     registry password
  --password-stdin     read the password from stdin
  --docker-config DIR  folder of the docker config.json to take credentials from
                       (default: $DOCKER_CONFIG or ~/.docker; only "auths" entries,
                       credential helpers are not run)
  --connect-timeout S  seconds for TCP + TLS connection (default ${DEFAULT_TIMEOUTS.connectMs / 1000})
  --idle-timeout S     seconds of silence from the registry (default ${DEFAULT_TIMEOUTS.idleMs / 1000})
  --transfer-timeout S seconds for one whole request, headers and body (default ${DEFAULT_TIMEOUTS.transferMs / 1000})

  --trust-token-realm H  also send the credentials to the Bearer token service on
                       host H[:PORT] (https only) when the registry names it: for
                       registries whose token service lives on another host

Credentials go only to HOST[:PORT] itself: a token service, upload location or
redirect on another host is contacted without them, and https is never
followed to plain http. Two exceptions: Docker Hub's own token service
(https://auth.docker.io) for docker.io references, and the hosts named with
--trust-token-realm. Credentials inside a reference are refused.`;

function seconds(flag: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const n = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !(n > 0) || n > 86_400) throw new UsageError(`--${flag} takes a number of seconds between 0 and 86400, got "${value.slice(0, 40)}"`);
  return Math.round(n * 1000);
}

export type NetworkFlags = {
  "plain-http": boolean;
  username?: string;
  password?: string;
  "password-stdin": boolean;
  "docker-config"?: string;
  "trust-token-realm"?: string[];
  "connect-timeout"?: string;
  "idle-timeout"?: string;
  "transfer-timeout"?: string;
};

export function clientOptions(values: NetworkFlags, registry: string): ClientOptions {
  const timeouts = {
    connectMs: seconds("connect-timeout", values["connect-timeout"], DEFAULT_TIMEOUTS.connectMs),
    idleMs: seconds("idle-timeout", values["idle-timeout"], DEFAULT_TIMEOUTS.idleMs),
    transferMs: seconds("transfer-timeout", values["transfer-timeout"], DEFAULT_TIMEOUTS.transferMs),
  };
  let credentials: Credentials | null = null;
  if (values.username !== undefined) {
    const password = values["password-stdin"] ? readFileSync(0, "utf8").replace(/\r?\n$/, "") : values.password;
    if (password === undefined) throw new UsageError("--username needs --password or --password-stdin");
    credentials = { username: values.username, password };
  } else if (values.password !== undefined || values["password-stdin"]) throw new UsageError("--password needs --username");
  else credentials = dockerConfigCredentials(registry, values["docker-config"]);
  const realms = values["trust-token-realm"] ?? [];
  for (const realm of realms)
    if (!/^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/.test(realm) && !/^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$/.test(realm))
      throw new UsageError(`--trust-token-realm takes a host name (HOST or HOST:PORT, no scheme or path), got "${realm.slice(0, 80)}"`);
  return { plainHttp: values["plain-http"], credentials, timeouts, ...(realms.length > 0 ? { trustedTokenRealms: realms } : {}) };
}

export const pushCommand: Command = {
  name: "push",
  summary: "push an annotated module to an OCI registry (like kwctl push)",
  help: `Usage: loopback-probes push MODULE.wasm registry://HOST[:PORT]/REPOSITORY:TAG [options]

Pushes a kwctl-compatible OCI artifact: one layer ${"application/vnd.wasm.content.layer.v1+wasm"},
config {} as application/vnd.wasm.config.v1+json, an OCI image manifest whose
annotations are the module's metadata annotations as kwctl push keeps them
(multi-line values left out, the others trimmed, org.opencontainers.image.source
from io.kubewarden.policy.source unless set). Refuses modules without
io.kubewarden.metadata.
Prints the immutable reference registry://HOST/REPOSITORY@sha256:…, with the
digest computed here; a registry announcing another digest is refused.

Options:
${AUTH_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, AUTH_OPTIONS);
    if (positionals.length !== 2) throw new UsageError("expected MODULE.wasm and a registry://HOST/REPOSITORY:TAG destination");
    const [modulePath, destination] = positionals as [string, string];
    const ref = parseReference(destination);
    const result = await pushModule(readModule(modulePath), destination, clientOptions(values, ref.registry));
    console.log(result.immutable);
    return 0;
  },
};

export const pullCommand: Command = {
  name: "pull",
  summary: "pull a module from an OCI registry, verifying its digest",
  help: `Usage: loopback-probes pull registry://HOST[:PORT]/REPOSITORY[:TAG|@sha256:…] --output FILE [options]

Fetches the manifest (at most 4 MiB), requires exactly one wasm layer of at most
128 MiB, streams it and checks its size as bytes arrive, then its sha256 digest;
the manifest's digest is computed here and checked against the reference's pin
and the registry's Docker-Content-Digest. FILE appears only once every check
passed (temp file + rename in its folder); an existing FILE is kept unless
--force, and a symlink at FILE is replaced, never followed.
With -k or --verification-config-path the signatures are checked first and
the verified digest is what is pulled; a module that fails is never written.

Options:
  -o, --output FILE    where to write the module (required)
  --force              replace an existing FILE
${AUTH_HELP}

${VERIFICATION_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...AUTH_OPTIONS, ...VERIFICATION_OPTIONS, output: { type: "string", short: "o" }, force: { type: "boolean", default: false } });
    if (positionals.length !== 1) throw new UsageError("expected one registry://HOST/REPOSITORY[:TAG|@DIGEST] source");
    if (!values.output) throw new UsageError("missing --output FILE");
    const verification = verificationFromFlags(values);
    const ref = parseReference(positionals[0]!);
    const options = clientOptions(values, ref.registry);
    // Verified: pull the digest that was verified, never the tag a second time.
    const source = verification ? (await verifyModuleSource(positionals[0]!, verification, options)).immutable : positionals[0]!;
    const pulled = await pullToFile(source, values.output, { ...options, force: values.force });
    console.error(`pulled ${pulled.bytes} bytes (manifest ${pulled.digest}${verification ? ", signature verified" : ""}) → ${values.output}`);
    return 0;
  },
};

export const publishCommand: Command = {
  name: "publish",
  summary: "push every built policy as REGISTRY/<name>:v<io.kubewarden.policy.version>",
  help: `Usage: loopback-probes publish HOST[:PORT]/PATH [--dist DIR] [--sign-key KEY [-a K=V]…] [push options]

Pushes every built policy to registry://HOST[:PORT]/PATH/<name>:v<version>,
the version taken from the module's io.kubewarden.policy.version annotation
(what make publish runs): in a source checkout, dist/<name>.wasm for every
policy under policies/ (each must be built: make build); from the installed
package, the modules it ships. Prints each pushed reference with its digest;
finding nothing to push is an error (exit 2).
With --sign-key, each pushed digest is signed as \`loopback-probes sign\` does.

Options:
  --dist DIR           where the built modules are (default: the checkout's dist/, or the package's)
  --sign-key KEY       sign what is pushed with this private key (see sign --help)
  -a, --annotation K=V annotation for the signatures' payload; repeatable
${SIGNING_KEY_HELP}
${AUTH_HELP}`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...AUTH_OPTIONS, ...SIGNING_KEY_OPTIONS, dist: { type: "string", default: BUNDLED_MODULES_DIR }, "sign-key": { type: "string" }, annotation: { type: "string", short: "a", multiple: true } });
    if (positionals.length !== 1) throw new UsageError("expected the registry prefix HOST[:PORT]/PATH");
    const annotations = annotationPairs(values.annotation);
    if (values.annotation && !values["sign-key"]) throw new UsageError("-a/--annotation needs --sign-key");
    checkAnnotations(annotations);
    // Read (and decrypt) the key before pushing anything: a wrong passphrase stops the release early.
    const key = values["sign-key"] ? readSigningKey(values["sign-key"], values) : undefined;
    const prefix = positionals[0]!.replace(/^registry:\/\//, "").replace(/\/$/, "");
    let options: ClientOptions | undefined;
    // A checkout publishes its policies (each must be built); the package, the modules it ships.
    const names = isCheckout
      ? policyDirs(join(packageRoot, POLICIES_DIR)).map((d) => basename(d))
      : existsSync(values.dist)
        ? readdirSync(values.dist).filter((f) => f.endsWith(".wasm")).map((f) => f.slice(0, -".wasm".length)).sort()
        : [];
    if (names.length === 0) throw new UsageError(`nothing to publish: no built modules in ${values.dist}`, false);
    for (const name of names) {
      const module = readModule(join(values.dist, `${name}.wasm`));
      const version = readMetadata(module)?.annotations["io.kubewarden.policy.version"];
      if (!version) throw new UsageError(`${values.dist}/${name}.wasm has no io.kubewarden.policy.version annotation`);
      const destination = `registry://${prefix}/${name}:v${version}`;
      const ref = parseReference(destination);
      // Once: --password-stdin can be read only once, and every policy goes to the same registry.
      options ??= clientOptions(values, ref.registry);
      const result = await pushModule(module, destination, options);
      console.log(`${destination} → ${result.immutable}`);
      if (key) console.error(describeSigning(await signModule(result.immutable, key, annotations, options), key));
    }
    return 0;
  },
};
