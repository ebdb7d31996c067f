/**
 * cosign "simple signing" signatures of policy modules, as Kubewarden verifies them
 * (policy-fetcher `verify/`, sigstore-rs `cosign/`), for keys — no transparency
 * log, no certificates: this works air-gapped, as key-based verification does in
 * policy-server.
 *
 * Where they live: the tag `sha256-<hex>.sig` in the policy's repository, an image
 * manifest whose layers (media type application/vnd.dev.cosign.simplesigning.v1+json)
 * each hold one payload
 *   {"critical":{"identity":{"docker-reference":REPO},"image":{"docker-manifest-digest":DIGEST},
 *    "type":"cosign container image signature"},"optional":{…annotations}|null}
 * with the annotation dev.cosignproject.cosign/signature = base64 of the signature
 * over exactly those bytes. Several signers add layers to the same manifest.
 *
 * What counts, as in sigstore-rs: a layer of another media type, whose bytes do not
 * parse, that signs another digest or that has no signature is ignored (and we say
 * so); only docker-manifest-digest is compared with the module's digest (a mirror
 * keeps the original docker-reference); a pubKey entry is satisfied by a layer its
 * key verifies whose `optional` holds every annotation the entry asks for.
 */
import { type ClientOptions, formatReference, OciError, parseReference, type Reference, RegistryClient, resolveManifest, sha256 } from "./oci.js";
import { printable } from "./oci-http.js";
import { KeyError, loadVerificationKey, type SigningKey, signMessage, type VerificationKey, verifyMessage } from "./signing-keys.js";
import { describeSignature, type Signature, type VerificationConfig } from "./verification-config.js";

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
/** Present on keyless (Fulcio) signatures; sigstore-rs reads it only with a Fulcio trust root. */
export const CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate";
export const OCI_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
export const SIMPLE_SIGNING_TYPE = "cosign container image signature";
/** Signature layers read from one manifest; more is not a policy's signature set but an attack on the reader. */
export const MAX_SIGNATURE_LAYERS = 256;
/** Largest payload read (cosign's are a few hundred bytes, annotations included): with MAX_SIGNATURE_LAYERS, at most 16 MiB per verification. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** The keys of `optional` sigstore-rs reads as typed fields, so never as annotations. */
const TYPED_OPTIONAL_FIELDS = new Set(["creator", "timestamp"]);

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export class SignatureError extends Error {}

/** The tag cosign and Kubewarden look for the signatures of `digest` under. */
export function signatureTag(digest: string): string {
  if (!DIGEST.test(digest)) throw new SignatureError(`not a sha256 digest: ${digest.slice(0, 80)}`);
  return `${digest.replace(":", "-")}.sig`;
}

/** The payload's docker-reference: the repository, as cosign writes it (`ref.Context().Name()`). */
export const dockerReference = (ref: Reference) => `${ref.registry}/${ref.repository}`;

/** Annotation names must be non-empty; `creator` and `timestamp` could never be matched by Kubewarden. */
export function checkSigningAnnotations(annotations: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(annotations)) {
    if (key === "") throw new SignatureError("an annotation needs a name (KEY=VALUE)");
    if (TYPED_OPTIONAL_FIELDS.has(key)) throw new SignatureError(`the annotation "${key}" cannot be verified by Kubewarden: sigstore-rs reads optional.${key} as a field of its own, never as an annotation; use another name`);
  }
}

/**
 * The simple signing payload cosign writes, byte for byte: keys in cosign's order,
 * `optional` sorted by key (Go marshals maps sorted) or null without annotations.
 */
export function simpleSigningPayload(identity: string, digest: string, annotations: Readonly<Record<string, string>> = {}): Uint8Array {
  if (!DIGEST.test(digest)) throw new SignatureError(`not a sha256 digest: ${digest.slice(0, 80)}`);
  const keys = Object.keys(annotations).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const optional = keys.length === 0 ? null : Object.fromEntries(keys.map((k) => [k, annotations[k]!]));
  const payload = { critical: { identity: { "docker-reference": identity }, image: { "docker-manifest-digest": digest }, type: SIMPLE_SIGNING_TYPE }, optional };
  return new TextEncoder().encode(JSON.stringify(payload));
}

