/**
 * kwctl-compatible OCI artifacts for policy modules, over the registry HTTP API
 * (distribution spec): one wasm layer, an empty JSON config, an OCI image
 * manifest whose annotations are the policy's annotations as `kwctl push` keeps them.
 *
 * The registry is not trusted: every digest we print or compare is one we
 * computed, every byte count is checked as bytes arrive, and credentials stay
 * with the registry host they were given for (see oci-http.ts).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { readMetadata } from "./metadata.js";
import { DEFAULT_TIMEOUTS, DOCKER_HUB_REGISTRIES, exchange, followRefusal, OciError, redact, type Reply, type Timeouts, tokenCredentialOrigin } from "./oci-http.js";
import { isWasm } from "./wasm-binary.js";

export { OciError } from "./oci-http.js";

export const WASM_LAYER_MEDIA_TYPE = "application/vnd.wasm.content.layer.v1+wasm";
export const WASM_CONFIG_MEDIA_TYPE = "application/vnd.wasm.config.v1+json";
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json";
const INDEX_MEDIA_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);

/** Largest manifest read (the distribution spec's suggested minimum registries accept: 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest token-service answer read. */
export const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
/** Default largest wasm layer pulled (policy modules are a few MiB); `maxModuleBytes` changes it. */
export const DEFAULT_MAX_MODULE_BYTES = 128 * 1024 * 1024;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

