/**
 * Replays a recorded host-capabilities session, as `kwctl run
 * --replay-host-capabilities-interactions FILE` does (crates/kwctl/src/callback_handler/proxy.rs).
 *
 * The file is what `kwctl run --record-host-capabilities-interactions` writes and
 * what Kubewarden's JS SDK demo policy keeps in test_data/sessions/: a YAML list of
 *
 *   - type: Exchange
 *     request: |
 *       !KubernetesListResourceAll
 *       api_version: apps/v1
 *       kind: Deployment
 *       label_selector: null
 *       field_selector: null
 *     response:
 *       type: Success          # or: type: Error + message: …
 *       payload: '{"apiVersion":"v1","kind":"List","items":[…]}'
 *
 * `request` is itself a YAML document: policy-evaluator's CallbackRequestType,
 * externally tagged. Exchanges are consumed in order; each call must equal the
 * next recorded request (absent optional fields = null), else the answer is
 * kwctl's "unexpected request" error. Error answers reach the policy the way
 * policy-evaluator wraps callback failures: "Callback evaluation failure: <message>".
 * Kubernetes calls are still gated by contextAwareResources first, as in kwctl.
 */
import { isMap, isScalar, parse, parseDocument } from "yaml";
import type { HostCallAnswer, HostCallHandler, HostCallRequest } from "./host-calls.js";
import { type ContextAwareResource, notGrantedMessage } from "./kubernetes-context.js";

export interface RecordedRequest {
  /** The CallbackRequestType variant, e.g. "KubernetesListResourceAll". */
  type: string;
  fields: Record<string, unknown>;
}
export interface RecordedExchange {
  request: RecordedRequest;
  response: { ok: true; payload: string } | { ok: false; message: string };
}

export class SessionError extends Error {}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse a session file; throws SessionError naming the exchange and what is wrong. */
export function parseSession(text: string, source = "session"): RecordedExchange[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new SessionError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new SessionError(`${source}: expected a YAML list of exchanges`);
  return doc.map((entry, i): RecordedExchange => {
    const at = `${source}: exchange ${i + 1}`;
    if (!isRecord(entry) || entry.type !== "Exchange") throw new SessionError(`${at}: expected "type: Exchange"`);
    if (typeof entry.request !== "string") throw new SessionError(`${at}: "request" must be a string holding the tagged request`);
    const request = parseRequest(entry.request, at);
    const r = entry.response;
    if (!isRecord(r)) throw new SessionError(`${at}: "response" must be a mapping`);
    if (r.type === "Success") {
      if (typeof r.payload !== "string") throw new SessionError(`${at}: a Success response needs a string "payload"`);
      return { request, response: { ok: true, payload: r.payload } };
    }
    if (r.type === "Error") {
      if (typeof r.message !== "string") throw new SessionError(`${at}: an Error response needs a string "message"`);
      return { request, response: { ok: false, message: r.message } };
    }
    throw new SessionError(`${at}: response type must be Success or Error, got ${JSON.stringify(r.type)}`);
  });
}

function parseRequest(text: string, at: string): RecordedRequest {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new SessionError(`${at}: request is not valid YAML: ${doc.errors[0]!.message}`);
  const node = doc.contents;
  const tag = node && (isMap(node) || isScalar(node)) ? node.tag : undefined;
  if (!tag || !tag.startsWith("!") || tag.startsWith("!!")) throw new SessionError(`${at}: request must start with a tag such as !KubernetesListResourceAll`);
  const fields = isMap(node) ? (node.toJSON() as unknown) : {};
  if (!isRecord(fields)) throw new SessionError(`${at}: request fields must be a mapping`);
  return { type: tag.slice(1), fields };
}