export interface SimpleSigning {
  dockerReference: string;
  manifestDigest: string;
  type: string;
  /** `optional` as signed (own properties only), or null. */
  optional: Readonly<Record<string, unknown>> | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const field = (o: Record<string, unknown>, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

/** Parses a payload as sigstore-rs's SimpleSigning does; a SignatureError says what does not fit. */
export function parseSimpleSigning(bytes: Uint8Array): SimpleSigning {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new SignatureError("the payload is not UTF-8 JSON");
  }
  if (!isObject(value)) throw new SignatureError("the payload is not a JSON object");
  const critical = field(value, "critical");
  if (!isObject(critical)) throw new SignatureError("the payload has no critical object");
  const identity = field(critical, "identity");
  const image = field(critical, "image");
  const type = field(critical, "type");
  const reference = isObject(identity) ? field(identity, "docker-reference") : undefined;
  const digest = isObject(image) ? field(image, "docker-manifest-digest") : undefined;
  if (typeof reference !== "string") throw new SignatureError("the payload has no critical.identity.docker-reference string");
  if (typeof digest !== "string") throw new SignatureError("the payload has no critical.image.docker-manifest-digest string");
  if (typeof type !== "string") throw new SignatureError("the payload has no critical.type string");
  const optional = field(value, "optional");
  if (optional !== undefined && optional !== null && !isObject(optional)) throw new SignatureError("the payload's optional is neither an object nor null");
  if (isObject(optional)) {
    const creator = field(optional, "creator");
    const timestamp = field(optional, "timestamp");
    if (creator !== undefined && creator !== null && typeof creator !== "string") throw new SignatureError("the payload's optional.creator is not a string");
    if (timestamp !== undefined && timestamp !== null && !(typeof timestamp === "number" && Number.isSafeInteger(timestamp))) throw new SignatureError("the payload's optional.timestamp is not a whole number");
  }
  return { dockerReference: reference, manifestDigest: digest, type, optional: isObject(optional) ? optional : null };
}

/**
 * Why `optional` does not hold the annotations an entry asks for (null: it does), as
 * sigstore-rs matches them: strings equal; numbers and booleans by their text; the
 * typed fields creator and timestamp never.
 */
export function annotationMismatch(optional: Readonly<Record<string, unknown>> | null, wanted: Readonly<Record<string, string>>): string | null {
  const keys = Object.keys(wanted);
  if (keys.length === 0) return null;
  if (optional === null) return "the signature carries no annotations";
  const extra = Object.keys(optional).filter((k) => !TYPED_OPTIONAL_FIELDS.has(k));
  if (extra.length === 0) return "the signature carries no annotations";
  for (const key of keys) {
    const want = wanted[key]!;
    if (TYPED_OPTIONAL_FIELDS.has(key)) return `annotation ${key}: Kubewarden never matches it (sigstore-rs reads optional.${key} as a field of its own)`;
    if (!Object.hasOwn(optional, key)) return `annotation ${key} is missing`;
    const have = optional[key];
    let text: string;
    if (typeof have === "string") text = have;
    else if (typeof have === "boolean") text = have ? "true" : "false";
    else if (typeof have === "number" && Number.isSafeInteger(have)) text = String(have);
    else return `annotation ${key} is not a string, boolean or whole number`;
    if (text !== want) return `annotation ${key} is ${JSON.stringify(text)}, wanted ${JSON.stringify(want)}`;
  }
  return null;
}

export interface SignatureLayer {
  /** Position in the signature manifest's layers (0-based). */
  index: number;
  digest: string;
  payload: Uint8Array;
  simpleSigning: SimpleSigning;
  /** Base64, from the dev.cosignproject.cosign/signature annotation. */
  signature: string;
  /** Carries a Fulcio certificate: a keyless signature. */
  keyless: boolean;
}

export interface IgnoredLayer {
  index: number;
  reason: string;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The layers of a signature manifest, each checked for shape before any is fetched. */
function descriptorsOf(bytes: Uint8Array): unknown[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SignatureError("the signature manifest is not JSON");
  }
  if (!isObject(manifest)) throw new SignatureError("the signature manifest is not a JSON object");
  const layers = field(manifest, "layers");
  if (!Array.isArray(layers)) throw new SignatureError(`the signature tag holds no image manifest (an image index or another kind of object): Kubewarden reads signatures from an image manifest's layers`);
  if (layers.length > MAX_SIGNATURE_LAYERS) throw new SignatureError(`the signature manifest has ${layers.length} layers, more than the ${MAX_SIGNATURE_LAYERS} read`);
  return layers;
}

function descriptor(value: unknown): Descriptor | string {
  if (!isObject(value)) return "not a layer descriptor";
  const { mediaType, digest, size, annotations } = { mediaType: field(value, "mediaType"), digest: field(value, "digest"), size: field(value, "size"), annotations: field(value, "annotations") };
  if (mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) return `media type ${typeof mediaType === "string" ? printable(mediaType).slice(0, 100) : "(none)"}, not ${SIMPLE_SIGNING_MEDIA_TYPE}`;
  if (typeof digest !== "string" || !DIGEST.test(digest)) return "its digest is not sha256: and 64 lower-case hex digits";
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return "its size is not a whole number";
  if (size > MAX_PAYLOAD_BYTES) return `its payload is ${size} bytes, more than the ${MAX_PAYLOAD_BYTES} read`;
  const kept: Record<string, string> = {};
  if (isObject(annotations)) for (const [k, v] of Object.entries(annotations)) if (typeof v === "string") Object.defineProperty(kept, k, { value: v, enumerable: true });
  return { mediaType, digest, size, annotations: kept };
}

export interface SignatureSet {
  /** registry://HOST/REPO:sha256-<hex>.sig */
  tag: string;
  /** Whether the signature tag exists at all. */
  found: boolean;
  layers: SignatureLayer[];
  ignored: IgnoredLayer[];
}

async function readBlob(client: RegistryClient, digest: string, size: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  await client.streamBlob(digest, size, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks);
}

/** Fetches and checks the signature layers of the module manifest `digest` (in `client`'s repository). */
export async function readSignatures(client: RegistryClient, digest: string): Promise<SignatureSet> {
  const tagName = signatureTag(digest);
  const tag = formatReference({ registry: client.ref.registry, repository: client.ref.repository, tag: tagName });
  const manifest = await client.findManifest(tagName);
  if (!manifest) return { tag, found: false, layers: [], ignored: [] };
  const layers: SignatureLayer[] = [];
  const ignored: IgnoredLayer[] = [];
  const descriptors = descriptorsOf(manifest.bytes);
  for (const [index, value] of descriptors.entries()) {
    const d = descriptor(value);
    if (typeof d === "string") {
      ignored.push({ index, reason: d });
      continue;
    }
    const signature = Object.hasOwn(d.annotations!, SIGNATURE_ANNOTATION) ? d.annotations![SIGNATURE_ANNOTATION]! : undefined;
    if (signature === undefined) {
      ignored.push({ index, reason: `no ${SIGNATURE_ANNOTATION} annotation` });
      continue;
    }
    let payload: Uint8Array;
    try {
      payload = await readBlob(client, d.digest, d.size);
    } catch (e) {
      if (!(e instanceof OciError)) throw e;
      ignored.push({ index, reason: e.message });
      continue;
    }
    let simpleSigning: SimpleSigning;
    try {
      simpleSigning = parseSimpleSigning(payload);
    } catch (e) {
      ignored.push({ index, reason: (e as Error).message });
      continue;
    }
    if (simpleSigning.manifestDigest !== digest) {
      ignored.push({ index, reason: `it signs ${printable(simpleSigning.manifestDigest).slice(0, 80)}, not ${digest}` });
      continue;
    }
    layers.push({ index, digest: d.digest, payload, simpleSigning, signature, keyless: Object.hasOwn(d.annotations!, CERTIFICATE_ANNOTATION) });
  }
  return { tag, found: true, layers, ignored };
}

/** An image manifest for signature layers (config `{}`, as sigstore-rs pushes it). */
export function signatureManifest(layers: readonly unknown[], config: Uint8Array): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: OCI_CONFIG_MEDIA_TYPE, digest: sha256(config), size: config.length },
    layers,
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

