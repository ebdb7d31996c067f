/**
 * Will prometheus-operator render unreachable config-reloader probes for this
 * Prometheus / PrometheusAgent / Alertmanager / ThanosRuler?
 *
 * Facts (prometheus-operator #6682, fixed by #6698 in v0.75.0): from v0.65.0 to
 * v0.74.x, an operator started with `--enable-config-reloader-probes` gives the
 * config-reloader sidecar httpGet liveness/readiness probes on port 8080. Under
 * `spec.listenLocal: true` that sidecar binds `--listen-address=<--localhost>:8080`
 * (default `localhost`), the kubelet probes the pod IP, and the sidecar restarts
 * forever. Not affected: `reloadStrategy: ProcessSignal` (Prometheus and
 * PrometheusAgent run no reloader sidecar then), the init container (never probed),
 * v0.75.0+ (exec probes), and operators without the flag (no probes).
 *
 * The trust model (policies/reject-listenlocal-reloader-probes/README.md): only
 * operators at trusted locations count (prometheus-operator-identity.ts), and
 * only for the objects they reconcile (prometheus-operator-selection.ts). An
 * object that no operator is known to reconcile, or whose operator cannot be
 * judged, is a warning: never a silent pass.
 *
 * Pure functions: the policy gathers the operator Deployments (host capability or
 * settings) and asks these. No IO, no protocol.
 */
import {
  clip,
  compareVersions,
  formatVersion,
  type OperatorEvidence,
  PROBES_FLAG,
  type Version,
} from "./prometheus-operator-identity.js";
import { CONTROLLER_ID_ANNOTATION, operatorSelects } from "./prometheus-operator-selection.js";

export const MONITORING_GROUP = "monitoring.coreos.com";
/** The kinds the operator renders a config-reloader for, with the apiVersion each is served at. */
export const MONITORING_KINDS = {
  Prometheus: "monitoring.coreos.com/v1",
  PrometheusAgent: "monitoring.coreos.com/v1alpha1",
  Alertmanager: "monitoring.coreos.com/v1",
  ThanosRuler: "monitoring.coreos.com/v1",
} as const;
export type MonitoringKind = keyof typeof MONITORING_KINDS;

export const FIRST_AFFECTED: Version = { major: 0, minor: 65, patch: 0 };
export const FIRST_FIXED: Version = { major: 0, minor: 75, patch: 0 };

