/**
 * Kubewarden's verification config (policy-fetcher `verify/config.rs`): what
 * `kwctl --verification-config-path` reads and a PolicyServer's
 * `spec.verificationConfig` ConfigMap holds under the key `verification-config`.
 *
 *   apiVersion: v1
 *   allOf: [Signature…]                           every entry must be satisfied
 *   anyOf: {minimumMatches: N (default 1), signatures: [Signature…]}
 *   Signature: kind pubKey      {key: PEM, owner?, annotations?}
 *              kind genericIssuer {issuer, subject: {equal: S} | {urlPrefix: URL}, annotations?}
 *              kind githubAction  {owner, repo?, annotations?}
 *
 * Read as policy-fetcher reads it: unknown fields are errors (serde
 * deny_unknown_fields), annotation values must be strings (a YAML `true` must be
 * quoted), apiVersion other than v1 is unsupported, a urlPrefix gets a trailing
 * "/" so https://github.com/org cannot match https://github.com/org-evil. We are
 * stricter in one way, on purpose: a config that accepts every module — an empty
 * allOf with no anyOf, minimumMatches 0 — or that no module can satisfy
 * (minimumMatches above the number of signatures) is refused instead of
 * silently passing or failing everything.
 */
import { parseDocument, stringify } from "yaml";

export interface PubKeySignature {
  kind: "pubKey";
  key: string;
  owner?: string;
  annotations?: Record<string, string>;
}

export interface GenericIssuerSignature {
  kind: "genericIssuer";
  issuer: string;
  subject: { equal: string } | { urlPrefix: string };
  annotations?: Record<string, string>;
}

export interface GithubActionSignature {
  kind: "githubAction";
  owner: string;
  repo?: string;
  annotations?: Record<string, string>;
}

export type Signature = PubKeySignature | GenericIssuerSignature | GithubActionSignature;

export interface VerificationConfig {
  apiVersion?: "v1";
  allOf?: Signature[];
  anyOf?: { minimumMatches: number; signatures: Signature[] };
}

export class VerificationConfigError extends Error {}

/** Largest verification config read (a config with a few hundred keys is ~100 KiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** policy-fetcher reads minimumMatches as a u8. */
const MAX_MINIMUM_MATCHES = 255;

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);

function onlyFields(value: Fields, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw new VerificationConfigError(`${where}: unknown field \`${key}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(", ")}`);
}

function requiredString(value: Fields, key: string, where: string): string {
  if (!Object.hasOwn(value, key)) throw new VerificationConfigError(`${where}: missing field \`${key}\``);
  const v = value[key];
  if (typeof v !== "string") throw new VerificationConfigError(`${where}: \`${key}\` must be a string`);
  return v;
}

function optionalString(value: Fields, key: string, where: string): string | undefined {
  if (!Object.hasOwn(value, key) || value[key] === null) return undefined;
  const v = value[key];
  if (typeof v !== "string") throw new VerificationConfigError(`${where}: \`${key}\` must be a string`);
  return v;
}

function annotationsOf(value: Fields, where: string): Record<string, string> | undefined {
  if (!Object.hasOwn(value, "annotations") || value.annotations === null) return undefined;
  const a = value.annotations;
  if (!isObject(a)) throw new VerificationConfigError(`${where}: \`annotations\` must be a map of strings`);
  const entries: [string, string][] = [];
  for (const [k, v] of Object.entries(a)) {
    if (typeof v !== "string") throw new VerificationConfigError(`${where}: annotation \`${k}\` must be a string (quote it: ${k}: "${String(v)}")`);
    entries.push([k, v]);
  }
  // fromEntries defines own properties: a key named __proto__ stays a key.
  return Object.fromEntries(entries);
}

function signatureOf(value: unknown, where: string): Signature {
  if (!isObject(value)) throw new VerificationConfigError(`${where}: expected a map with a \`kind\``);
  const kind = value.kind;
  const annotations = annotationsOf(value, where);
  const withAnnotations = <T extends object>(s: T) => (annotations ? { ...s, annotations } : s);
  switch (kind) {
    case "pubKey": {
      onlyFields(value, ["kind", "key", "owner", "annotations"], where);
      const owner = optionalString(value, "owner", where);
      return withAnnotations({ kind, key: requiredString(value, "key", where), ...(owner !== undefined ? { owner } : {}) });
    }
    case "genericIssuer": {
      onlyFields(value, ["kind", "issuer", "subject", "annotations"], where);
      const issuer = requiredString(value, "issuer", where);
      if (!Object.hasOwn(value, "subject")) throw new VerificationConfigError(`${where}: missing field \`subject\``);
      const subject = value.subject;
      if (!isObject(subject) || Object.keys(subject).length !== 1) throw new VerificationConfigError(`${where}: \`subject\` must be {equal: …} or {urlPrefix: …}`);
      if (Object.hasOwn(subject, "equal")) return withAnnotations({ kind, issuer, subject: { equal: requiredString(subject, "equal", `${where}.subject`) } });
      if (!Object.hasOwn(subject, "urlPrefix")) throw new VerificationConfigError(`${where}: \`subject\` must be {equal: …} or {urlPrefix: …}`);
      const raw = requiredString(subject, "urlPrefix", `${where}.subject`);
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new VerificationConfigError(`${where}: subject.urlPrefix is not a URL`);
      }
      // As policy-fetcher: the prefix path ends in "/", so …/org cannot match …/org-evil.
      if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
      return withAnnotations({ kind, issuer, subject: { urlPrefix: url.href } });
    }
    case "githubAction": {
      onlyFields(value, ["kind", "owner", "repo", "annotations"], where);
      const repo = optionalString(value, "repo", where);
      return withAnnotations({ kind, owner: requiredString(value, "owner", where), ...(repo !== undefined ? { repo } : {}) });
    }
    default:
      throw new VerificationConfigError(`${where}: unknown kind ${JSON.stringify(kind)}, expected pubKey, genericIssuer or githubAction`);
  }
}