export interface SignResult {
  /** registry://HOST/REPO@sha256:… of the module that was signed. */
  signed: string;
  digest: string;
  /** registry://HOST/REPO:sha256-<hex>.sig */
  tag: string;
  /** Signature layers now in the manifest. */
  layers: number;
  /** False when an identical signature by this key was already there (nothing pushed). */
  added: boolean;
}

/**
 * Signs the policy `source` names (a tag is resolved to its digest first, and the
 * digest is what is signed): adds one layer to its `sha256-<hex>.sig` manifest,
 * keeping the layers already there. Signing again with the same key and
 * annotations adds nothing. Two signers writing at the same moment can lose one
 * layer (the registry has no compare-and-swap); cosign shares that limit.
 */
export async function signModule(source: string, key: SigningKey, annotations: Readonly<Record<string, string>>, options: ClientOptions = {}): Promise<SignResult> {
  checkSigningAnnotations(annotations);
  const ref = parseReference(source);
  const client = new RegistryClient(ref, options);
  const { digest } = await resolveManifest(client, options);
  const tagName = signatureTag(digest);
  const signed = formatReference({ registry: ref.registry, repository: ref.repository, digest });
  const tag = formatReference({ registry: ref.registry, repository: ref.repository, tag: tagName });
  const payload = simpleSigningPayload(dockerReference(ref), digest, annotations);
  const payloadDigest = sha256(payload);

  const existing = await client.findManifest(tagName);
  const kept = existing ? descriptorsOf(existing.bytes) : [];
  if (kept.length >= MAX_SIGNATURE_LAYERS) throw new SignatureError(`${tag} already has ${kept.length} layers; refusing to add more`);
  for (const value of kept) {
    const d = descriptor(value);
    if (typeof d === "string" || d.digest !== payloadDigest) continue;
    const signature = Object.hasOwn(d.annotations!, SIGNATURE_ANNOTATION) ? d.annotations![SIGNATURE_ANNOTATION]! : "";
    // Same payload digest: the registry holds our bytes; the signature decides whether it is ours.
    if (verifyMessage(key, payload, signature)) return { signed, digest, tag, layers: kept.length, added: false };
  }
  const config = new TextEncoder().encode("{}");
  await client.pushBlob(payload);
  await client.pushBlob(config);
  const layer = { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, digest: payloadDigest, size: payload.length, annotations: { [SIGNATURE_ANNOTATION]: signMessage(key, payload) } };
  await client.putManifest(tagName, signatureManifest([...kept, layer], config));
  return { signed, digest, tag, layers: kept.length + 1, added: true };
}