// host[:port]: DNS labels separated by dots, or a bracketed IPv6 address.
const REGISTRY_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/** `registry://host[:port]/repo[:tag|@sha256:…]` (the `registry://` prefix is optional). */
export function parseReference(url: string): Reference {
  const shown = redact(url.length > 300 ? `${url.slice(0, 300)}…` : url);
  const rest = url.replace(/^registry:\/\//, "");
  const slash = rest.indexOf("/");
  if (slash <= 0) throw new OciError(`invalid reference ${shown}: expected registry://HOST[:PORT]/REPOSITORY[:TAG]`);
  const registry = rest.slice(0, slash);
  if (registry.includes("@"))
    throw new OciError(`invalid reference ${redact(`registry://${rest}`)}: credentials inside a reference are not accepted (they would end up in shell history and logs); use --username with --password-stdin, or the docker config file`);
  if (!REGISTRY_HOST.test(registry)) throw new OciError(`invalid registry host in ${shown}: expected HOST or HOST:PORT`);
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = path.indexOf("@");
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!DIGEST.test(digest)) throw new OciError(`invalid digest in ${shown}: expected sha256: and 64 lower-case hex digits`);
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new OciError(`invalid tag in ${shown}`);
  }
  if (path.length > 255 || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(path))
    throw new OciError(`invalid repository in ${shown}: lower-case letters, digits and separators only`);
  return { registry, repository: path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export const formatReference = (ref: Reference) => `registry://${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;

export const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Refuses a registry-announced digest (Docker-Content-Digest) that is not the digest of `bytes`. */
function checkAnnouncedDigest(announced: string | string[] | undefined, computed: string, bytes: Uint8Array | null, what: string): void {
  if (announced === undefined) return;
  const value = (Array.isArray(announced) ? announced.join(",") : announced).trim();
  const algorithm = value.slice(0, value.indexOf(":"));
  let expected = computed;
  if (algorithm === "sha512" && bytes) expected = `sha512:${createHash("sha512").update(bytes).digest("hex")}`;
  else if (algorithm !== "sha256") throw new OciError(`the registry announced ${what} digest "${value.slice(0, 80)}" in an algorithm we cannot check; refusing it`);
  if (value !== expected) throw new OciError(`the registry announced digest ${value.slice(0, 140)} for ${what}, but its content has digest ${expected}; refusing it`);
}

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for a registry from the docker config file ($DOCKER_CONFIG/config.json or ~/.docker/config.json). */
export function dockerConfigCredentials(registry: string, configDir = process.env.DOCKER_CONFIG ?? join(homedir(), ".docker")): Credentials | null {
  const file = join(configDir, "config.json");
  if (!existsSync(file)) return null;
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new OciError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const auths = (config as { auths?: unknown } | null)?.auths;
  if (typeof auths !== "object" || auths === null) return null;
  // Docker Hub's credentials sit under https://index.docker.io/v1/ (docker login's key) whatever name a reference uses.
  const names = DOCKER_HUB_REGISTRIES.has(registry.toLowerCase()) ? DOCKER_HUB_REGISTRIES : new Set([registry]);
  const key = Object.keys(auths).find((k) => names.has(k.replace(/^https?:\/\//, "").replace(/\/.*$/, "")));
  const entry = key === undefined ? undefined : (Object.getOwnPropertyDescriptor(auths, key)?.value as { auth?: unknown; username?: unknown; password?: unknown } | undefined);
  if (typeof entry !== "object" || entry === null) return null;
  if (typeof entry.auth === "string" && entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (typeof entry.username === "string" && typeof entry.password === "string" && entry.username && entry.password) return { username: entry.username, password: entry.password };
  return null;
}

export interface ClientOptions {
  /** Talk HTTP instead of HTTPS to the registry. */
  plainHttp?: boolean;
  /** Sent only to the registry's own origin (scheme, host, port), and to its token service where tokenCredentialOrigin allows. */
  credentials?: Credentials | null;
  /** Token-service hosts (`HOST[:PORT]`, https only) that may get the credentials (--trust-token-realm). */
  trustedTokenRealms?: readonly string[];
  /** Overrides of DEFAULT_TIMEOUTS. */
  timeouts?: Partial<Timeouts>;
  /** Extra trusted CA certificates (PEM), added to Node's defaults. */
  ca?: string | Buffer;
  /** Largest wasm layer pulled (default DEFAULT_MAX_MODULE_BYTES). */
  maxModuleBytes?: number;
}

interface RequestOptions {
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** A minimal distribution-spec client with Basic and Bearer token auth. */
export class RegistryClient {
  private authorization: string | null = null;
  private token: string | null = null;
  readonly base: URL;
  private readonly timeouts: Timeouts;

  constructor(
    readonly ref: Reference,
    private readonly options: ClientOptions = {},
  ) {
    // Docker Hub's registry API is registry-1.docker.io, whatever name the reference uses.
    const host = DOCKER_HUB_REGISTRIES.has(ref.registry.toLowerCase()) ? "registry-1.docker.io" : ref.registry;
    this.base = new URL(`${options.plainHttp ? "http" : "https"}://${host}/v2/`);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...(options.timeouts ?? {}) };
  }

  private basic(): string | null {
    const c = this.options.credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}` : null;
  }

  /** Everything that must never be printed. */
  private secrets = (): string[] => {
    const c = this.options.credentials;
    const basic = this.basic();
    return [...(c ? [c.password, `${c.username}:${c.password}`] : []), ...(basic ? [basic.slice(6)] : []), ...(this.token ? [this.token] : [])];
  };

  private http(url: URL, method: string, init: RequestOptions, authorization: string | null, credentialOrigin = this.base.origin): Promise<Reply> {
    return exchange(url, { method, ...init, authorization, credentialOrigin }, { timeouts: this.timeouts, ...(this.options.ca ? { ca: this.options.ca } : {}), secrets: this.secrets });
  }

  async request(method: string, pathOrUrl: string | URL, init: RequestOptions = {}): Promise<Reply> {
    const url = typeof pathOrUrl === "string" ? new URL(pathOrUrl, this.base) : pathOrUrl;
    const reply = await this.http(url, method, init, this.authorization);
    if (reply.status !== 401 || url.origin !== this.base.origin) return reply;
    let retry: boolean;
    try {
      retry = await this.authenticate(String(reply.headers["www-authenticate"] ?? ""));
    } catch (e) {
      reply.discard();
      throw e;
    }
    if (!retry) return reply; // its body explains the 401
    reply.discard();
    return this.http(url, method, init, this.authorization);
  }

  /** Answers a 401 challenge; false when there is nothing (new) to try. */
  private async authenticate(challenge: string): Promise<boolean> {
    const basic = this.basic();
    if (/^basic/i.test(challenge)) {
      if (!basic || this.authorization === basic) return false;
      this.authorization = basic;
      return true;
    }
    if (!/^bearer/i.test(challenge)) return false;
    const params = new Map([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    const realm = params.get("realm");
    if (!realm) return false;
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch {
      throw new OciError(`${this.base.host} named an invalid token service URL`);
    }
    const refusal = followRefusal(this.base, tokenUrl);
    if (refusal) throw new OciError(`token service: ${refusal}`);
    for (const key of ["service", "scope"]) {
      const value = params.get(key);
      if (value) tokenUrl.searchParams.set(key, value);
    }
    const credentialOrigin = tokenCredentialOrigin(this.base, tokenUrl, this.options.trustedTokenRealms);
    const reply = await this.http(tokenUrl, "GET", {}, basic, credentialOrigin);
    if (reply.status !== 200) {
      const excerpt = await reply.excerpt();
      const why =
        basic && credentialOrigin !== tokenUrl.origin
          ? ` (credentials are sent only to ${this.base.host}, not to a token service on another host; if ${tokenUrl.host} is ${this.base.host}'s own token service, allow it with --trust-token-realm ${tokenUrl.host})`
          : "";
      throw new OciError(`the token service at ${tokenUrl.host} answered HTTP ${reply.status}${excerpt ? `: ${excerpt}` : ""}${why}`);
    }
    let body: { token?: unknown; access_token?: unknown };
    try {
      body = JSON.parse((await reply.readAll(MAX_TOKEN_RESPONSE_BYTES, "a token")).toString("utf8"));
    } catch (e) {
      if (e instanceof OciError) throw e;
      throw new OciError(`the token service at ${tokenUrl.host} did not answer JSON`);
    }
    const token = typeof body?.token === "string" && body.token ? body.token : body?.access_token;
    if (typeof token !== "string" || !/^[\x21-\x7e]+$/.test(token)) throw new OciError(`the token service at ${tokenUrl.host} answered no usable token`);
    const authorization = `Bearer ${token}`;
    if (this.authorization === authorization) return false;
    this.token = token;
    this.authorization = authorization;
    return true;
  }

  private async failure(what: string, reply: Reply): Promise<OciError> {
    const excerpt = await reply.excerpt();
    const hint = reply.status === 401 || reply.status === 403 ? " (check credentials: --username with --password-stdin, or the docker config file)" : "";
    return new OciError(`could not ${what}: ${reply.url.host} answered HTTP ${reply.status}${excerpt ? ` ${excerpt}` : ""}${hint}`);
  }

  async blobExists(digest: string): Promise<boolean> {
    const reply = await this.request("HEAD", `${this.ref.repository}/blobs/${digest}`);
    reply.discard();
    return reply.status === 200;
  }

  async pushBlob(bytes: Uint8Array): Promise<string> {
    const digest = sha256(bytes);
    if (await this.blobExists(digest)) return digest;
    const start = await this.request("POST", `${this.ref.repository}/blobs/uploads/`);
    if (start.status !== 202) throw await this.failure("start a blob upload", start);
    start.discard();
    const location = start.headers.location;
    if (!location) throw new OciError(`${start.url.host} did not return an upload location`);
    let uploadUrl: URL;
    try {
      uploadUrl = new URL(location, start.url);
    } catch {
      throw new OciError(`${start.url.host} returned an invalid upload location`);
    }
    const refusal = followRefusal(start.url, uploadUrl);
    if (refusal) throw new OciError(`upload location: ${refusal}`);
    uploadUrl.searchParams.set("digest", digest);
    const put = await this.request("PUT", uploadUrl, { headers: { "content-type": "application/octet-stream" }, body: bytes });
    if (put.status !== 201) throw await this.failure("upload a blob", put);
    put.discard();
    checkAnnouncedDigest(put.headers["docker-content-digest"], digest, bytes, "an uploaded blob");
    return digest;
  }

  /** Returns the digest we computed; a different Docker-Content-Digest is refused. */
  async putManifest(reference: string, manifest: Uint8Array): Promise<string> {
    const reply = await this.request("PUT", `${this.ref.repository}/manifests/${reference}`, { headers: { "content-type": OCI_MANIFEST_MEDIA_TYPE }, body: manifest });
    if (reply.status !== 201) throw await this.failure("push the manifest", reply);
    reply.discard();
    const digest = sha256(manifest);
    checkAnnouncedDigest(reply.headers["docker-content-digest"], digest, manifest, "the pushed manifest");
    return digest;
  }

  async getManifest(reference: string): Promise<{ bytes: Uint8Array; digest: string }> {
    const reply = await this.manifestRequest(reference);
    if (reply.status !== 200) throw await this.failure(`fetch manifest ${reference}`, reply);
    return this.manifestOf(reply, reference);
  }

  /** As getManifest, but null when the registry answers 404 (no such tag or digest). */
  async findManifest(reference: string): Promise<{ bytes: Uint8Array; digest: string } | null> {
    const reply = await this.manifestRequest(reference);
    if (reply.status === 404) {
      reply.discard();
      return null;
    }
    if (reply.status !== 200) throw await this.failure(`fetch manifest ${reference}`, reply);
    return this.manifestOf(reply, reference);
  }

  private manifestRequest(reference: string): Promise<Reply> {
    return this.request("GET", `${this.ref.repository}/manifests/${reference}`, { headers: { accept: `${OCI_MANIFEST_MEDIA_TYPE}, ${DOCKER_MANIFEST_MEDIA_TYPE}` } });
  }

  private async manifestOf(reply: Reply, reference: string): Promise<{ bytes: Uint8Array; digest: string }> {
    const bytes = new Uint8Array(await reply.readAll(MAX_MANIFEST_BYTES, "a manifest"));
    const digest = sha256(bytes);
    if (DIGEST.test(reference) && digest !== reference) throw new OciError(`manifest digest mismatch: asked for ${reference}, the registry sent content with digest ${digest}; refusing it`);
    checkAnnouncedDigest(reply.headers["docker-content-digest"], digest, bytes, "the manifest");
    return { bytes, digest };
  }

  /**
   * Streams a blob to `onChunk`, refusing more bytes than `size` as they arrive, fewer at
   * the end, and content whose sha256 is not `digest`.
   */
  async streamBlob(digest: string, size: number, onChunk: (chunk: Buffer) => void): Promise<void> {
    const reply = await this.request("GET", `${this.ref.repository}/blobs/${digest}`);
    if (reply.status !== 200) throw await this.failure(`fetch blob ${digest}`, reply);
    const declared = Number(reply.headers["content-length"]);
    if (reply.headers["content-length"] !== undefined && declared !== size) {
      reply.discard();
      throw new OciError(`${reply.url.host} announced ${reply.headers["content-length"]} bytes for layer ${digest}, the manifest says ${size}; refusing it`);
    }
    const hash = createHash("sha256");
    let received = 0;
    await reply.stream((chunk) => {
      received += chunk.length;
      if (received > size) throw new OciError(`${reply.url.host} sent more than the manifest's ${size} bytes for layer ${digest}; stopped reading`);
      hash.update(chunk);
      onChunk(chunk);
    });
    if (received < size) throw new OciError(`layer ${digest} ended after ${received} of the manifest's ${size} bytes`);
    const actual = `sha256:${hash.digest("hex")}`;
    if (actual !== digest) throw new OciError(`layer digest mismatch: the manifest says ${digest}, the content has ${actual}; refusing it`);
  }
}

