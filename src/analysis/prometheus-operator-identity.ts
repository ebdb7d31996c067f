/**
 * Who is prometheus-operator, and which version and flags it runs.
 *
 * Trust first: only Deployments at the locations the policy settings name
 * (`trustedOperators`: a namespace, or namespace/name) are ever read. Anyone who
 * may create a Deployment in their own namespace can make one that looks exactly
 * like the operator (and it need not even run), so a Deployment elsewhere must
 * neither raise nor lower a verdict: it is dropped here before anything reads it.
 *
 * Then identity, from data (the spellings real installs use):
 * - the image's last path component: `prometheus-operator` (quay.io / ghcr.io
 *   upstream, Docker Hub and registry mirrors that keep the name, Bitnami
 *   `bitnami/prometheus-operator`, Chainguard `cgr.dev/chainguard/prometheus-operator`),
 *   Rancher's `mirrored-prometheus-operator-prometheus-operator` (rancher-monitoring),
 *   OpenShift's `ose-prometheus-operator[-rhel8|-rhel9]`, or a pattern from the
 *   settings (`operatorImages`, private mirrors that rename it);
 * - or the way OpenShift's cluster-monitoring-operator deploys it from a release
 *   image pinned by digest (`quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:…`,
 *   a name that says nothing): a container named `prometheus-operator` in a
 *   Deployment labelled `app.kubernetes.io/name: prometheus-operator`.
 *
 * The version comes from the tag where the spelling's tag is the upstream
 * version (upstream, mirrors, Bitnami `0.74.0-debian-12-r3`, Rancher); otherwise
 * (OpenShift tags carry OpenShift's version, digest-only references, `latest`) from
 * `app.kubernetes.io/version` — but only from a label set whose
 * `app.kubernetes.io/name` is `prometheus-operator` (kube-prometheus, OpenShift):
 * kube-prometheus-stack puts its chart version (e.g. 61.3.0) in that label, and
 * reading it as the operator's would clear every affected operator. When neither
 * says, the version is unknown and the policy says so.
 *
 * The command line is read as Go's `flag` package reads it (the operator's
 * cmd/operator/main.go, prometheus-operator v0.65.0–v0.74.0, the releases that
 * matter here; unchanged through v0.93.0).
 *
 * Pure functions: no IO, no protocol. Every text taken from a Deployment and put
 * into a message is clipped.
 */
import { globMatch } from "./images.js";

// --- versions ---

export interface Version {
  major: number;
  minor: number;
  /** null when the tag names only major.minor (`v0.74`): the affected range starts and ends at .0, so the minor decides. */
  patch: number | null;
}

export const formatVersion = (v: Version) => `v${v.major}.${v.minor}${v.patch === null ? "" : `.${v.patch}`}`;

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || (a.patch ?? 0) - (b.patch ?? 0);
}

/** `v0.74.0`, `0.74.0`, `v0.74.0-rc.1`, `0.74.0-debian-12-r3` (Bitnami), `v0.74` → the version; anything else → null. */
export function parseVersion(text: string): Version | null {
  if (text.length > 128) return null;
  // Anchored, no nested quantifiers: linear in the (bounded) text.
  const m = /^v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?(?:[-+][0-9A-Za-z.+_-]*)?$/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? null : Number(m[3]) } : null;
}

/** Clip text from a Deployment before it goes into a message (names are ≤ 253 in a cluster, not in a file). */
export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// --- where operators may live ---

/**
 * Where the kube-prometheus family installs the operator:
 * - `monitoring`: kube-prometheus (manifests/prometheusOperator-deployment.yaml) and the
 *   namespace kube-prometheus-stack's and Bitnami's install guides use (those charts
 *   install into the release namespace);
 * - `openshift-monitoring`, `openshift-user-workload-monitoring`: OpenShift's
 *   cluster-monitoring-operator (assets/prometheus-operator*, one operator each);
 * - `cattle-monitoring-system`: Rancher's rancher-monitoring chart
 *   (`catalog.cattle.io/namespace` in its Chart.yaml).
 * All are namespaces only cluster administrators write to.
 */
export const DEFAULT_TRUSTED_OPERATORS: readonly string[] = ["monitoring", "openshift-monitoring", "openshift-user-workload-monitoring", "cattle-monitoring-system"];