export interface RuleOutcome {
  /** "allOf[0]", "anyOf.signatures[2]". */
  rule: string;
  signature: Signature;
  satisfied: boolean;
  /** The layers that satisfy it. */
  layers: number[];
  /** Why it is (not) satisfied, in words. Contains config and registry text: print through printable(). */
  reason: string;
}

export interface Verdict {
  verified: boolean;
  outcomes: RuleOutcome[];
  /** One line per failed requirement ("allOf: 1 of 2 signatures not satisfied", "anyOf: …"). */
  failures: string[];
  /** Keyless entries that could not be checked here (each also an outcome, unsatisfied). */
  keyless: number;
}

function keyOf(s: Signature & { kind: "pubKey" }, rule: string): VerificationKey | string {
  try {
    return loadVerificationKey(s.key, `the key of ${rule}`);
  } catch (e) {
    if (e instanceof KeyError) return e.message;
    throw e;
  }
}

const KEYLESS_REASON =
  "keyless entry: checking it needs the Sigstore infrastructure (Fulcio's certificate chain and Rekor's transparency log), which this command does not use; verify it with `kwctl verify` or `cosign verify`";

function outcome(signature: Signature, rule: string, layers: readonly SignatureLayer[]): RuleOutcome {
  if (signature.kind !== "pubKey") {
    const withCertificate = layers.filter((l) => l.keyless).length;
    return { rule, signature, satisfied: false, layers: [], reason: `${KEYLESS_REASON} (${withCertificate} signature layer(s) carry a Fulcio certificate)` };
  }
  const key = keyOf(signature, rule);
  if (typeof key === "string") return { rule, signature, satisfied: false, layers: [], reason: `cannot read the key: ${key}` };
  const named = `${key.kind} key ${key.fingerprint.slice(0, 23)}…`;
  const signedBy = layers.filter((l) => verifyMessage(key, l.payload, l.signature));
  if (signedBy.length === 0) return { rule, signature, satisfied: false, layers: [], reason: `no signature layer is signed by the ${named}` };
  const wanted = signature.annotations ?? {};
  const matching = signedBy.filter((l) => annotationMismatch(l.simpleSigning.optional, wanted) === null);
  if (matching.length === 0) {
    const why = signedBy.map((l) => `layer ${l.index}: ${annotationMismatch(l.simpleSigning.optional, wanted)}`).join("; ");
    return { rule, signature, satisfied: false, layers: [], reason: `signed by the ${named}, but not with the annotations asked for (${why})` };
  }
  const asked = Object.keys(wanted).length > 0 ? ` with annotations ${Object.entries(wanted).map(([k, v]) => `${k}=${v}`).join(", ")}` : "";
  return { rule, signature, satisfied: true, layers: matching.map((l) => l.index), reason: `signed by the ${named}${asked} (layer ${matching.map((l) => l.index).join(", ")})` };
}

