/**
 * Deployment and catalogue metadata derived from metadata.yml (and
 * questions-ui.yml), the way `kwctl scaffold artifacthub` and
 * `kwctl scaffold manifest` derive them.
 */
import { Document, stringify } from "yaml";
import type { PolicyMetadata } from "./metadata.js";
import { verificationConfigYaml } from "./verification-config.js";

const ANNOTATION = (key: string) => `io.kubewarden.policy.${key}`;

function required(metadata: PolicyMetadata, key: string): string {
  const v = metadata.annotations[key];
  if (!v) throw new Error(`metadata.yml: annotation ${key} is required for this`);
  return v;
}

export interface ArtifactHubInput {
  metadata: PolicyMetadata;
  /** questions-ui.yml text, if the policy has one; embedded verbatim. */
  questionsUi?: string;
  /** RFC 3339 timestamp; kept stable across regenerations of the same version. */
  createdAt: string;
}

export interface Maintainer {
  name: string;
  email: string;
}

export function ociImage(metadata: PolicyMetadata): string {
  return `${required(metadata, ANNOTATION("ociUrl"))}:v${required(metadata, ANNOTATION("version"))}`;
}

const SEMVER = /^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * `io.kubewarden.policy.author` as kwctl reads it: an RFC 5322 address list
 * ("Tux Tuxedo <tux@example.com>, Pidgin <pidgin@example.com>"; quoted display
 * names and bare addresses too; empty entries between commas are skipped).
 * Every entry must carry a valid email: Artifact Hub requires maintainers' emails.
 */
export function parseAuthors(value: string): Maintainer[] {
  const entries: string[] = [];
  let current = "";
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === "\\" && i + 1 < value.length) {
      current += c + value[++i]!;
      continue;
    }
    if (c === '"' && !angle) quoted = !quoted;
    else if (c === "<" && !quoted) angle = true;
    else if (c === ">" && !quoted) angle = false;
    if (c === "," && !quoted && !angle) {
      entries.push(current);
      current = "";
    } else current += c;
  }
  entries.push(current);
  const bad = (why: string) => new Error(`${ANNOTATION("author")}: ${why} (expected "Name <name@example.org>[, …]")`);
  if (quoted || angle) throw bad(`unbalanced ${quoted ? "quote" : "<"} in "${value}"`);
  const maintainers: Maintainer[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") continue;
    let name = "";
    let email: string;
    const open = entry.lastIndexOf("<");
    if (open >= 0) {
      const close = entry.indexOf(">", open);
      if (close !== entry.length - 1) throw bad(`text after the address in "${entry}"`);
      email = entry.slice(open + 1, close).trim();
      name = entry.slice(0, open).trim();
      if (name.startsWith('"') && name.endsWith('"') && name.length >= 2) name = name.slice(1, -1).replace(/\\(.)/g, "$1");
    } else email = entry;
    if (!isEmail(email)) throw bad(`"${email}" in "${entry}" is not an email address`);
    maintainers.push({ name, email });
  }
  if (maintainers.length === 0) throw bad("no address");
  return maintainers;
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** addr-spec with a dot-atom local part and a hostname domain (what Artifact Hub accepts). */
export function isEmail(text: string): boolean {
  const at = text.lastIndexOf("@");
  if (at <= 0 || at > 64 || text.length > 254) return false;
  const local = text.slice(0, at).split(".");
  const domain = text.slice(at + 1).split(".");
  return local.every((part) => ATEXT.test(part)) && domain.length >= 1 && domain.every((label) => LABEL.test(label));
}

function parseUrl(metadata: PolicyMetadata, key: string): URL | undefined {
  const value = metadata.annotations[ANNOTATION(key)];
  if (value === undefined) return undefined;
  try {
    return new URL(value);
  } catch {
    throw new Error(`metadata.yml: ${ANNOTATION(key)} is not a URL: ${value}`);
  }
}

/**
 * One policy's artifacthub-pkg.yml content (as an object), field for field what
 * `kwctl scaffold artifacthub` writes (policy-evaluator's ArtifactHubPkg::from_metadata):
 * same keys in the same order, optional keys left out when their annotation is,
 * annotations sorted by key.
 */
