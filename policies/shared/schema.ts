/**
 * Settings validation shared by every policy: the generated standalone ajv
 * validator's errors as messages that name the bad key. Kept apart from
 * settings.ts (the probe policies' settings → analysis options) so a policy that
 * only validates its settings does not bundle the analysis.
 */
import type { SettingsResult } from "../../src/kubewarden/policy.js";

export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** `/extraListenFlags/0/name` → `extraListenFlags[0].name` */
export function settingsPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((seg) => seg.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

export function describeSchemaError(e: SchemaError): string {
  const at = settingsPath(e.instancePath);
  const where = at === "" ? "settings" : at;
  switch (e.keyword) {
    case "additionalProperties":
      return `${where}: unknown key "${String(e.params.additionalProperty)}"`;
    case "required":
      return `${where}: missing required key "${String(e.params.missingProperty)}"`;
    case "pattern":
      if (/^\/programs\/\d+\/name$/.test(e.instancePath)) return `${where}: must be a program name as argv[0] spells it without its directory (letters, digits, "_", ".", "+" or "-")`;
      if (/^\/programs\/\d+\/images\//.test(e.instancePath)) return `${where}: must be an image repository path in lower case (registry.example.com/team/app), without tag or digest`;
      return `${where}: must be a flag or variable name (letters, digits, "_", "." or "-", optionally after "-" or "--"), got an invalid or empty name`;
    case "enum":
      return `${where}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "minLength":
      return `${where}: must not be empty`;
    case "type": {
      const type = String(e.params.type);
      const article = type === "array" ? "a list" : type === "object" ? "an object" : type === "integer" ? "an integer" : `a ${type}`;
      return `${where}: must be ${article}`;
    }
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

/**
 * A policy's settings parser with the common case answered in advance: nearly
 * every request carries settings `{}` (policy-server sends the policy's
 * settings, which most deployments leave empty), so their parse is computed
 * once when the parser is made — at the policy's top level, which the build
 * runs before the snapshot — instead of running the schema validator on every
 * request. Anything else goes through parseWithSchema.
 */
export function settingsParser<T, S>(validator: SchemaValidator, shape: (settings: T) => S): (raw: unknown) => SettingsResult<S> {
  const empty = parseWithSchema(validator, {}, shape);
  return (raw) => (isEmptyObject(raw) ? empty : parseWithSchema(validator, raw, shape));
}

function isEmptyObject(raw: unknown): boolean {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return false;
  for (const _ in raw) return false;
  return true;
}

/** Validate raw settings against the policy's schema, then shape them. */
export function parseWithSchema<T, S>(validator: SchemaValidator, raw: unknown, shape: (settings: T) => S): SettingsResult<S> {
  if (validator(raw)) return { ok: true, settings: shape(raw as T) };
  const errors = validator.errors ?? [];
  const messages = [...new Set(errors.map(describeSchemaError))];
  return { ok: false, message: messages.length > 0 ? messages.join("; ") : "settings do not match the schema" };
}
