/**
 * kwctl-compatible OCI artifacts for policy modules, over the registry HTTP API
 * (distribution spec): one wasm layer, an empty JSON config, an OCI image
 * manifest whose annotations are the policy's single-line metadata annotations.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { readMetadata } from "./metadata.js";
import { isWasm } from "./wasm-binary.js";

export const WASM_LAYER_MEDIA_TYPE = "application/vnd.wasm.content.layer.v1+wasm";
export const WASM_CONFIG_MEDIA_TYPE = "application/vnd.wasm.config.v1+json";
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";

export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export class OciError extends Error {}

/** `registry://host[:port]/repo[:tag|@sha256:…]` (the `registry://` prefix is optional). */
export function parseReference(url: string): Reference {
  const rest = url.replace(/^registry:\/\//, "");
  const slash = rest.indexOf("/");
  if (slash <= 0) throw new OciError(`invalid reference ${url}: expected registry://HOST[:PORT]/REPOSITORY[:TAG]`);
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = path.indexOf("@");
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new OciError(`invalid digest in ${url}`);
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new OciError(`invalid tag "${tag}" in ${url}`);
  }
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(path))
    throw new OciError(`invalid repository "${path}" in ${url}: lower-case letters, digits and separators only`);
  return { registry, repository: path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for a registry from the docker config file ($DOCKER_CONFIG/config.json or ~/.docker/config.json). */
export function dockerConfigCredentials(registry: string, configDir = process.env.DOCKER_CONFIG ?? join(homedir(), ".docker")): Credentials | null {
  const file = join(configDir, "config.json");
  if (!existsSync(file)) return null;
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new OciError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const auths = config.auths ?? {};
  const key = Object.keys(auths).find((k) => k.replace(/^https?:\/\//, "").replace(/\/.*$/, "") === registry);
  const entry = key ? auths[key] : undefined;
  if (!entry) return null;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return null;
}

export interface ClientOptions {
  plainHttp?: boolean;
  credentials?: Credentials | null;
}

/** A minimal distribution-spec client with Basic and Bearer token auth. */
export class RegistryClient {
  private authorization: string | null = null;
  constructor(
    readonly ref: Reference,
    private readonly options: ClientOptions = {},
  ) {}

  private url(path: string): string {
    return `${this.options.plainHttp ? "http" : "https"}://${this.ref.registry}/v2/${path}`;
  }

  async request(method: string, pathOrUrl: string, init: { headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<Response> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : this.url(pathOrUrl);
    const send = () =>
      fetch(url, {
        method,
        headers: { ...(init.headers ?? {}), ...(this.authorization ? { authorization: this.authorization } : {}) },
        ...(init.body !== undefined ? { body: init.body as BodyInit } : {}),
        redirect: "follow",
      });
    let response: Response;
    try {
      response = await send();
    } catch (e) {
      throw new OciError(`cannot reach ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}${this.options.plainHttp ? "" : " (use --plain-http for a registry without TLS)"}`);
    }
    if (response.status === 401 && (await this.authenticate(response))) response = await send();
    return response;
  }

  private async authenticate(response: Response): Promise<boolean> {
    const challenge = response.headers.get("www-authenticate") ?? "";
    const creds = this.options.credentials;
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` : null;
    if (/^basic/i.test(challenge)) {
      if (!basic || this.authorization === basic) return false;
      this.authorization = basic;
      return true;
    }
    if (/^bearer/i.test(challenge)) {
      const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
      if (!params.realm) return false;
      const tokenUrl = new URL(params.realm);
      if (params.service) tokenUrl.searchParams.set("service", params.service);
      if (params.scope) tokenUrl.searchParams.set("scope", params.scope);
      const r = await fetch(tokenUrl, { headers: basic ? { authorization: basic } : {} });
      if (!r.ok) return false;
      const body = (await r.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) return false;
      this.authorization = `Bearer ${token}`;
      return true;
    }
    return false;
  }

  async blobExists(digest: string): Promise<boolean> {
    const r = await this.request("HEAD", `${this.ref.repository}/blobs/${digest}`);
    return r.ok;
  }

  async pushBlob(bytes: Uint8Array): Promise<string> {
    const digest = sha256(bytes);
    if (await this.blobExists(digest)) return digest;
    const start = await this.request("POST", `${this.ref.repository}/blobs/uploads/`);
    if (start.status !== 202) throw await failure("start a blob upload", start);
    const location = start.headers.get("location");
    if (!location) throw new OciError("registry did not return an upload location");
    const uploadUrl = new URL(location, this.url(""));
    uploadUrl.searchParams.set("digest", digest);
    const put = await this.request("PUT", uploadUrl.toString(), { headers: { "content-type": "application/octet-stream" }, body: bytes });
    if (put.status !== 201) throw await failure("upload a blob", put);
    return digest;
  }

  async putManifest(reference: string, manifest: Uint8Array): Promise<string> {
    const r = await this.request("PUT", `${this.ref.repository}/manifests/${reference}`, { headers: { "content-type": OCI_MANIFEST_MEDIA_TYPE }, body: manifest });
    if (r.status !== 201) throw await failure("push the manifest", r);
    return r.headers.get("docker-content-digest") ?? sha256(manifest);
  }

  async getManifest(reference: string): Promise<{ bytes: Uint8Array; digest: string }> {
    const r = await this.request("GET", `${this.ref.repository}/manifests/${reference}`, { headers: { accept: OCI_MANIFEST_MEDIA_TYPE } });
    if (!r.ok) throw await failure(`fetch manifest ${reference}`, r);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { bytes, digest: sha256(bytes) };
  }

  async getBlob(digest: string): Promise<Uint8Array> {
    const r = await this.request("GET", `${this.ref.repository}/blobs/${digest}`);
    if (!r.ok) throw await failure(`fetch blob ${digest}`, r);
    return new Uint8Array(await r.arrayBuffer());
  }
}

async function failure(what: string, r: Response): Promise<OciError> {
  const body = (await r.text().catch(() => "")).slice(0, 500).trim();
  const hint = r.status === 401 || r.status === 403 ? " (check credentials: --username/--password or the docker config file)" : "";
  return new OciError(`could not ${what}: HTTP ${r.status}${body ? ` ${body}` : ""}${hint}`);
}

/** The manifest annotations for a module: single-line metadata annotations + image source. */
export function manifestAnnotations(module: Uint8Array): Record<string, string> {
  const metadata = readMetadata(module);
  if (!metadata) throw new OciError("the module is not annotated (no io.kubewarden.metadata section): build it with `loopback-probes build`");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata.annotations)) if (!v.includes("\n")) out[k] = v;
  const source = metadata.annotations["io.kubewarden.policy.source"];
  if (source) out["org.opencontainers.image.source"] = source;
  return out;
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
  /** The immutable reference `registry://HOST/REPO@sha256:…`. */
  immutable: string;
  digest: string;
}

export async function pushModule(module: Uint8Array, destination: string, options: ClientOptions = {}): Promise<PushResult> {
  if (!isWasm(module)) throw new OciError("not a WebAssembly module (missing \\0asm header)");
  const annotations = manifestAnnotations(module);
  const ref = parseReference(destination);
  const client = new RegistryClient(ref, options);
  const config = new TextEncoder().encode("{}");
  await client.pushBlob(config);
  await client.pushBlob(module);
  const digest = await client.putManifest(ref.tag ?? "latest", buildManifest(module, config, annotations));
  return { immutable: `registry://${ref.registry}/${ref.repository}@${digest}`, digest };
}

export async function pullModule(source: string, options: ClientOptions = {}): Promise<{ module: Uint8Array; digest: string }> {
  const ref = parseReference(source);
  const client = new RegistryClient(ref, options);
  const { bytes, digest } = await client.getManifest(ref.digest ?? ref.tag ?? "latest");
  if (ref.digest && digest !== ref.digest) throw new OciError(`manifest digest mismatch: asked for ${ref.digest}, got ${digest}`);
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as { layers?: { mediaType: string; digest: string; size: number }[] };
  const layers = (manifest.layers ?? []).filter((l) => l.mediaType === WASM_LAYER_MEDIA_TYPE);
  if (layers.length !== 1) throw new OciError(`expected exactly one ${WASM_LAYER_MEDIA_TYPE} layer, found ${layers.length}`);
  const layer = layers[0]!;
  const module = await client.getBlob(layer.digest);
  if (sha256(module) !== layer.digest) throw new OciError(`layer digest mismatch: expected ${layer.digest}, got ${sha256(module)}`);
  if (module.length !== layer.size) throw new OciError(`layer size mismatch: expected ${layer.size}, got ${module.length}`);
  if (!isWasm(module)) throw new OciError("the layer is not a WebAssembly module");
  return { module, digest };
}
