/**
 * Deployment and catalogue metadata derived from metadata.yml (and
 * questions-ui.yml), the way `kwctl scaffold artifacthub` and
 * `kwctl scaffold manifest` derive them.
 */
import { stringify } from "yaml";
import type { PolicyMetadata } from "./metadata.js";

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
}

/** A ClusterAdmissionPolicy / AdmissionPolicy for the module. */
export function policyManifest(o: ManifestOptions): Record<string, unknown> {
  const a = o.metadata.annotations;
  const annotations: Record<string, string> = {};
  for (const key of ["category", "severity", "title", "description"]) if (a[ANNOTATION(key)]) annotations[ANNOTATION(key)] = a[ANNOTATION(key)]!;
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
  if (o.kind === "ClusterAdmissionPolicy" && o.skipNamespaces.length > 0)
    spec.namespaceSelector = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: o.skipNamespaces }] };
  return {
    apiVersion: "policies.kubewarden.io/v1",
    kind: o.kind,
    metadata: { name: o.name, ...(o.kind === "AdmissionPolicy" ? { namespace: o.namespace ?? "default" } : {}), annotations },
    spec,
  };
}
