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
 * Pure functions: the policy gathers the operator Deployments (host capability or
 * settings) and asks these. No IO, no protocol.
 */

export const MONITORING_GROUP = "monitoring.coreos.com";
/** The kinds the operator renders a config-reloader for, with the apiVersion each is served at. */
export const MONITORING_KINDS = {
  Prometheus: "monitoring.coreos.com/v1",
  PrometheusAgent: "monitoring.coreos.com/v1alpha1",
  Alertmanager: "monitoring.coreos.com/v1",
  ThanosRuler: "monitoring.coreos.com/v1",
} as const;
export type MonitoringKind = keyof typeof MONITORING_KINDS;

export const PROBES_FLAG = "enable-config-reloader-probes";
export const FIRST_AFFECTED = { major: 0, minor: 65, patch: 0 } as const;
export const FIRST_FIXED = { major: 0, minor: 75, patch: 0 } as const;

export interface Version {
  major: number;
  minor: number;
  patch: number;
}

export const formatVersion = (v: Version) => `v${v.major}.${v.minor}.${v.patch}`;

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function isAffectedVersion(v: Version): boolean {
  return compareVersions(v, FIRST_AFFECTED) >= 0 && compareVersions(v, FIRST_FIXED) < 0;
}

/** `v0.74.0`, `0.74.0`, `v0.74.0-rc.1`, `0.74.0-debian-12-r3` (Bitnami) → 0.74.0; anything else → null. */
export function parseVersion(text: string): Version | null {
  if (text.length > 128) return null;
  const m = /^v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[-+][0-9A-Za-z.+-]*)?$/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : null;
}

export type OperatorImage =
  | { version: Version; tag: string; digest?: string }
  | { version: null; tag?: string; digest?: string; problem: string };

/**
 * Is `image` a prometheus-operator image (`…/prometheus-operator[:tag][@digest]`,
 * mirrors keep the repository name)? Then which version does it say? null when it
 * is another image (prometheus-config-reloader included).
 */
export function parseOperatorImage(image: string): OperatorImage | null {
  if (image.length > 1024) return null;
  const at = image.indexOf("@");
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const hasTag = colon > slash;
  const name = ref.slice(slash + 1, hasTag ? colon : undefined);
  if (name !== "prometheus-operator") return null;
  const tag = hasTag ? ref.slice(colon + 1) : undefined;
  const withDigest = digest === undefined ? {} : { digest };
  if (tag === undefined)
    return { version: null, ...withDigest, problem: digest ? `pinned by digest only (${digest.slice(0, 19)}…): the version is not in the image reference` : "no tag (latest): the version is not in the image reference" };
  const version = parseVersion(tag);
  if (!version) return { version: null, tag, ...withDigest, problem: `tag "${tag.slice(0, 64)}" is not a version` };
  return { version, tag, ...withDigest };
}

/** Go's strconv.ParseBool, which the operator's flag package uses for bool flags. */
function goBool(text: string): boolean | null {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return null;
}

/** The operator's boolean flags that take no separate value (so the next argument is not theirs). */
const BOOL_FLAGS = new Set([
  PROBES_FLAG,
  "kubelet-endpoints",
  "kubelet-endpointslice",
  "watch-referenced-objects-in-all-namespaces",
  "disable-unmanaged-prometheus-configuration",
  "manage-crds",
  "web.enable-tls",
  "web.enable-http2",
  "enable-config-reloader-probes",
  "short-version",
  "version",
]);

export interface OperatorFlags {
  /** on / off as the operator would read them; unknown when we cannot tell. */
  probes: "on" | "off" | "unknown";
  /** The argument that decided `probes`, as written (e.g. "--enable-config-reloader-probes=false"). */
  probesArgument?: string;
  /** Why `probes` is unknown. */
  probesProblem?: string;
  /** `--localhost` (the host the reloader binds under listenLocal); default "localhost". */
  localhost: string;
  /** Last value of every `--flag=value` / `--flag value` seen (Go flag: the last one wins). */
  values: Map<string, string>;
}

/**
 * Read the operator's command line the way Go's `flag` package does: `-f`/`--f`,
 * `=value` or the next argument for non-bool flags, the last occurrence wins,
 * parsing stops at the first non-flag argument or `--`.
 */