function signatureList(value: unknown, where: string): Signature[] {
  if (!Array.isArray(value)) throw new VerificationConfigError(`${where} must be a list of signatures`);
  return value.map((v, i) => signatureOf(v, `${where}[${i}]`));
}

/** Validates a parsed config (the object a YAML or JSON document gave). */
export function verificationConfigOf(value: unknown): VerificationConfig {
  if (!isObject(value)) throw new VerificationConfigError("not a valid configuration file: expected a map with apiVersion, allOf and/or anyOf");
  if (Object.hasOwn(value, "apiVersion") && value.apiVersion !== "v1") throw new VerificationConfigError(`not a supported configuration version: apiVersion ${JSON.stringify(value.apiVersion)} (only v1 is)`);
  onlyFields(value, ["apiVersion", "allOf", "anyOf"], "verification config");
  const config: VerificationConfig = { apiVersion: "v1" };
  if (Object.hasOwn(value, "allOf") && value.allOf !== null) {
    config.allOf = signatureList(value.allOf, "allOf");
  }
  if (Object.hasOwn(value, "anyOf") && value.anyOf !== null) {
    const anyOf = value.anyOf;
    if (!isObject(anyOf)) throw new VerificationConfigError("anyOf must be a map with minimumMatches and signatures");
    onlyFields(anyOf, ["minimumMatches", "signatures"], "anyOf");
    let minimumMatches = 1;
    if (Object.hasOwn(anyOf, "minimumMatches")) {
      const m = anyOf.minimumMatches;
      if (typeof m !== "number" || !Number.isInteger(m) || m < 0 || m > MAX_MINIMUM_MATCHES) throw new VerificationConfigError(`anyOf.minimumMatches must be a whole number from 1 to ${MAX_MINIMUM_MATCHES}`);
      minimumMatches = m;
    }
    if (!Object.hasOwn(anyOf, "signatures")) throw new VerificationConfigError("anyOf: missing field `signatures`");
    const signatures = signatureList(anyOf.signatures, "anyOf.signatures");
    if (minimumMatches === 0) throw new VerificationConfigError("anyOf.minimumMatches is 0: that accepts every module, signed or not (policy-server would too); use 1 or more");
    if (minimumMatches > signatures.length) throw new VerificationConfigError(`anyOf.minimumMatches is ${minimumMatches} but anyOf lists ${signatures.length} signature(s): no module could ever pass`);
    config.anyOf = { minimumMatches, signatures };
  }
  if (!config.allOf && !config.anyOf) throw new VerificationConfigError("the config lists no signatures: give allOf and/or anyOf");
  if (config.allOf?.length === 0 && !config.anyOf) throw new VerificationConfigError("allOf is empty and there is no anyOf: that accepts every module, signed or not (policy-server would too); list at least one signature");
  return config;
}

/** Parses the YAML (or JSON) text of a verification config. */
export function parseVerificationConfig(text: string): VerificationConfig {
  if (text.length > MAX_CONFIG_BYTES) throw new VerificationConfigError(`the config is larger than ${MAX_CONFIG_BYTES} bytes`);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) throw new VerificationConfigError(`not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  return verificationConfigOf(doc.toJS({ maxAliasCount: 100 }));
}

/** A short name for an entry in messages: "pubKey owner=alice", "githubAction owner=org repo=r". Values are config text: escape before printing. */
export function describeSignature(s: Signature): string {
  switch (s.kind) {
    case "pubKey":
      return `pubKey${s.owner !== undefined ? ` owner=${s.owner}` : ""}`;
    case "genericIssuer":
      return `genericIssuer issuer=${s.issuer} subject ${"equal" in s.subject ? `equal=${s.subject.equal}` : `urlPrefix=${s.subject.urlPrefix}`}`;
    case "githubAction":
      return `githubAction owner=${s.owner}${s.repo !== undefined ? ` repo=${s.repo}` : ""}`;
  }
}

/** The YAML of a config (keys in Kubewarden's order; PEM keys as block literals), checked by parsing it back. */
export function verificationConfigYaml(config: VerificationConfig): string {
  // Field order as Kubewarden's docs and kwctl write them: kind, owner, key, annotations.
  const ordered = (s: Signature): Signature =>
    s.kind === "pubKey" ? { kind: s.kind, ...(s.owner !== undefined ? { owner: s.owner } : {}), key: s.key, ...(s.annotations ? { annotations: s.annotations } : {}) } : s;
  const shaped: VerificationConfig = {
    apiVersion: "v1",
    ...(config.allOf ? { allOf: config.allOf.map(ordered) } : {}),
    ...(config.anyOf ? { anyOf: { minimumMatches: config.anyOf.minimumMatches, signatures: config.anyOf.signatures.map(ordered) } } : {}),
  };
  const text = stringify(shaped, { lineWidth: 0, aliasDuplicateObjects: false });
  verificationConfigOf(parseDocument(text).toJS());
  return text;
}