/** Checks signature layers against a verification config, as policy-fetcher does. */
export function evaluate(config: VerificationConfig, layers: readonly SignatureLayer[]): Verdict {
  const outcomes: RuleOutcome[] = [];
  const failures: string[] = [];
  if (config.allOf) {
    const results = config.allOf.map((s, i) => outcome(s, `allOf[${i}]`, layers));
    outcomes.push(...results);
    const missing = results.filter((r) => !r.satisfied).length;
    if (missing > 0) failures.push(`allOf: missing signatures: ${missing} of ${results.length} not satisfied`);
  }
  if (config.anyOf) {
    const results = config.anyOf.signatures.map((s, i) => outcome(s, `anyOf.signatures[${i}]`, layers));
    outcomes.push(...results);
    const got = results.filter((r) => r.satisfied).length;
    if (got < config.anyOf.minimumMatches) failures.push(`anyOf: minimum number of signatures not reached: needed ${config.anyOf.minimumMatches}, got ${got}`);
  }
  return { verified: failures.length === 0, outcomes, failures, keyless: outcomes.filter((o) => o.signature.kind !== "pubKey").length };
}

export interface Verification extends Verdict {
  /** The module manifest digest that was verified: pull this, never the tag again. */
  digest: string;
  /** registry://HOST/REPO@<digest> */
  immutable: string;
  signatures: SignatureSet;
}

/**
 * Resolves `source` to its manifest digest (checking it is a policy: one wasm layer),
 * reads that digest's signatures and checks them against `config`. The caller must
 * use `immutable` (the verified digest) for everything after, so a tag moved in
 * between cannot swap the module.
 */
export async function verifyModule(source: string, config: VerificationConfig, options: ClientOptions = {}): Promise<Verification> {
  const ref = parseReference(source);
  const client = new RegistryClient(ref, options);
  const { digest } = await resolveManifest(client, options);
  const signatures = await readSignatures(client, digest);
  const verdict = evaluate(config, signatures.layers);
  if (!signatures.found) verdict.failures.unshift(`no signatures: ${signatures.tag} does not exist`);
  else if (signatures.layers.length === 0) verdict.failures.unshift(`no usable signature layer in ${signatures.tag}`);
  const verified = verdict.verified && signatures.layers.length > 0;
  return { ...verdict, verified, digest, immutable: formatReference({ registry: ref.registry, repository: ref.repository, digest }), signatures };
}

/** The lines `verify` prints: the failures first, then every rule, then ignored layers. Every value is escaped. */
export function formatVerification(v: Verification, label: (o: RuleOutcome) => string = (o) => describeSignature(o.signature)): string[] {
  const lines: string[] = [];
  lines.push(v.verified ? `verified ${v.immutable}` : `verification FAILED for ${v.immutable}`);
  for (const f of v.failures) lines.push(`  ${printable(f)}`);
  for (const o of v.outcomes) lines.push(`  ${o.satisfied ? "ok    " : "FAILED"} ${o.rule} (${printable(label(o))}): ${printable(o.reason)}`);
  for (const i of v.signatures.ignored) lines.push(`  ignored signature layer ${i.index}: ${printable(i.reason)}`);
  return lines;
}