/** kwctl's trim (Rust `str::trim`: Unicode White_Space, unlike JS `trim`, which also strips U+FEFF). */
function trimWhiteSpace(value: string): string {
  const space = (c: number) => (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
  let start = 0;
  let end = value.length;
  while (start < end && space(value.charCodeAt(start))) start++;
  while (end > start && space(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/** Lines as Rust's `str::lines` counts them: split on \n, a final \n ends the last line. */
function lineCount(value: string): number {
  if (value === "") return 0;
  const pieces = value.split("\n").length;
  return value.endsWith("\n") ? pieces - 1 : pieces;
}

/**
 * The manifest annotations `kwctl push` writes for these policy annotations: values of
 * more than one line dropped (OCI annotations are single-line), the rest trimmed (so a
 * value ending in one newline is kept without it), and org.opencontainers.image.source
 * taken from io.kubewarden.policy.source unless already set. Keys sorted, as kwctl's
 * BTreeMap serialises them.
 */
export function ociAnnotations(annotations: Readonly<Record<string, string>>): Record<string, string> {
  const kept = new Map<string, string>();
  for (const [key, value] of Object.entries(annotations)) if (lineCount(value) <= 1) kept.set(key, trimWhiteSpace(value));
  const source = kept.get("io.kubewarden.policy.source");
  if (source !== undefined && !kept.has("org.opencontainers.image.source")) kept.set("org.opencontainers.image.source", source);
  const out: Record<string, string> = {};
  for (const key of [...kept.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) out[key] = kept.get(key)!;
  return out;
}

/** The manifest annotations for an annotated module (see ociAnnotations). */
export function manifestAnnotations(module: Uint8Array): Record<string, string> {
  const metadata = readMetadata(module);
  if (!metadata) throw new OciError("the module is not annotated (no io.kubewarden.metadata section): build it with `loopback-probes build`");
  return ociAnnotations(metadata.annotations);
}

export function buildManifest(layer: Uint8Array, config: Uint8Array, annotations: Record<string, string>): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: { mediaType: WASM_CONFIG_MEDIA_TYPE, digest: sha256(config), size: config.length },
    layers: [{ mediaType: WASM_LAYER_MEDIA_TYPE, digest: sha256(layer), size: layer.length }],
    annotations,
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

export interface PushResult {
  /** The immutable reference `registry://HOST/REPO@sha256:…`, with the digest we computed. */
  immutable: string;
  digest: string;
}

export async function pushModule(module: Uint8Array, destination: string, options: ClientOptions = {}): Promise<PushResult> {
  if (!isWasm(module)) throw new OciError("not a WebAssembly module (missing \\0asm header)");
  const annotations = manifestAnnotations(module);
  const ref = parseReference(destination);
  if (ref.digest) throw new OciError("push needs a tag (registry://HOST/REPOSITORY:TAG), not a digest");
  const client = new RegistryClient(ref, options);
  const config = new TextEncoder().encode("{}");
  await client.pushBlob(config);
  await client.pushBlob(module);
  const digest = await client.putManifest(ref.tag ?? "latest", buildManifest(module, config, annotations));
  return { immutable: `registry://${ref.registry}/${ref.repository}@${digest}`, digest };
}

export interface WasmLayer {
  digest: string;
  size: number;
}

export interface ResolvedManifest {
  /** The manifest digest, computed from its bytes. */
  digest: string;
  bytes: Uint8Array;
  layer: WasmLayer;
}

/** The one wasm layer of a policy manifest, validated (digest format, size) before any use. */
export function wasmLayerOf(bytes: Uint8Array, maxModuleBytes = DEFAULT_MAX_MODULE_BYTES): WasmLayer {
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new OciError("the manifest is not valid JSON");
  }
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) throw new OciError("the manifest is not a JSON object");
  const { mediaType, layers } = manifest as { mediaType?: unknown; layers?: unknown };
  if (typeof mediaType === "string" && INDEX_MEDIA_TYPES.has(mediaType)) throw new OciError(`the reference names an image index (${mediaType}), not a policy: a policy is one manifest with one wasm layer`);
  if (!Array.isArray(layers)) throw new OciError("the manifest has no layers list");
  const wasm = layers.filter((l): l is Record<string, unknown> => typeof l === "object" && l !== null && (l as { mediaType?: unknown }).mediaType === WASM_LAYER_MEDIA_TYPE);
  if (wasm.length !== 1) throw new OciError(`expected exactly one ${WASM_LAYER_MEDIA_TYPE} layer, found ${wasm.length}`);
  const { digest, size } = wasm[0]!;
  if (typeof digest !== "string" || !DIGEST.test(digest)) throw new OciError("the wasm layer's digest is not sha256: and 64 lower-case hex digits");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 8) throw new OciError("the wasm layer's size is not a whole number of at least 8 bytes");
  if (size > maxModuleBytes) throw new OciError(`the wasm layer is ${size} bytes, more than the limit of ${maxModuleBytes} bytes`);
  return { digest, size };
}

/** Fetches and verifies the manifest a reference names. */
export async function resolveManifest(client: RegistryClient, options: ClientOptions = {}): Promise<ResolvedManifest> {
  const { ref } = client;
  const { bytes, digest } = await client.getManifest(ref.digest ?? ref.tag ?? "latest");
  return { digest, bytes, layer: wasmLayerOf(bytes, options.maxModuleBytes) };
}

/** Streams the verified wasm layer; the first 8 bytes must be a wasm header. */
export async function streamModule(client: RegistryClient, layer: WasmLayer, onChunk: (chunk: Buffer) => void): Promise<void> {
  let head = Buffer.alloc(0);
  await client.streamBlob(layer.digest, layer.size, (chunk) => {
    if (head.length < 8) {
      head = Buffer.concat([head, chunk.subarray(0, 8 - head.length)]);
      if (head.length === 8 && !isWasm(head)) throw new OciError(`layer ${layer.digest} is not a WebAssembly module`);
    }
    onChunk(chunk);
  });
}

export interface PulledModule {
  module: Uint8Array;
  /** The manifest digest (computed, and equal to the reference's when it pins one). */
  digest: string;
  layerDigest: string;
}

/** Pulls a module into memory (up to `maxModuleBytes`). */
export async function pullModule(source: string, options: ClientOptions = {}): Promise<PulledModule> {
  const client = new RegistryClient(parseReference(source), options);
  const { digest, layer } = await resolveManifest(client, options);
  // Chunks, not one buffer of the announced size: memory follows the bytes that arrive.
  const chunks: Buffer[] = [];
  await streamModule(client, layer, (chunk) => chunks.push(chunk));
  return { module: Buffer.concat(chunks), digest, layerDigest: layer.digest };
}