export function artifactHubPackage({ metadata, questionsUi, createdAt }: ArtifactHubInput): Record<string, unknown> {
  const a = metadata.annotations;
  const version = required(metadata, ANNOTATION("version"));
  if (!SEMVER.test(version)) throw new Error(`metadata.yml: ${ANNOTATION("version")} must be a semantic version, got "${version}"`);
  if (questionsUi === "") throw new Error("questions-ui.yml is empty");
  const image = ociImage(metadata);

  const annotations: Record<string, string> = {
    "kubewarden/mutation": metadata.mutating ? "true" : "false",
    "kubewarden/rules": stringify(metadata.rules, { lineWidth: 0 }),
  };
  if (metadata.contextAwareResources.length > 0) annotations["kubewarden/contextAwareResources"] = stringify(metadata.contextAwareResources);
  // Not written by kwctl (as of adm-controller 3460bb7): the capabilities a PolicyServer's
  // namespacedPoliciesCapabilities must allow, shown as the contextAwareResources are.
  if (metadata.hostCapabilities && metadata.hostCapabilities.length > 0) annotations["kubewarden/hostCapabilities"] = stringify(metadata.hostCapabilities);
  if (questionsUi !== undefined) annotations["kubewarden/questions-ui"] = questionsUi;
  const hidden = a["io.kubewarden.hidden-ui"];
  if (hidden !== undefined) {
    if (hidden !== "true" && hidden !== "false") throw new Error(`metadata.yml: io.kubewarden.hidden-ui must be "true" or "false", got "${hidden}"`);
    annotations["kubewarden/hidden-ui"] = hidden;
  }
  if (a["io.artifacthub.resources"] !== undefined) annotations["kubewarden/resources"] = a["io.artifacthub.resources"];

  const pkg: Record<string, unknown> = {
    version,
    name: required(metadata, ANNOTATION("title")),
    displayName: required(metadata, "io.artifacthub.displayName"),
    createdAt,
    description: required(metadata, ANNOTATION("description")),
  };
  if (a[ANNOTATION("license")] !== undefined) pkg.license = a[ANNOTATION("license")];
  const home = parseUrl(metadata, "url");
  if (home) pkg.homeURL = home.href;
  pkg.containersImages = [{ name: "policy", image }];
  const keywords = a["io.artifacthub.keywords"];
  if (keywords !== undefined) {
    const list = keywords.split(",").map((k) => k.replace(/^ +/, "").replace(/ +$/, ""));
    if (list.some((k) => k === "")) throw new Error(`metadata.yml: io.artifacthub.keywords has an empty entry: "${keywords}"`);
    pkg.keywords = list;
  }
  const source = parseUrl(metadata, "source");
  if (source) {
    // kwctl links the release asset of a GitHub source: <source>/releases/download/<tag>/policy.wasm
    const links: { name: string; url: string }[] = [];
    if (source.hostname === "github.com") {
      const tag = a["com.github.release.tag"] !== undefined ? encodeURIComponent(a["com.github.release.tag"]) : `v${version}`;
      links.push({ name: "policy", url: new URL(`${source.href}/releases/download/${tag}/policy.wasm`).href });
    }
    links.push({ name: "source", url: source.href });
    pkg.links = links;
  }
  pkg.install = [
    "The policy can be obtained using [kwctl](https://docs.kubewarden.io/howtos/install-kwctl):",
    "```console",
    `kwctl pull ${image}`,
    "```",
    "Then, generate the policy manifest and tune it to your liking. For example:",
    "```console",
    `kwctl scaffold manifest -t ClusterAdmissionPolicy registry://${image}`,
    "```",
    "",
  ].join("\n");
  if (a[ANNOTATION("author")] !== undefined) pkg.maintainers = parseAuthors(a[ANNOTATION("author")]!);
  pkg.provider = { name: "kubewarden" };
  pkg.recommendations = [{ url: "https://artifacthub.io/packages/helm/kubewarden/kubewarden-controller" }];
  pkg.annotations = Object.fromEntries(Object.entries(annotations).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return pkg;
}

const HEADER = `# Kubewarden Artifacthub Package config
#
# Use this config to submit the policy to https://artifacthub.io.
# Generated by \`loopback-probes scaffold artifacthub\` from metadata.yml and
# questions-ui.yml, as \`kwctl scaffold artifacthub\` writes it. Do not edit:
# a test fails when it is stale.
`;

export function artifactHubYaml(pkg: Record<string, unknown>): string {
  return HEADER + stringify(pkg, { lineWidth: 0 });
}

export interface ManifestOptions {
  metadata: PolicyMetadata;
  /** registry://… URL of the module. */
  moduleUrl: string;
  name: string;
  kind: "ClusterAdmissionPolicy" | "AdmissionPolicy";
  mode: "monitor" | "protect";
  namespace?: string;
  settings?: unknown;
  /** Namespaces a ClusterAdmissionPolicy must never touch. */
  skipNamespaces: string[];
  /** spec.message: replaces the policy's rejection message (which moves to status.details.causes). */
  message?: string;
  /** spec.timeoutEvalSeconds (2–30): the policy's own evaluation deadline. */
  timeoutEvalSeconds?: number;
  /** spec.policyServer (default: the "default" PolicyServer). */
  policyServer?: string;
}

/** The CRDs' bounds of timeoutEvalSeconds. */
export const TIMEOUT_EVAL_SECONDS = { min: 2, max: 30 } as const;

const namespaceSelector = (skip: readonly string[]) => (skip.length > 0 ? { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...skip] }] } } : {});

