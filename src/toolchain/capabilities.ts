/**
 * Kubewarden host capabilities by name (`kubernetes/list_resources_all`,
 * `oci/v1/verify`, …), as policy-evaluator knows them since v1.35
 * (crates/policy-evaluator/src/host_capabilities.rs):
 *
 * - the capability tree, and allow lists written as patterns (`*`, `oci/*`,
 *   `oci/v1/*`, exact paths), parsed and matched with the same rules and error
 *   texts as `HostCapabilities::new` / `is_allowed` — what `kwctl run
 *   --allowed-host-capabilities` and a PolicyServer's
 *   `namespacedPoliciesCapabilities` take;
 * - the scan `kwctl annotate` runs on a module's data segments to find the
 *   capabilities it uses (crates/kwctl/src/wasm_scanner.rs): a capability is
 *   used when both its namespace and its operation name occur in the data, an
 *   operation that is a prefix of another (`v1/oci_manifest` of
 *   `v1/oci_manifest_config`) only when it also occurs on its own.
 *
 * Generic: nothing here knows what a policy does.
 */
import { type HostCallHandler, noHostCapabilities } from "./host-calls.js";
import { dataSegments } from "./wasm-binary.js";

/** Intermediate nodes map segment names to children; a leaf (a callable capability) is null. */
type CapabilityNode = ReadonlyMap<string, CapabilityNode | null>;

const node = (entries: [string, CapabilityNode | null][]): CapabilityNode => new Map(entries);

const CAPABILITY_TREE: CapabilityNode = node([
  ["oci", node([["v1", node([["verify", null], ["manifest_digest", null], ["oci_manifest", null], ["oci_manifest_config", null]])], ["v2", node([["verify", null]])]])],
  ["net", node([["v1", node([["dns_lookup_host", null]])]])],
  ["crypto", node([["v1", node([["is_certificate_trusted", null]])]])],
  ["kubernetes", node([["list_resources_by_namespace", null], ["list_resources_all", null], ["get_resource", null], ["can_i", null]])],
]);

/** Rust's string order (UTF-8 bytes; these names are ASCII). */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every known capability as [namespace, operation], sorted as policy-evaluator's enumerate_operations. */
export function capabilityOperations(): [namespace: string, operation: string][] {
  const out: [string, string][] = [];
  const walk = (n: CapabilityNode, path: string[]) => {
    for (const [segment, child] of n) {
      const full = [...path, segment];
      if (child === null) out.push([full[0]!, full.slice(1).join("/")]);
      else walk(child, full);
    }
  };
  walk(CAPABILITY_TREE, []);
  return out.sort((a, b) => byCodePoint(a[0], b[0]) || byCodePoint(a[1], b[1]));
}

/** Every known capability path, e.g. "kubernetes/list_resources_all", sorted. */
export const KNOWN_HOST_CAPABILITIES: readonly string[] = capabilityOperations().map(([ns, op]) => `${ns}/${op}`);

export function isKnownHostCapability(path: string): boolean {
  return KNOWN_HOST_CAPABILITIES.includes(path);
}

export class HostCapabilityPatternError extends Error {}