/** The CallbackRequestType a call becomes in policy-evaluator (runtimes/callback.rs + callback_requests.rs). */
export function requestOf(call: HostCallRequest): RecordedRequest | string {
  const key = `${call.namespace}/${call.operation}`;
  let payload: unknown;
  try {
    payload = call.payload.length === 0 ? null : JSON.parse(new TextDecoder().decode(call.payload));
  } catch (e) {
    return `invalid request payload: ${(e as Error).message}`;
  }
  const fields = (names: string[]): Record<string, unknown> | string => {
    if (!isRecord(payload)) return "invalid request payload: expected a JSON object";
    const out: Record<string, unknown> = {};
    for (const n of names) out[n] = payload[n] ?? null;
    return out;
  };
  const wrap = (type: string, f: Record<string, unknown> | string): RecordedRequest | string => (typeof f === "string" ? f : { type, fields: f });
  switch (key) {
    case "kubernetes/list_resources_by_namespace":
      return wrap("KubernetesListResourceNamespace", fields(["api_version", "kind", "namespace", "label_selector", "field_selector", "field_masks"]));
    case "kubernetes/list_resources_all":
      return wrap("KubernetesListResourceAll", fields(["api_version", "kind", "label_selector", "field_selector", "field_masks"]));
    case "kubernetes/get_resource":
      return wrap("KubernetesGetResource", fields(["api_version", "kind", "name", "namespace", "disable_cache", "field_masks"]));
    case "kubernetes/can_i": {
      const f = fields(["subject_access_review", "disable_cache"]);
      return typeof f === "string" ? f : { type: "KubernetesCanI", fields: { request: f.subject_access_review, disable_cache: f.disable_cache } };
    }
    case "net/v1/dns_lookup_host":
      return typeof payload === "string" ? { type: "DNSLookupHost", fields: { host: payload } } : "invalid request payload: expected a JSON string";
    case "oci/v1/manifest_digest":
    case "oci/v1/oci_manifest":
    case "oci/v1/oci_manifest_config": {
      const type = { "oci/v1/manifest_digest": "OciManifestDigest", "oci/v1/oci_manifest": "OciManifest", "oci/v1/oci_manifest_config": "OciManifestAndConfig" }[key];
      return typeof payload === "string" ? { type, fields: { image: payload } } : "invalid request payload: expected a JSON string";
    }
    default:
      return call.namespace === "kubernetes" || call.namespace === "oci" || call.namespace === "net" || call.namespace === "crypto"
        ? `host capability ${key} cannot be replayed by this runner`
        : `unknown namespace: ${call.namespace}`;
  }
}

/** Absent optional fields are None; field_masks is a set. */
function normalize(v: unknown, key?: string): unknown {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) {
    const items = v.map((x) => normalize(x));
    return key === "field_masks" ? [...new Set(items as string[])].sort() : items;
  }
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize(v[k], k);
      if (n !== null) out[k] = n;
    }
    return out;
  }
  return v;
}

export function sameRequest(a: RecordedRequest, b: RecordedRequest): boolean {
  return a.type === b.type && JSON.stringify(normalize(a.fields)) === JSON.stringify(normalize(b.fields));
}

const describe = (r: RecordedRequest) => `${r.type} ${JSON.stringify(normalize(r.fields))}`;

export interface ReplayOptions {
  /** contextAwareResources the policy may read (kwctl: --allow-context-aware trusts the metadata). */
  allowed: readonly ContextAwareResource[];
}

/** A handler that answers calls from the recorded exchanges, in order. `remaining()` tells what was not replayed. */
export function replayHandler(exchanges: readonly RecordedExchange[], options: ReplayOptions): HostCallHandler & { remaining(): number } {
  const queue = [...exchanges];
  const handler = (call: HostCallRequest): HostCallAnswer => {
    if (call.binding !== "kubewarden") return { ok: false, error: `unknown binding: ${call.binding}` };
    if (call.namespace === "tracing" && call.operation === "log") return { ok: true, response: new Uint8Array() };
    const actual = requestOf(call);
    if (typeof actual === "string") return { ok: false, error: actual };
    if (actual.type.startsWith("Kubernetes") && actual.type !== "KubernetesCanI") {
      const av = String(actual.fields.api_version);
      const kind = String(actual.fields.kind);
      if (!options.allowed.some((r) => r.apiVersion === av && r.kind === kind)) return { ok: false, error: notGrantedMessage(av, kind) };
    }
    const next = queue.shift();
    if (!next) return { ok: false, error: "Callback evaluation failure: the list of recorded responses is empty" };
    if (!sameRequest(next.request, actual))
      return {
        ok: false,
        error: `Callback evaluation failure: Replay error: unexpected request. Was expecting ${describe(next.request)}, got ${describe(actual)} instead`,
      };
    return next.response.ok
      ? { ok: true, response: new TextEncoder().encode(next.response.payload) }
      : { ok: false, error: `Callback evaluation failure: ${next.response.message}` };
  };
  return Object.assign(handler, { remaining: () => queue.length });
}