/** The annotations a policy resource carries from the metadata: what the audit scanner reads for reports (category, severity) and the UI shows. */
function resourceAnnotations(metadata: PolicyMetadata): Record<string, string> {
  const a = metadata.annotations;
  const annotations: Record<string, string> = {};
  for (const key of ["category", "severity", "title", "description"]) if (a[ANNOTATION(key)]) annotations[ANNOTATION(key)] = a[ANNOTATION(key)]!;
  return annotations;
}

/** A ClusterAdmissionPolicy / AdmissionPolicy for the module. */
export function policyManifest(o: ManifestOptions): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    module: o.moduleUrl,
    mode: o.mode,
    mutating: o.metadata.mutating,
    backgroundAudit: o.metadata.backgroundAudit,
    rules: o.metadata.rules,
    settings: o.settings ?? {},
  };
  // Only ClusterAdmissionPolicies can grant context-aware access; without the grant the host refuses every lookup.
  if (o.kind === "ClusterAdmissionPolicy" && o.metadata.contextAwareResources.length > 0) spec.contextAwareResources = o.metadata.contextAwareResources;
  if (o.kind === "ClusterAdmissionPolicy") Object.assign(spec, namespaceSelector(o.skipNamespaces));
  if (o.timeoutEvalSeconds !== undefined) spec.timeoutEvalSeconds = o.timeoutEvalSeconds;
  if (o.message !== undefined) spec.message = o.message;
  if (o.policyServer !== undefined) spec.policyServer = o.policyServer;
  return {
    apiVersion: "policies.kubewarden.io/v1",
    kind: o.kind,
    metadata: { name: o.name, ...(o.kind === "AdmissionPolicy" ? { namespace: o.namespace ?? "default" } : {}), annotations: resourceAnnotations(o.metadata) },
    spec,
  };
}

/**
 * What the host capabilities a module declares mean for where it runs: a
 * cluster-wide policy gets every capability; a namespaced one only what its
 * PolicyServer's namespacedPoliciesCapabilities allows (all when unset), as
 * adm-controller's hostCapabilitiesForPolicy decides.
 */
export function hostCapabilitiesNote(metadata: PolicyMetadata, kind: string): string | null {
  const caps = metadata.hostCapabilities ?? [];
  if (caps.length === 0) return null;
  const namespaced = kind === "AdmissionPolicy" || kind === "AdmissionPolicyGroup";
  return namespaced
    ? `The module calls the host capabilities ${caps.join(", ")}: when its PolicyServer sets spec.namespacedPoliciesCapabilities, that list must allow them.`
    : `The module calls the host capabilities ${caps.join(", ")} (a cluster-wide policy may call every capability).`;
}

export interface GroupMemberInput {
  /** The member's name in the group (a CEL identifier: the expression calls it). */
  name: string;
  metadata: PolicyMetadata;
  moduleUrl: string;
  settings?: unknown;
  timeoutEvalSeconds?: number;
}

export interface GroupManifestOptions {
  name: string;
  mode: "monitor" | "protect";
  /** spec.message: what a rejected request shows (each rejecting member's message is a cause). */
  message: string;
  members: GroupMemberInput[];
  /** Default: every member must accept (`a() && b()`). */
  expression?: string;
  skipNamespaces: string[];
  policyServer?: string;
}

/** A policy group member's name from a policy's: letters, digits and "_" (the controller's rule for CEL identifiers). */
export const groupMemberName = (policy: string) => policy.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=[0-9])/, "_");