export interface OperatorLocation {
  namespace: string;
  /** A Deployment name, or null: every Deployment in the namespace. */
  name: string | null;
}

/** `monitoring` or `monitoring/prometheus-operator` (the settings schema checks the spelling). */
export function parseOperatorLocation(text: string): OperatorLocation {
  const slash = text.indexOf("/");
  return slash < 0 ? { namespace: text, name: null } : { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}

export const describeLocation = (l: OperatorLocation) => (l.name === null ? l.namespace : `${l.namespace}/${l.name}`);

/** The namespaces to ask the host about, each once, in the order given. */
export function trustedNamespaces(locations: readonly OperatorLocation[]): string[] {
  return [...new Set(locations.map((l) => l.namespace))];
}

/** What the host answered for one trusted namespace. */
export interface NamespaceListing {
  namespace: string;
  items: readonly unknown[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * The Deployments the policy may read: in a listed namespace (an object that says
 * another namespace than the one asked for is dropped, whoever answered), and
 * named by a `namespace/name` location when the namespace has any. Also which
 * `namespace/name` locations had no Deployment.
 */
export function trustedDeployments(listings: readonly NamespaceListing[], locations: readonly OperatorLocation[]): { deployments: unknown[]; missing: string[] } {
  const deployments: unknown[] = [];
  const found = new Set<string>();
  for (const { namespace, items } of listings) {
    const wholeNamespace = locations.some((l) => l.namespace === namespace && l.name === null);
    const names = new Set(locations.filter((l) => l.namespace === namespace && l.name !== null).map((l) => l.name!));
    for (const d of items) {
      if (!isRecord(d)) continue;
      const meta = isRecord(d.metadata) ? d.metadata : {};
      const ns = str(meta.namespace) ?? namespace;
      const name = str(meta.name);
      if (ns !== namespace) continue;
      if (!wholeNamespace && (name === undefined || !names.has(name))) continue;
      if (name !== undefined && names.has(name)) found.add(`${ns}/${name}`);
      deployments.push(d);
    }
  }
  const missing = locations.filter((l) => l.name !== null && !found.has(describeLocation(l))).map(describeLocation);
  return { deployments, missing };
}

// --- images ---

export interface ImageReference {
  /** The reference without tag and digest, e.g. `quay.io/prometheus-operator/prometheus-operator`. */
  repository: string;
  /** Its last path component. */
  name: string;
  tag?: string;
  digest?: string;
}

const MAX_IMAGE_LENGTH = 1024;

export function parseImageReference(image: string): ImageReference | null {
  if (image.length === 0 || image.length > MAX_IMAGE_LENGTH) return null;
  const at = image.indexOf("@");
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const repository = colon > slash ? ref.slice(0, colon) : ref;
  const out: ImageReference = { repository, name: repository.slice(slash + 1) };
  if (colon > slash) out.tag = ref.slice(colon + 1);
  if (at >= 0) out.digest = image.slice(at + 1);
  return out;
}

/** How an image spells prometheus-operator, and whether its tag is the operator's version. */
export interface OperatorSpelling {
  /** What messages call it. */
  label: string;
  /** `*` globs over the image's last path component. */
  names: readonly string[];
  tagIsVersion: boolean;
}

export const OPERATOR_SPELLINGS: readonly OperatorSpelling[] = [
  { label: "prometheus-operator image", names: ["prometheus-operator"], tagIsVersion: true },
  { label: "Rancher mirror", names: ["mirrored-prometheus-operator-prometheus-operator"], tagIsVersion: true },
  // Tagged with OpenShift's version (v4.16.0-202407…): never the operator's.
  { label: "OpenShift build", names: ["ose-prometheus-operator", "ose-prometheus-operator-rhel*"], tagIsVersion: false },
];

export interface IdentifyOptions {
  /** Settings `operatorImages`: `*` globs over the repository (or the image as written); their tag is read as the upstream version. */
  extraImages: readonly string[];
}

export const DEFAULT_IDENTIFY_OPTIONS: IdentifyOptions = { extraImages: [] };

export interface ImageIdentity {
  spelling: string;
  tagIsVersion: boolean;
}

/** Which spelling of prometheus-operator this image is, or null (the config-reloader and admission webhook included). */
export function operatorImage(ref: ImageReference, image: string, options: IdentifyOptions = DEFAULT_IDENTIFY_OPTIONS): ImageIdentity | null {
  for (const s of OPERATOR_SPELLINGS) if (s.names.some((n) => globMatch(n, ref.name))) return { spelling: s.label, tagIsVersion: s.tagIsVersion };
  for (const p of options.extraImages)
    if (globMatch(p, ref.repository) || globMatch(p, image)) return { spelling: `operatorImages pattern ${JSON.stringify(p)}`, tagIsVersion: true };
  return null;
}

const NAME_LABEL = "app.kubernetes.io/name";
const VERSION_LABEL = "app.kubernetes.io/version";
const OPERATOR_NAME = "prometheus-operator";

function labelsOf(v: unknown): Record<string, unknown> {
  return isRecord(v) && isRecord(v.labels) ? v.labels : {};
}
const label = (labels: Record<string, unknown>, key: string) => (Object.hasOwn(labels, key) ? str(labels[key]) : undefined);

/** `app.kubernetes.io/version` of the first label set that names prometheus-operator itself. */
function labelledVersion(sets: readonly Record<string, unknown>[]): { text: string; version: Version | null } | null {
  for (const labels of sets) {
    if (label(labels, NAME_LABEL) !== OPERATOR_NAME) continue;
    const text = label(labels, VERSION_LABEL);
    if (text !== undefined) return { text, version: parseVersion(text) };
  }
  return null;
}

const labelsName = (sets: readonly Record<string, unknown>[]) => sets.some((l) => label(l, NAME_LABEL) === OPERATOR_NAME);

// --- the command line ---

/** Go's strconv.ParseBool, which the flag package uses for bool flags. */
function goBool(text: string): boolean | null {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return null;
}

export const PROBES_FLAG = "enable-config-reloader-probes";

/** The operator's bool flags (v0.65.0–v0.93.0): they take no separate value, so the next argument is not theirs. */
const BOOL_FLAGS = new Set([
  PROBES_FLAG,
  "tls-insecure",
  "web.enable-tls",
  "web.enable-http2",
  "kubelet-endpoints",
  "kubelet-endpointslice",
  "watch-referenced-objects-in-all-namespaces",
  "disable-unmanaged-prometheus-configuration",
  "manage-crds",
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
  /**
   * Every value of every non-bool flag, in order. Which occurrence counts is the
   * flag's own business: most keep the last, the namespace lists add them all up.
   */
  values: Map<string, string[]>;
}

/** The last value given to a flag (Go's flag.StringVar and the operator's selector types keep the last). */
export function lastValue(flags: OperatorFlags, name: string): string | undefined {
  const all = flags.values.get(name);
  return all === undefined ? undefined : all[all.length - 1];
}

/**
 * Read the operator's command line the way Go's `flag` package does: `-f`/`--f`,
 * `=value` or the next argument for non-bool flags, parsing stops at the first
 * non-flag argument or `--`.
 */
export function parseOperatorFlags(args: readonly string[]): OperatorFlags {
  const values = new Map<string, string[]>();
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
        probesProblem = b === null ? `${clip(arg, 80)} is not a boolean Go's flag package reads${value.includes("$(") ? " (it depends on an environment variable)" : ""}` : undefined;
      }
      continue;
    }
    if (value === undefined) continue;
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  const out: OperatorFlags = { probes, localhost: "localhost", values };
  out.localhost = lastValue(out, "localhost") ?? "localhost";
  if (probesArgument !== undefined) out.probesArgument = probesArgument;
  if (probesProblem !== undefined) out.probesProblem = probesProblem;
  return out;
}

// --- evidence ---

const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : null);

/** What we learned about one prometheus-operator found in the cluster (or pinned in settings). */
export interface OperatorEvidence {
  /** "namespace/name" of its Deployment, or where it came from. */
  name: string;
  /** Pinned in the policy settings: it reconciles every object, no Deployment is read. */
  pinned?: boolean;
  image?: string;
  /** How it was recognised (the spelling of its image, or its labels). */
  identifiedBy?: string;
  /** Known version, or null with `versionProblem`. */
  version: Version | null;
  /** Where the version was read, when not from the image tag. */
  versionSource?: string;
  versionProblem?: string;
  flags: OperatorFlags;
  /** A Deployment scaled to zero renders nothing. */
  scaledToZero?: boolean;
  /** When the command line is not the operator's own (a shell wrapper), flags are unknown. */
  commandProblem?: string;
}

/** The version of an identified operator, and why not when it cannot be told. */
function versionOf(ref: ImageReference, identity: ImageIdentity, labelSets: readonly Record<string, unknown>[]): Pick<OperatorEvidence, "version" | "versionSource" | "versionProblem"> {
  const fromTag = identity.tagIsVersion && ref.tag !== undefined ? parseVersion(ref.tag) : null;
  if (fromTag) return { version: fromTag };
  const labelled = labelledVersion(labelSets);
  if (labelled?.version) return { version: labelled.version, versionSource: `label ${VERSION_LABEL}: ${clip(labelled.text, 40)}` };
  const digest = ref.digest === undefined ? "" : ` (${clip(ref.digest, 23)})`;
  const why = !identity.tagIsVersion
    ? identity.spelling === "labels"
      ? "its image name says nothing about the version"
      : `an ${identity.spelling}'s tag is not the operator's version`
    : ref.tag === undefined
      ? ref.digest === undefined
        ? "its image has no tag (latest)"
        : `its image is pinned by digest only${digest}`
      : `its image tag "${clip(ref.tag, 64)}" is not a version`;
  const labels = labelled ? `its ${VERSION_LABEL} label "${clip(labelled.text, 40)}" is not a version either` : `its Deployment has no ${VERSION_LABEL} label beside ${NAME_LABEL}: ${OPERATOR_NAME}`;
  return { version: null, versionProblem: `version unknown: ${why}, and ${labels}` };
}

/**
 * Find prometheus-operator containers in Deployments (as returned by the
 * Kubernetes host capability, possibly pruned to a few fields). Pass only
 * trusted Deployments (trustedDeployments).
 */
export function operatorsInDeployments(deployments: readonly unknown[], options: IdentifyOptions = DEFAULT_IDENTIFY_OPTIONS): OperatorEvidence[] {
  const out: OperatorEvidence[] = [];
  for (const d of deployments) {
    if (!isRecord(d)) continue;
    const meta = isRecord(d.metadata) ? d.metadata : {};
    const name = clip(`${str(meta.namespace) ?? "default"}/${str(meta.name) ?? "(unnamed)"}`, 200);
    const spec = isRecord(d.spec) ? d.spec : {};
    const template = isRecord(spec.template) ? spec.template : {};
    const podSpec = isRecord(template.spec) ? template.spec : {};
    const labelSets = [labelsOf(meta), labelsOf(template.metadata)];
    const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
    for (const c of containers) {
      if (!isRecord(c)) continue;
      const image = str(c.image) ?? "";
      const ref = parseImageReference(image) ?? { repository: "", name: "" };
      let identity = image === "" ? null : operatorImage(ref, image, options);
      // OpenShift's release images say nothing in their name: its labels and container name do.
      if (!identity && c.name === OPERATOR_NAME && labelsName(labelSets)) identity = { spelling: "labels", tagIsVersion: false };
      if (!identity) continue;
      const evidence: OperatorEvidence = {
        name,
        image: clip(image, 200),
        identifiedBy: identity.spelling === "labels" ? `container ${OPERATOR_NAME} in a Deployment labelled ${NAME_LABEL}: ${OPERATOR_NAME}` : identity.spelling,
        ...versionOf(ref, identity, labelSets),
        flags: parseOperatorFlags([]),
      };
      const command = c.command === undefined || c.command === null ? [] : strings(c.command);
      const args = c.args === undefined || c.args === null ? [] : strings(c.args);
      if (command === null || args === null) {
        evidence.flags = { ...parseOperatorFlags([]), probes: "unknown", probesProblem: "its command or args are not lists of strings" };
      } else if (command.length > 0 && !isOperatorBinary(command[0]!)) {
        evidence.commandProblem = `it runs ${JSON.stringify(clip(command[0]!, 60))}, not the operator binary directly`;
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

/** `/bin/operator` (upstream), `/usr/bin/operator` (Chainguard), `prometheus-operator`: the last path component, no regex. */
function isOperatorBinary(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base === "operator" || base === OPERATOR_NAME;
}
