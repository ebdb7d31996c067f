/**
 * Answers a module's Kubernetes host calls from a fixed set of objects (kubectl
 * `-o json` output, a `helm template` render, the manifests being audited), the
 * way policy-server answers them from its cache of the cluster:
 *
 * - binding "kubewarden", namespace "kubernetes", operations
 *   `list_resources_by_namespace`, `list_resources_all`, `get_resource`, with the
 *   request and answer shapes of policy-evaluator (runtimes/callback.rs,
 *   callback_handler/kubernetes*.rs): snake_case requests, a `List` answer for the
 *   list operations, the bare object for get, `field_masks` pruning (dot paths,
 *   arrays transparent);
 * - gated by the policy's contextAwareResources with Kubewarden's own refusal text;
 * - anything else gets Kubewarden's error answer (`unknown namespace: …`,
 *   `unknown operation: …`), never an exception.
 *
 * Generic: nothing here knows what a policy looks for.
 */
import type { HostCallAnswer, HostCallHandler, HostCallRequest } from "./host-calls.js";

export interface ContextAwareResource {
  apiVersion: string;
  kind: string;
}

export type KubeObject = Record<string, unknown>;

export interface KubernetesContextOptions {
  /**
   * What the policy may read: its metadata's contextAwareResources (what policy-server
   * grants once the ClusterAdmissionPolicy lists them, and `kwctl run --allow-context-aware`).
   */
  allowed: readonly ContextAwareResource[];
}

const enc = new TextEncoder();
const ok = (value: unknown): HostCallAnswer => ({ ok: true, response: enc.encode(JSON.stringify(value)) });
const fail = (error: string): HostCallAnswer => ({ ok: false, error });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function meta(o: KubeObject): Record<string, unknown> {
  return isRecord(o.metadata) ? o.metadata : {};
}
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The contextAwareResources of a module's metadata, tolerating malformed entries (they grant nothing). */
export function contextAwareResourcesOf(metadata: { contextAwareResources?: unknown[] } | null): ContextAwareResource[] {
  const out: ContextAwareResource[] = [];
  for (const r of metadata?.contextAwareResources ?? [])
    if (isRecord(r) && typeof r.apiVersion === "string" && typeof r.kind === "string") out.push({ apiVersion: r.apiVersion, kind: r.kind });
  return out;
}

/** Kubewarden's refusal (runtimes/callback.rs), so policies see what policy-server would say. */
export function notGrantedMessage(apiVersion: string, kind: string): string {
  return `Policy has not been granted access to Kubernetes ${apiVersion}/${kind} resources. The violation has been reported.`;
}

/** Objects indexed by apiVersion/kind; the last object with the same namespace/name wins (a later file overrides). */
export class KubernetesObjects {
  private readonly byType = new Map<string, Map<string, KubeObject>>();

  constructor(objects: Iterable<KubeObject> = []) {
    this.add(objects);
  }