/** Union of the members' rules, merged by group/version/operations (what reaches the group must reach each member's rules). */
function unionRules(members: readonly GroupMemberInput[]): PolicyMetadata["rules"] {
  const out: PolicyMetadata["rules"] = [];
  for (const m of members)
    for (const r of m.metadata.rules) {
      const key = (x: PolicyMetadata["rules"][number]) => JSON.stringify([x.apiGroups, x.apiVersions, x.operations]);
      const same = out.find((o) => key(o) === key(r));
      if (same) same.resources = [...new Set([...same.resources, ...r.resources])];
      else out.push({ apiGroups: [...r.apiGroups], apiVersions: [...r.apiVersions], resources: [...r.resources], operations: [...r.operations] });
    }
  return out;
}

/** A ClusterAdmissionPolicyGroup of validating policies (a group cannot mutate). */
export function policyGroupManifest(o: GroupManifestOptions): Record<string, unknown> {
  const mutating = o.members.filter((m) => m.metadata.mutating).map((m) => m.name);
  if (mutating.length > 0) throw new Error(`a policy group cannot hold mutating policies (${mutating.join(", ")})`);
  const policies: Record<string, unknown> = {};
  for (const m of o.members)
    policies[m.name] = {
      module: m.moduleUrl,
      settings: m.settings ?? {},
      ...(m.metadata.contextAwareResources.length > 0 ? { contextAwareResources: m.metadata.contextAwareResources } : {}),
      ...(m.timeoutEvalSeconds === undefined ? {} : { timeoutEvalSeconds: m.timeoutEvalSeconds }),
    };
  // The audit scanner reads a group's category and severity from the group's own annotations: those its members agree on.
  const annotations: Record<string, string> = {};
  for (const key of [ANNOTATION("category"), ANNOTATION("severity")]) {
    const values = new Set(o.members.map((m) => m.metadata.annotations[key]));
    const [only] = values;
    if (values.size === 1 && only) annotations[key] = only;
  }
  return {
    apiVersion: "policies.kubewarden.io/v1",
    kind: "ClusterAdmissionPolicyGroup",
    metadata: { name: o.name, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: {
      mode: o.mode,
      backgroundAudit: o.members.every((m) => m.metadata.backgroundAudit),
      rules: unionRules(o.members),
      ...namespaceSelector(o.skipNamespaces),
      ...(o.policyServer === undefined ? {} : { policyServer: o.policyServer }),
      expression: o.expression ?? o.members.map((m) => `${m.name}()`).join(" && "),
      message: o.message,
      policies,
    },
  };
}

export interface PolicyServerOptions {
  name: string;
  image: string;
  replicas: number;
  /** The ConfigMap (in the controller's namespace) holding the verification config under the key verification-config. */
  verificationConfigMap: string;
  /** The controller's namespace (the chart's default: kubewarden). */
  namespace: string;
  /** What namespaced policies on this server may call (the union of what the shipped modules declare). */
  namespacedPoliciesCapabilities: string[];
  /** The verification config's owner and key (PEM); a placeholder until the release key exists. */
  owner: string;
  publicKeyPem: string;
}

/** A PolicyServer that loads only policies signed with the key, and the ConfigMap with its verification config. */
export function policyServerManifests(o: PolicyServerOptions): Record<string, unknown>[] {
  // Written (and read back) as `scaffold verification-config` writes one.
  const verificationConfig = verificationConfigYaml({ apiVersion: "v1", allOf: [{ kind: "pubKey", owner: o.owner, key: o.publicKeyPem }] });
  return [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: o.verificationConfigMap, namespace: o.namespace }, data: { "verification-config": verificationConfig } },
    {
      apiVersion: "policies.kubewarden.io/v1",
      kind: "PolicyServer",
      metadata: { name: o.name },
      spec: {
        image: o.image,
        replicas: o.replicas,
        ...(o.replicas > 1 ? { minAvailable: 1 } : {}),
        serviceAccountName: "policy-server",
        verificationConfig: o.verificationConfigMap,
        namespacedPoliciesCapabilities: o.namespacedPoliciesCapabilities,
      },
    },
  ];
}

/** Manifests as YAML documents, the first preceded by `comment` lines. */
export function manifestsYaml(manifests: readonly Record<string, unknown>[], comment?: string): string {
  return manifests
    .map((m, i) => {
      const doc = new Document(m);
      if (i === 0 && comment) doc.commentBefore = comment.split("\n").map((l) => (l === "" ? "" : ` ${l}`)).join("\n");
      return (i === 0 ? "" : "---\n") + doc.toString({ lineWidth: 0 });
    })
    .join("");
}
