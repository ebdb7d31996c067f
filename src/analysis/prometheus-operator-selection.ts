/**
 * Does this prometheus-operator reconcile this Prometheus / PrometheusAgent /
 * Alertmanager / ThanosRuler? Decided the way the operator decides, as its
 * sources read for v0.65.0–v0.74.0 (the releases that render the broken probes;
 * unchanged through v0.93.0):
 *
 * - Namespace lists (`--namespaces`, `--deny-namespaces`, `--prometheus-instance-namespaces`,
 *   `--alertmanager-instance-namespaces`, `--thanos-ruler-instance-namespaces`) are sets:
 *   every occurrence of a flag adds its comma-separated entries, untrimmed, an empty
 *   entry meaning "all namespaces" (pkg/operator/config.go StringSet.Set).
 * - `--namespaces` together with `--deny-namespaces` stops the operator at start
 *   (cmd/operator/main.go): it renders nothing.
 * - Prometheus and PrometheusAgent use the Prometheus instance list, Alertmanager and
 *   ThanosRuler their own; an empty instance list falls back to `--namespaces`, and
 *   an empty `--namespaces` is all namespaces (Namespaces.Finalize).
 * - The deny list applies only where the list is exactly "all namespaces"; a list of
 *   named namespaces watches those, the deny list ignored (pkg/informers
 *   newInformerOptions, pkg/listwatch IsAllNamespaces / DenyTweak).
 * - Instance selectors (`--prometheus-instance-selector` for Prometheus and
 *   PrometheusAgent, `--alertmanager-instance-selector`, `--thanos-ruler-instance-selector`)
 *   are Kubernetes label selectors on the object's labels, the last occurrence kept.
 *   One the operator cannot parse stops it at start; one we cannot parse is "unknown".
 * - From v0.73.0, `--controller-id` (default empty) must equal the object's
 *   `operator.prometheus.io/controller-id` annotation (absent = empty)
 *   (pkg/operator/resource_reconciler.go isManagedByController); earlier releases
 *   ignore the annotation.
 *
 * Pure functions, linear in their input, no regular expressions on it.
 */
import type { MonitoringKind, MonitoringResource } from "./prometheus-operator.js";
import { clip, compareVersions, lastValue, type OperatorEvidence, type Version } from "./prometheus-operator-identity.js";

export type Selection = { selects: true } | { selects: false; why: string } | { selects: "unknown"; why: string };

const INSTANCE_NAMESPACES: Record<MonitoringKind, string> = {
  Prometheus: "prometheus-instance-namespaces",
  PrometheusAgent: "prometheus-instance-namespaces",
  Alertmanager: "alertmanager-instance-namespaces",
  ThanosRuler: "thanos-ruler-instance-namespaces",
};
const INSTANCE_SELECTOR: Record<MonitoringKind, string> = {
  Prometheus: "prometheus-instance-selector",
  PrometheusAgent: "prometheus-instance-selector",
  Alertmanager: "alertmanager-instance-selector",
  ThanosRuler: "thanos-ruler-instance-selector",
};
export const CONTROLLER_ID_ANNOTATION = "operator.prometheus.io/controller-id";
const FIRST_WITH_CONTROLLER_ID: Version = { major: 0, minor: 73, patch: 0 };

/** A namespace list as the operator builds it: every occurrence, every comma-separated entry. */
function namespaceSet(op: OperatorEvidence, flag: string): Set<string> {
  const out = new Set<string>();
  for (const value of op.flags.values.get(flag) ?? []) for (const entry of value.split(",")) out.add(entry);
  return out;
}

const ALL = "";
const isAllNamespaces = (s: ReadonlySet<string>) => s.size === 1 && s.has(ALL);
const listed = (s: ReadonlySet<string>) => clip([...s].map((n) => (n === ALL ? '""' : n)).join(","), 120);
const dependsOnEnv = (values: readonly string[] | undefined) => values?.some((v) => v.includes("$(")) ?? false;

/** Does `op` reconcile `resource`? */
export function operatorSelects(op: OperatorEvidence, resource: MonitoringResource): Selection {
  if (op.pinned) return { selects: true };
  const kind = resource.kind;
  const instanceFlag = INSTANCE_NAMESPACES[kind];
  const selectorFlag = INSTANCE_SELECTOR[kind];
  for (const flag of ["namespaces", "deny-namespaces", instanceFlag, selectorFlag, "controller-id"])
    if (dependsOnEnv(op.flags.values.get(flag))) return { selects: "unknown", why: `its --${flag} depends on an environment variable` };

  const allow = namespaceSet(op, "namespaces");
  const deny = namespaceSet(op, "deny-namespaces");
  if (allow.size > 0 && deny.size > 0) return { selects: false, why: "does not start: --namespaces and --deny-namespaces are mutually exclusive" };
  const instance = namespaceSet(op, instanceFlag);
  const [watched, from] = instance.size > 0 ? [instance, instanceFlag] : allow.size > 0 ? [allow, "namespaces"] : [new Set([ALL]), null];
  if (isAllNamespaces(watched)) {
    if (deny.has(resource.namespace)) return { selects: false, why: `its --deny-namespaces=${listed(deny)} excludes namespace ${resource.namespace}` };
  } else if (!watched.has(resource.namespace) && !watched.has(ALL)) {
    return { selects: false, why: `watches ${kind} objects only in --${from}=${listed(watched)}, not in namespace ${resource.namespace}` };
  }

  const selectorText = lastValue(op.flags, selectorFlag);
  if (selectorText !== undefined && selectorText !== "") {
    const selector = parseLabelSelector(selectorText);
    if (selector === null) return { selects: "unknown", why: `cannot read its --${selectorFlag}=${clip(selectorText, 80)}` };
    if (!matchesLabels(selector, resource.labels))
      return { selects: false, why: `its --${selectorFlag}=${clip(selectorText, 80)} does not match the labels of ${kind} ${resource.namespace}/${resource.name}` };
  }

  // The annotation counts only for an operator known to read it.
  if (op.version !== null && compareVersions(op.version, FIRST_WITH_CONTROLLER_ID) >= 0) {
    const id = lastValue(op.flags, "controller-id") ?? "";
    if (id !== resource.controllerId)
      return {
        selects: false,
        why: id === "" ? `reconciles only objects without a ${CONTROLLER_ID_ANNOTATION} annotation` : `reconciles only objects annotated ${CONTROLLER_ID_ANNOTATION}: ${clip(id, 80)}`,
      };
  }
  return { selects: true };
}