  add(objects: Iterable<KubeObject>): this {
    for (const o of objects) {
      const apiVersion = str(o.apiVersion);
      const kind = str(o.kind);
      if (!apiVersion || !kind) continue;
      const type = `${apiVersion}/${kind}`;
      let bucket = this.byType.get(type);
      if (!bucket) this.byType.set(type, (bucket = new Map()));
      const m = meta(o);
      bucket.set(`${str(m.namespace) ?? ""}/${str(m.name) ?? `#${bucket.size}`}`, o);
    }
    return this;
  }

  of(apiVersion: string, kind: string): KubeObject[] {
    return [...(this.byType.get(`${apiVersion}/${kind}`)?.values() ?? [])];
  }

  get size(): number {
    let n = 0;
    for (const b of this.byType.values()) n += b.size;
    return n;
  }
}

// --- selectors (linear scans, no regular expressions on input) ---

type Requirement = { key: string; op: "=" | "!=" | "in" | "notin" | "exists" | "!exists"; values: string[] };

/** Parse a label selector (`a=b,c!=d,e in (x,y),!f,g`); null when it is not one. */
export function parseLabelSelector(selector: string): Requirement[] | null {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  const out: Requirement[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    if (p === "") continue;
    const setMatch = / (notin|in) /.exec(` ${p.replace(/\s+/g, " ")} `);
    if (setMatch && p.endsWith(")")) {
      const norm = p.replace(/\s+/g, " ");
      const at = norm.indexOf(` ${setMatch[1]} `);
      const key = norm.slice(0, at).trim();
      const list = norm.slice(norm.indexOf("(") + 1, -1);
      out.push({ key, op: setMatch[1] as "in" | "notin", values: list.split(",").map((v) => v.trim()) });
    } else if (p.includes("!=")) {
      const [k, v] = [p.slice(0, p.indexOf("!=")), p.slice(p.indexOf("!=") + 2)];
      out.push({ key: k.trim(), op: "!=", values: [v.trim()] });
    } else if (p.includes("=")) {
      const at = p.indexOf("=");
      const v = p.slice(p[at + 1] === "=" ? at + 2 : at + 1);
      out.push({ key: p.slice(0, at).trim(), op: "=", values: [v.trim()] });
    } else if (p.startsWith("!")) out.push({ key: p.slice(1).trim(), op: "!exists", values: [] });
    else out.push({ key: p, op: "exists", values: [] });
  }
  return out.some((r) => r.key === "") ? null : out;
}

function matchesLabels(o: KubeObject, reqs: Requirement[]): boolean {
  const labels = isRecord(meta(o).labels) ? (meta(o).labels as Record<string, unknown>) : {};
  return reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = has ? String(labels[r.key]) : undefined;
    switch (r.op) {
      case "=":
        return v === r.values[0];
      case "!=":
        return v !== r.values[0];
      case "in":
        return v !== undefined && r.values.includes(v);
      case "notin":
        return v === undefined || !r.values.includes(v);
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}

/** Field selectors the API server supports on every kind: metadata.name and metadata.namespace. */
function fieldMatcher(selector: string): ((o: KubeObject) => boolean) | string {
  const tests: ((o: KubeObject) => boolean)[] = [];
  for (const raw of selector.split(",")) {
    const p = raw.trim();
    if (p === "") continue;
    const neg = p.includes("!=");
    const at = neg ? p.indexOf("!=") : p.indexOf("=");
    if (at < 0) return `field selector "${p}": expected field=value or field!=value`;
    const field = p.slice(0, at).trim();
    const value = p.slice(at + (neg ? 2 : p[at + 1] === "=" ? 2 : 1)).trim();
    if (field !== "metadata.name" && field !== "metadata.namespace")
      return `field selector "${p}": only metadata.name and metadata.namespace are supported offline`;
    const key = field === "metadata.name" ? "name" : "namespace";
    tests.push((o) => (str(meta(o)[key]) === value) !== neg);
  }
  return (o) => tests.every((t) => t(o));
}

// --- field masks (policy-evaluator callback_handler/kubernetes/field_mask.rs) ---

type MaskNode = Map<string, MaskNode>;

function maskTree(paths: readonly string[]): MaskNode {
  const root: MaskNode = new Map();
  for (const path of paths) {
    let node = root;
    for (const part of path.split(".")) {
      let next = node.get(part);
      if (!next) node.set(part, (next = new Map()));
      node = next;
    }
  }
  return root;
}

/** Keep only the masked paths; arrays are transparent; an empty node keeps everything below it. */
export function pruneToMask(value: unknown, node: MaskNode): unknown {
  if (node.size === 0) return value;
  if (Array.isArray(value)) return value.map((item) => pruneToMask(item, node));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of node) if (Object.hasOwn(value, key)) out[key] = pruneToMask(value[key], child);
  return out;
}

// --- requests ---

interface KubeRequest {
  api_version: string;
  kind: string;
  namespace?: string | null;
  name?: string;
  label_selector?: string | null;
  field_selector?: string | null;
  field_masks?: string[] | null;
}

function readRequest(payload: Uint8Array, needs: ("namespace" | "name")[]): KubeRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch (e) {
    return `invalid request payload: ${(e as Error).message}`;
  }
  if (!isRecord(value)) return "invalid request payload: expected a JSON object";
  if (typeof value.api_version !== "string") return "invalid request payload: missing field `api_version`";
  if (typeof value.kind !== "string") return "invalid request payload: missing field `kind`";
  for (const f of needs) if (typeof value[f] !== "string") return `invalid request payload: missing field \`${f}\``;
  for (const f of ["label_selector", "field_selector"] as const)
    if (value[f] !== undefined && value[f] !== null && typeof value[f] !== "string") return `invalid request payload: ${f} must be a string or null`;
  const masks = value.field_masks;
  if (masks !== undefined && masks !== null && !(Array.isArray(masks) && masks.every((m) => typeof m === "string")))
    return "invalid request payload: field_masks must be a list of strings or null";
  return value as unknown as KubeRequest;
}