/** Each segment before a final `*` must be an intermediate node; an exact path must end on a leaf. */
function checkAgainstTree(pattern: string): void {
  const parts = pattern.split("/");
  let at: CapabilityNode = CAPABILITY_TREE;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === "*") return;
    if (!at.has(part)) {
      const valid = [...at.keys()].sort(byCodePoint).join(", ");
      throw new HostCapabilityPatternError(`invalid pattern ${JSON.stringify(pattern)}: unknown segment ${JSON.stringify(part)}, valid options at this level are: ${valid}`);
    }
    const child = at.get(part)!;
    if (child === null) {
      if (i !== parts.length - 1)
        throw new HostCapabilityPatternError(`invalid pattern ${JSON.stringify(pattern)}: unknown segment ${JSON.stringify(parts[i + 1])}, valid options at this level are: `);
      return;
    }
    if (i === parts.length - 1)
      throw new HostCapabilityPatternError(
        `invalid pattern ${JSON.stringify(pattern)}: not a complete capability path; use ${JSON.stringify(`${pattern}/*`)} to allow all capabilities under it`,
      );
    at = child;
  }
}

/** What a policy may call: everything, nothing, or what prefix and exact patterns allow. */
export type HostCapabilityAllowList = { kind: "all" } | { kind: "none" } | { kind: "patterns"; prefixes: string[]; exact: string[] };

/**
 * Parse an allow list as HostCapabilities::new does: `*` anywhere allows
 * everything; a wildcard only as a whole last segment; every other segment
 * checked against the capability tree; no patterns at all allows nothing.
 */
export function parseHostCapabilityPatterns(patterns: Iterable<string>): HostCapabilityAllowList {
  const prefixes = new Set<string>();
  const exact = new Set<string>();
  for (const pattern of patterns) {
    const trimmed = pattern.trim();
    if (trimmed === "") throw new HostCapabilityPatternError("invalid pattern: pattern must not be empty");
    if (trimmed === "*") return { kind: "all" };
    if (trimmed.includes("*") && !trimmed.endsWith("/*"))
      throw new HostCapabilityPatternError(`invalid pattern ${JSON.stringify(pattern)}: wildcard '*' must be the entire last path segment (e.g. 'oci/*'), not a partial match`);
    checkAgainstTree(trimmed);
    if (trimmed.endsWith("*")) prefixes.add(trimmed.slice(0, -1));
    else exact.add(trimmed);
  }
  if (prefixes.size === 0 && exact.size === 0) return { kind: "none" };
  return { kind: "patterns", prefixes: [...prefixes].sort(byCodePoint), exact: [...exact].sort(byCodePoint) };
}

export function isHostCapabilityAllowed(allow: HostCapabilityAllowList, capabilityPath: string): boolean {
  if (allow.kind === "all") return true;
  if (allow.kind === "none") return false;
  return allow.exact.includes(capabilityPath) || allow.prefixes.some((p) => capabilityPath.startsWith(p));
}

/** The allow list as kwctl displays it: `[*]`, `[]`, or `[oci/*, kubernetes/can_i]` (prefixes first). */
export function describeAllowList(allow: HostCapabilityAllowList): string {
  if (allow.kind === "all") return "[*]";
  if (allow.kind === "none") return "[]";
  return `[${[...allow.prefixes.map((p) => `${p}*`), ...allow.exact].join(", ")}]`;
}

/** policy-evaluator's refusal of a capability the allow list does not grant (runtimes/callback.rs host_capability_denied). */
export function capabilityDeniedMessage(capabilityPath: string): string {
  return `Policy has not been granted access to the '${capabilityPath}' host capability. The violation has been reported.`;
}

/** Where `needle` occurs other than as the start of `longer` (which begins with it). */
function standaloneMatch(data: Buffer, needle: Buffer, longer: Buffer): boolean {
  for (let at = data.indexOf(needle); at >= 0; at = data.indexOf(needle, at + 1)) {
    if (data.compare(longer, 0, longer.length, at, Math.min(data.length, at + longer.length)) !== 0) return true;
  }
  return false;
}

/**
 * The host capabilities a module uses, found from its bytes as `kwctl annotate`
 * finds them: the data segments joined with 0xFF between them (so no name spans
 * two segments), a capability counted when its namespace and operation both
 * occur. Sorted capability paths.
 */
export function scanHostCapabilities(module: Uint8Array): string[] {
  const parts: Buffer[] = [];
  for (const segment of dataSegments(module)) parts.push(Buffer.from(segment.buffer, segment.byteOffset, segment.length), Buffer.from([0xff]));
  const data = Buffer.concat(parts);
  const operations = capabilityOperations();
  const found: string[] = [];
  for (const [namespace, operation] of operations) {
    if (data.indexOf(namespace) < 0) continue;
    const longer = operations.map(([, op]) => op).filter((op) => op !== operation && op.startsWith(operation));
    const present =
      longer.length === 0 ? data.indexOf(operation) >= 0 : longer.every((l) => standaloneMatch(data, Buffer.from(operation), Buffer.from(l)));
    if (present) found.push(`${namespace}/${operation}`);
  }
  return found.sort(byCodePoint);
}

/** Compare what a module uses with what its metadata declares. */
export function capabilityMismatch(used: readonly string[], declared: readonly string[] | undefined): { undeclared: string[]; unused: string[] } {
  const d = new Set(declared ?? []);
  const u = new Set(used);
  return { undeclared: used.filter((c) => !d.has(c)), unused: [...d].filter((c) => !u.has(c)).sort(byCodePoint) };
}

/**
 * A handler that first applies the allow list, as policy-evaluator's
 * host_callback does: an unknown binding is refused as such, "tracing" is never
 * gated, any other `namespace/operation` the list does not allow is refused with
 * Kubewarden's text before `inner` (default: no capabilities) sees it.
 */
export function gateHostCalls(allow: HostCapabilityAllowList, inner: HostCallHandler = noHostCapabilities): HostCallHandler {
  if (allow.kind === "all") return inner;
  return (call) => {
    if (call.binding !== "kubewarden") return { ok: false, error: `unknown binding: ${call.binding}` };
    const path = `${call.namespace}/${call.operation}`;
    if (call.namespace !== "tracing" && !isHostCapabilityAllowed(allow, path)) return { ok: false, error: capabilityDeniedMessage(path) };
    return inner(call);
  };
}