export function parseOperatorFlags(args: readonly string[]): OperatorFlags {
  const values = new Map<string, string>();
  let probes: OperatorFlags["probes"] = "off";
  let probesArgument: string | undefined;
  let probesProblem: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--" || arg.length < 2 || arg[0] !== "-") break;
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (value === undefined && !BOOL_FLAGS.has(name) && i + 1 < args.length) value = args[++i]!;
    if (name === PROBES_FLAG) {
      probesArgument = arg;
      if (value === undefined) {
        probes = "on";
        probesProblem = undefined;
      } else {
        const b = goBool(value);
        probes = b === null ? "unknown" : b ? "on" : "off";
        probesProblem = b === null ? `${arg.slice(0, 80)} is not a boolean Go's flag package reads${value.includes("$(") ? " (it depends on an environment variable)" : ""}` : undefined;
      }
      continue;
    }
    if (value !== undefined) values.set(name, value);
  }
  const out: OperatorFlags = { probes, localhost: values.get("localhost") ?? "localhost", values };
  if (probesArgument !== undefined) out.probesArgument = probesArgument;
  if (probesProblem !== undefined) out.probesProblem = probesProblem;
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : null);

/** What we learned about one prometheus-operator found in the cluster (or pinned in settings). */
export interface OperatorEvidence {
  /** "namespace/name" of its Deployment, or a description of where it came from. */
  name: string;
  image?: string;
  /** Known version, or null with `versionProblem`. */
  version: Version | null;
  versionProblem?: string;
  flags: OperatorFlags;
  /** A Deployment scaled to zero renders nothing. */
  scaledToZero?: boolean;
  /** When the command line is not the operator's own (a shell wrapper), flags are unknown. */
  commandProblem?: string;
}

/**
 * Find prometheus-operator containers in Deployments (as returned by the
 * Kubernetes host capability: possibly pruned to a few fields).
 */
export function operatorsInDeployments(deployments: readonly unknown[]): OperatorEvidence[] {
  const out: OperatorEvidence[] = [];
  for (const d of deployments) {
    if (!isRecord(d)) continue;
    const meta = isRecord(d.metadata) ? d.metadata : {};
    const name = `${typeof meta.namespace === "string" ? meta.namespace : "default"}/${typeof meta.name === "string" ? meta.name : "(unnamed)"}`;
    const spec = isRecord(d.spec) ? d.spec : {};
    const podSpec = isRecord(spec.template) && isRecord(spec.template.spec) ? spec.template.spec : {};
    const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
    for (const c of containers) {
      if (!isRecord(c) || typeof c.image !== "string") continue;
      const image = parseOperatorImage(c.image);
      if (!image) continue;
      const command = c.command === undefined ? [] : strings(c.command);
      const args = c.args === undefined ? [] : strings(c.args);
      const evidence: OperatorEvidence = { name, image: c.image, version: image.version, flags: parseOperatorFlags([]) };
      if (image.version === null) evidence.versionProblem = image.problem;
      if (command === null || args === null) {
        evidence.flags = { ...parseOperatorFlags([]), probes: "unknown", probesProblem: "its command or args are not lists of strings" };
      } else if (command.length > 0 && !/(^|\/)(operator|prometheus-operator)$/.test(command[0]!)) {
        evidence.commandProblem = `it runs ${JSON.stringify(command[0]!.slice(0, 60))}, not the operator binary directly`;
        evidence.flags = { ...parseOperatorFlags([]), probes: "unknown", probesProblem: evidence.commandProblem };
      } else {
        evidence.flags = parseOperatorFlags([...command.slice(1), ...args]);
      }
      if (spec.replicas === 0) evidence.scaledToZero = true;
      out.push(evidence);
    }
  }
  return out;
}

/** Does this operator reconcile objects of `kind` in `namespace`? (--namespaces, --deny-namespaces, --<kind>-instance-namespaces) */
export function operatorWatches(op: OperatorEvidence, kind: MonitoringKind, namespace: string): boolean {
  const list = (name: string) => {
    const v = op.flags.values.get(name);
    return v === undefined || v.trim() === "" ? null : v.split(",").map((s) => s.trim());
  };
  const instanceFlag = kind === "Alertmanager" ? "alertmanager-instance-namespaces" : kind === "ThanosRuler" ? "thanos-ruler-instance-namespaces" : "prometheus-instance-namespaces";
  const allow = list(instanceFlag) ?? list("namespaces");
  if (allow && !allow.includes(namespace)) return false;
  const deny = list("deny-namespaces");
  return !(deny && deny.includes(namespace));
}

/** The parts of the custom resource that decide whether a reloader sidecar with probes is rendered. */
export interface MonitoringResource {
  kind: MonitoringKind;
  namespace: string;
  name: string;
  listenLocal: boolean;
  reloadStrategy?: string;
}