function selectObjects(objects: KubeObject[], req: KubeRequest): KubeObject[] | string {
  let out = objects;
  if (req.label_selector) {
    const reqs = parseLabelSelector(req.label_selector);
    if (!reqs) return `invalid label selector "${req.label_selector}"`;
    out = out.filter((o) => matchesLabels(o, reqs));
  }
  if (req.field_selector) {
    const m = fieldMatcher(req.field_selector);
    if (typeof m === "string") return m;
    out = out.filter(m);
  }
  return out;
}

function masked(objects: KubeObject[], masks: string[] | null | undefined): unknown[] {
  if (!masks || masks.length === 0) return objects;
  const tree = maskTree(masks);
  return objects.map((o) => pruneToMask(o, tree));
}

const list = (items: unknown[]) => ({ apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items });

/** A host-call handler answering Kubernetes capabilities from `objects`. */
export function kubernetesContextHandler(objects: KubernetesObjects, options: KubernetesContextOptions): HostCallHandler {
  const granted = (apiVersion: string, kind: string) => options.allowed.some((r) => r.apiVersion === apiVersion && r.kind === kind);
  return (call: HostCallRequest): HostCallAnswer => {
    if (call.binding !== "kubewarden") return fail(`unknown binding: ${call.binding}`);
    if (call.namespace === "tracing") return call.operation === "log" ? { ok: true, response: new Uint8Array() } : fail(`unknown operation: ${call.operation}`);
    if (call.namespace === "oci" || call.namespace === "net" || call.namespace === "crypto")
      return fail(`host capability ${call.namespace}/${call.operation} is not available offline: this runner answers Kubernetes capabilities only`);
    if (call.namespace !== "kubernetes") return fail(`unknown namespace: ${call.namespace}`);
    switch (call.operation) {
      case "list_resources_all":
      case "list_resources_by_namespace": {
        const byNamespace = call.operation === "list_resources_by_namespace";
        const req = readRequest(call.payload, byNamespace ? ["namespace"] : []);
        if (typeof req === "string") return fail(req);
        if (!granted(req.api_version, req.kind)) return fail(notGrantedMessage(req.api_version, req.kind));
        let candidates = objects.of(req.api_version, req.kind);
        // Objects without a namespace land in "default", as kubectl apply puts them.
        if (byNamespace) candidates = candidates.filter((o) => (str(meta(o).namespace) ?? "default") === req.namespace);
        const selected = selectObjects(candidates, req);
        if (typeof selected === "string") return fail(selected);
        return ok(list(masked(selected, req.field_masks)));
      }
      case "get_resource": {
        const req = readRequest(call.payload, ["name"]);
        if (typeof req === "string") return fail(req);
        if (!granted(req.api_version, req.kind)) return fail(notGrantedMessage(req.api_version, req.kind));
        const ns = req.namespace ?? null;
        const found = objects.of(req.api_version, req.kind).find((o) => str(meta(o).name) === req.name && (str(meta(o).namespace) ?? null) === ns);
        if (!found)
          return fail(`Cannot find ${req.api_version}/${req.kind} named '${req.name}' inside of namespace '${ns === null ? "None" : `Some(${JSON.stringify(ns)})`}'`);
        return ok(masked([found], req.field_masks)[0]);
      }
      case "can_i":
        return fail("host capability kubernetes/can_i is not available offline: there is no API server to ask");
      default:
        return fail(`unknown operation: ${call.operation}`);
    }
  };
}