// --- Kubernetes label selectors (k8s.io/apimachinery labels.Parse) ---

export type LabelRequirement = { key: string; op: "exists" | "!" | "=" | "!=" | "in" | "notin" | ">" | "<"; values: string[] };

const MAX_SELECTOR_LENGTH = 4096;
const SPECIAL = new Set([",", "(", ")", "=", "!", "<", ">", " ", "\t", "\n", "\r"]);

type Token = { kind: "id"; text: string } | { kind: "op"; text: string } | { kind: "end" };

/** The selector's tokens (labels/lexer.go): identifiers, `( ) , = == != ! < >`; whitespace separates. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "=" || c === "!") {
      const two = text[i + 1] === "=";
      out.push({ kind: "op", text: two ? `${c}=` : c });
      i += two ? 2 : 1;
      continue;
    }
    if (SPECIAL.has(c)) {
      out.push({ kind: "op", text: c });
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !SPECIAL.has(text[j]!)) j++;
    out.push({ kind: "id", text: text.slice(i, j) });
    i = j;
  }
  out.push({ kind: "end" });
  return out;
}

const KEY_CHARS = /^[A-Za-z0-9._/-]{1,317}$/;
const VALUE_CHARS = /^[A-Za-z0-9._-]{0,63}$/;

/** A label selector's requirements, or null when it is not one we can read exactly. */
export function parseLabelSelector(text: string): LabelRequirement[] | null {
  if (text.length > MAX_SELECTOR_LENGTH) return null;
  const t = tokens(text);
  let at = 0;
  const peek = () => t[at]!;
  const isOp = (s: string) => peek().kind === "op" && (peek() as { text: string }).text === s;
  const out: LabelRequirement[] = [];
  if (peek().kind === "end") return out;
  for (;;) {
    let negated = false;
    if (isOp("!")) {
      negated = true;
      at++;
    }
    const keyToken = peek();
    if (keyToken.kind !== "id" || !KEY_CHARS.test(keyToken.text)) return null;
    const key = keyToken.text;
    at++;
    if (negated) out.push({ key, op: "!", values: [] });
    else if (peek().kind === "end" || isOp(",")) out.push({ key, op: "exists", values: [] });
    else if (isOp("=") || isOp("==") || isOp("!=")) {
      const op = (peek() as { text: string }).text === "!=" ? "!=" : "=";
      at++;
      let value = "";
      if (peek().kind === "id") value = (t[at++] as { text: string }).text;
      if (!VALUE_CHARS.test(value)) return null;
      out.push({ key, op, values: [value] });
    } else if (isOp(">") || isOp("<")) {
      const op = (peek() as { text: string }).text as ">" | "<";
      at++;
      const v = peek();
      if (v.kind !== "id" || !/^-?\d{1,18}$/.test(v.text)) return null;
      at++;
      out.push({ key, op, values: [v.text] });
    } else if (peek().kind === "id" && ((peek() as { text: string }).text === "in" || (peek() as { text: string }).text === "notin")) {
      const op = (t[at++] as { text: string }).text as "in" | "notin";
      if (!isOp("(")) return null;
      at++;
      const values: string[] = [];
      for (;;) {
        let value = "";
        if (peek().kind === "id") value = (t[at++] as { text: string }).text;
        if (!VALUE_CHARS.test(value)) return null;
        values.push(value);
        if (isOp(",")) {
          at++;
          continue;
        }
        if (isOp(")")) {
          at++;
          break;
        }
        return null;
      }
      out.push({ key, op, values });
    } else return null;
    if (peek().kind === "end") return out;
    if (!isOp(",")) return null;
    at++;
  }
}

/** labels.Selector.Matches over the object's labels. */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: ReadonlyMap<string, string>): boolean {
  return requirements.every((r) => {
    const v = labels.get(r.key);
    switch (r.op) {
      case "exists":
        return v !== undefined;
      case "!":
        return v === undefined;
      case "=":
        return v === r.values[0];
      case "!=":
        return v !== r.values[0];
      case "in":
        return v !== undefined && r.values.includes(v);
      case "notin":
        return v === undefined || !r.values.includes(v);
      case ">":
      case "<": {
        if (v === undefined || !/^-?\d{1,18}$/.test(v)) return false;
        return r.op === ">" ? Number(v) > Number(r.values[0]) : Number(v) < Number(r.values[0]);
      }
    }
  });
}