/** Read a monitoring.coreos.com object; null when it is not one of the four kinds at its served apiVersion. */
export function monitoringResource(object: unknown, fallbackNamespace?: string): MonitoringResource | null {
  if (!isRecord(object)) return null;
  const kind = object.kind;
  if (typeof kind !== "string" || !Object.hasOwn(MONITORING_KINDS, kind)) return null;
  if (object.apiVersion !== MONITORING_KINDS[kind as MonitoringKind]) return null;
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const spec = isRecord(object.spec) ? object.spec : {};
  const out: MonitoringResource = {
    kind: kind as MonitoringKind,
    namespace: typeof meta.namespace === "string" ? meta.namespace : (fallbackNamespace ?? "default"),
    name: typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? `${meta.generateName}…` : "(unnamed)",
    listenLocal: spec.listenLocal === true,
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

export function judgeOperator(op: OperatorEvidence): OperatorVerdict {
  if (op.scaledToZero) return { affected: false, why: "scaled to 0 replicas" };
  if (op.flags.probes === "off") return { affected: false, why: `runs without --${PROBES_FLAG}` };
  if (op.version !== null && !isAffectedVersion(op.version))
    return { affected: false, why: compareVersions(op.version, FIRST_FIXED) >= 0 ? "renders exec probes (≥ v0.75.0)" : "predates reloader probes (< v0.65.0)" };
  if (op.flags.probes === "unknown") return { affected: "unknown", why: op.flags.probesProblem ?? "cannot tell whether it runs with the probes flag" };
  if (op.version === null) return { affected: "unknown", why: op.versionProblem ?? "cannot tell its version" };
  return { affected: true };
}

export function describeOperator(op: OperatorEvidence): string {
  const version = op.version ? formatVersion(op.version) : "version unknown";
  const flag = op.flags.probes === "on" ? (op.flags.probesArgument ?? `--${PROBES_FLAG}`) : op.flags.probes === "off" ? (op.flags.probesArgument ?? `no --${PROBES_FLAG}`) : "probes flag unknown";
  return `${op.name} (${version}, ${flag})`;
}

export interface Assessment {
  /** Operators that will render the broken probes for this resource. */
  affected: OperatorEvidence[];
  /** Operators we could not judge, with why. */
  unknown: { operator: OperatorEvidence; why: string }[];
  /** Operators seen and cleared, with why (for the message). */
  cleared: { operator: OperatorEvidence; why: string }[];
}

export function assess(resource: MonitoringResource, operators: readonly OperatorEvidence[]): Assessment {
  const out: Assessment = { affected: [], unknown: [], cleared: [] };
  for (const op of operators) {
    if (!operatorWatches(op, resource.kind, resource.namespace)) {
      out.cleared.push({ operator: op, why: `does not watch namespace ${resource.namespace}` });
      continue;
    }
    const v = judgeOperator(op);
    if (v.affected === true) out.affected.push(op);
    else if (v.affected === "unknown") out.unknown.push({ operator: op, why: v.why });
    else out.cleared.push({ operator: op, why: v.why });
  }
  return out;
}

const MAX_LISTED = 5;
function listed<T>(items: readonly T[], show: (t: T) => string): string {
  const shown = items.slice(0, MAX_LISTED).map(show).join("; ");
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown;
}

/** The one message users see for an affected resource. */
export function affectedMessage(resource: MonitoringResource, a: Assessment): string {
  const ops = a.affected;
  const host = ops[0]!.flags.localhost;
  const who = `prometheus-operator ${listed(ops, describeOperator)}`;
  const others = [...a.unknown.map((u) => `${describeOperator(u.operator)}: ${u.why}`), ...a.cleared.map((c) => `${describeOperator(c.operator)}: ${c.why}`)];
  return (
    `${resource.kind} ${resource.namespace}/${resource.name} sets spec.listenLocal: true, and ${who} ` +
    `will render its config-reloader sidecar listening only on ${host}:8080 with httpGet liveness/readiness probes on port 8080. ` +
    `The kubelet probes the pod IP, so the probes always fail and the config-reloader restarts in a loop ` +
    `(prometheus-operator issue #6682). Fix one of: upgrade prometheus-operator to v0.75.0 or later (it renders exec probes); ` +
    `drop --${PROBES_FLAG} (kube-prometheus-stack: prometheusOperator.prometheusConfigReloader.enableProbe=false); ` +
    `or deploy the rewrite-loopback-probes policy, which turns those probes into exec probes.` +
    (others.length > 0 ? ` Other operators seen: ${listed(others, (s) => s)}.` : "")
  );
}

/** The warning when operators were seen but could not be judged. */
export function uncertainMessage(resource: MonitoringResource, a: Assessment): string {
  return (
    `${resource.kind} ${resource.namespace}/${resource.name} sets spec.listenLocal: true; prometheus-operator v0.65.0–v0.74.x with --${PROBES_FLAG} ` +
    `would render config-reloader probes that always fail, but this could not be checked for ${listed(a.unknown, (u) => `${u.operator.name}: ${u.why}`)}. ` +
    `Pin operatorVersion and configReloaderProbes in the policy settings to decide.`
  );
}