export function isAffectedVersion(v: Version): boolean {
  return compareVersions(v, FIRST_AFFECTED) >= 0 && compareVersions(v, FIRST_FIXED) < 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The parts of the custom resource that decide whether a reloader sidecar with probes is rendered, and by whom. */
export interface MonitoringResource {
  kind: MonitoringKind;
  namespace: string;
  name: string;
  listenLocal: boolean;
  reloadStrategy?: string;
  /** metadata.labels with string values (what instance selectors match). */
  labels: ReadonlyMap<string, string>;
  /** The operator.prometheus.io/controller-id annotation, "" when absent. */
  controllerId: string;
}

/** Read a monitoring.coreos.com object; null when it is not one of the four kinds at its served apiVersion. */
export function monitoringResource(object: unknown, fallbackNamespace?: string): MonitoringResource | null {
  if (!isRecord(object)) return null;
  const kind = object.kind;
  if (typeof kind !== "string" || !Object.hasOwn(MONITORING_KINDS, kind)) return null;
  if (object.apiVersion !== MONITORING_KINDS[kind as MonitoringKind]) return null;
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const spec = isRecord(object.spec) ? object.spec : {};
  const labels = new Map<string, string>();
  if (isRecord(meta.labels)) for (const [k, v] of Object.entries(meta.labels)) if (typeof v === "string") labels.set(k, v);
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  const controllerId = Object.hasOwn(annotations, CONTROLLER_ID_ANNOTATION) && typeof annotations[CONTROLLER_ID_ANNOTATION] === "string" ? (annotations[CONTROLLER_ID_ANNOTATION] as string) : "";
  const out: MonitoringResource = {
    kind: kind as MonitoringKind,
    namespace: typeof meta.namespace === "string" ? meta.namespace : (fallbackNamespace ?? "default"),
    name: typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? `${meta.generateName}…` : "(unnamed)",
    listenLocal: spec.listenLocal === true,
    labels,
    controllerId,
  };
  if (typeof spec.reloadStrategy === "string") out.reloadStrategy = spec.reloadStrategy;
  return out;
}

/** Could any operator put probes on this resource's reloader at all? (listenLocal, a reloader sidecar) */
export function needsOperatorCheck(r: MonitoringResource): boolean {
  if (!r.listenLocal) return false;
  if ((r.kind === "Prometheus" || r.kind === "PrometheusAgent") && r.reloadStrategy === "ProcessSignal") return false;
  return true;
}

export type OperatorVerdict =
  | { affected: true }
  | { affected: false; why: string }
  | { affected: "unknown"; why: string };

/** Will this operator render the broken probes for an object it reconciles? */
export function judgeOperator(op: OperatorEvidence): OperatorVerdict {
  if (op.scaledToZero) return { affected: false, why: "scaled to 0 replicas" };
  if (op.flags.probes === "off") return { affected: false, why: `runs without --${PROBES_FLAG}` };
  if (op.version !== null && !isAffectedVersion(op.version))
    return { affected: false, why: compareVersions(op.version, FIRST_FIXED) >= 0 ? "renders exec probes (≥ v0.75.0)" : "predates reloader probes (< v0.65.0)" };
  if (op.flags.probes === "unknown") return { affected: "unknown", why: op.flags.probesProblem ?? "cannot tell whether it runs with the probes flag" };
  if (op.version === null) return { affected: "unknown", why: op.versionProblem ?? "version unknown" };
  return { affected: true };
}

export function describeOperator(op: OperatorEvidence): string {
  const version = op.version ? `${formatVersion(op.version)}${op.versionSource ? ` from its ${op.versionSource}` : ""}` : "version unknown";
  const flag = op.flags.probes === "on" ? (op.flags.probesArgument ?? `--${PROBES_FLAG}`) : op.flags.probes === "off" ? (op.flags.probesArgument ?? `no --${PROBES_FLAG}`) : "probes flag unknown";
  return `${op.name} (${version}, ${flag})`;
}

export interface Assessment {
  /** Operators that reconcile the object and will render the broken probes. */
  affected: OperatorEvidence[];
  /** Operators that may reconcile it and could not be judged, with why. */
  unknown: { operator: OperatorEvidence; why: string }[];
  /** Operators that reconcile it and render no broken probes, with why. */
  cleared: { operator: OperatorEvidence; why: string }[];
  /** Trusted operators that do not reconcile it, with why. */
  notSelecting: { operator: OperatorEvidence; why: string }[];
}

export function assess(resource: MonitoringResource, operators: readonly OperatorEvidence[]): Assessment {
  const out: Assessment = { affected: [], unknown: [], cleared: [], notSelecting: [] };
  for (const op of operators) {
    const selection = operatorSelects(op, resource);
    if (selection.selects === false) {
      out.notSelecting.push({ operator: op, why: selection.why });
      continue;
    }
    const v = judgeOperator(op);
    // An operator cleared on its own (no flag, fixed version) is cleared whether or not it reconciles the object.
    if (v.affected === false) out.cleared.push({ operator: op, why: v.why });
    else if (selection.selects === "unknown") out.unknown.push({ operator: op, why: `cannot tell whether it reconciles this object: ${selection.why}` });
    else if (v.affected === "unknown") out.unknown.push({ operator: op, why: v.why });
    else out.affected.push(op);
  }
  return out;
}

const MAX_LISTED = 5;
function listed<T>(items: readonly T[], show: (t: T) => string, separator = "; "): string {
  const shown = items.slice(0, MAX_LISTED).map(show).join(separator);
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown;
}

const objectName = (r: MonitoringResource) => `${r.kind} ${clip(r.namespace, 63)}/${clip(r.name, 253)}`;
const withWhy = (e: { operator: OperatorEvidence; why: string }) => `${describeOperator(e.operator)}: ${e.why}`;

/** Every operator seen, other than the ones the message is about, with why each does not decide. */
function othersSeen(a: Assessment, except: "affected" | "unknown"): string {
  const others = [...(except === "affected" ? a.unknown : []), ...a.cleared, ...a.notSelecting];
  return others.length > 0 ? ` Other operators seen: ${listed(others, withWhy)}.` : "";
}

/** The one message users see for an affected resource. */
export function affectedMessage(resource: MonitoringResource, a: Assessment): string {
  const ops = a.affected;
  const host = clip(ops[0]!.flags.localhost, 64);
  const who = `prometheus-operator ${listed(ops, describeOperator)}`;
  return (
    `${objectName(resource)} sets spec.listenLocal: true, and ${who} ` +
    `will render its config-reloader sidecar listening only on ${host}:8080 with httpGet liveness/readiness probes on port 8080. ` +
    `The kubelet probes the pod IP, so the probes always fail and the config-reloader restarts in a loop ` +
    `(prometheus-operator issue #6682). Fix one of: upgrade prometheus-operator to v0.75.0 or later (it renders exec probes); ` +
    `drop --${PROBES_FLAG} (kube-prometheus-stack: prometheusOperator.prometheusConfigReloader.enableProbe=false); ` +
    `or deploy the rewrite-loopback-probes policy, which turns those probes into exec probes.` +
    othersSeen(a, "affected")
  );
}

const PIN_HINT =
  "To decide, label the operator's Deployment app.kubernetes.io/name: prometheus-operator and app.kubernetes.io/version: <its version>, " +
  "or pin operatorVersion and configReloaderProbes in the policy settings.";

/** The warning when operators that may reconcile the object could not be judged. */
export function uncertainMessage(resource: MonitoringResource, a: Assessment): string {
  return (
    `${objectName(resource)} sets spec.listenLocal: true; prometheus-operator v0.65.0–v0.74.x with --${PROBES_FLAG} ` +
    `would render config-reloader probes that always fail, but this could not be checked for ${listed(a.unknown, (u) => `${u.operator.name}: ${u.why}`)}.` +
    othersSeen(a, "unknown") +
    ` ${PIN_HINT}`
  );
}

/** Where the policy looked, for the message when no operator reconciles the object. */
export interface Search {
  /** The trusted locations, as written in the settings. */
  locations: readonly string[];
  /** namespace/name locations that named no Deployment. */
  missing: readonly string[];
}

/** The warning when no trusted operator reconciles the object. */
export function noOperatorMessage(resource: MonitoringResource, a: Assessment, search: Search): string {
  const seen = [...a.notSelecting];
  return (
    `${objectName(resource)} sets spec.listenLocal: true, but no prometheus-operator that reconciles it was found where the policy looks for one ` +
    `(trustedOperators: ${listed(search.locations, (l) => clip(l, 253), ", ")}), so whether its config-reloader gets probes that always fail ` +
    `(operator v0.65.0–v0.74.x with --${PROBES_FLAG}) was not checked.` +
    (seen.length > 0 ? ` Operators seen there: ${listed(seen, withWhy)}.` : "") +
    (search.missing.length > 0 ? ` Not found: ${listed(search.missing, (m) => clip(m, 253), ", ")}.` : "") +
    ` If its operator runs elsewhere, add that namespace (or namespace/name) to trustedOperators: Deployments anywhere else are never read as operators. ` +
    `Or pin operatorVersion and configReloaderProbes; whenNoOperator: accept silences this warning.`
  );
}

/** What the policy answers for a listenLocal object that needs the operator check. */
export type Decision =
  | { verdict: "affected"; message: string }
  | { verdict: "uncertain"; message: string }
  | { verdict: "no-operator"; message: string }
  | { verdict: "clear" };

/**
 * Any affected operator that reconciles the object decides (its message lists the
 * others and why each does not); else any that cannot be judged makes a warning;
 * else, when none reconciles it, a "no operator" warning; else all clear.
 */
export function decide(resource: MonitoringResource, operators: readonly OperatorEvidence[], search: Search): Decision {
  const a = assess(resource, operators);
  if (a.affected.length > 0) return { verdict: "affected", message: affectedMessage(resource, a) };
  if (a.unknown.length > 0) return { verdict: "uncertain", message: uncertainMessage(resource, a) };
  if (a.cleared.length === 0) return { verdict: "no-operator", message: noOperatorMessage(resource, a, search) };
  return { verdict: "clear" };
}
