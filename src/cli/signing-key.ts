/**
 * Signing keys on the command line (sign, publish --sign-key, sbom --sign-key): the
 * key file, its passphrase from an environment variable or stdin, never argv.
 */
import { readFileSync } from "node:fs";
import { checkSigningAnnotations, type SignResult, SignatureError } from "../toolchain/signatures.js";
import { KeyError, loadSigningKey, needsPassphrase, type SigningKey } from "../toolchain/signing-keys.js";
import { UsageError } from "./command.js";

/** The variable cosign reads a key's passphrase from; the default here too, so one CI secret serves both. */
export const DEFAULT_PASSPHRASE_ENV = "COSIGN_PASSWORD";

export const SIGNING_KEY_OPTIONS = {
  "passphrase-env": { type: "string" },
  "passphrase-stdin": { type: "boolean", default: false },
} as const;

export const SIGNING_KEY_HELP = `  --passphrase-env VAR  the environment variable holding an encrypted key's
                        passphrase (default ${DEFAULT_PASSPHRASE_ENV}, as cosign); never a flag value
  --passphrase-stdin    read the passphrase from the first line of stdin`;

/**
 * Reads a signing key; the passphrase of an encrypted one comes from an
 * environment variable or stdin, never from the command line (shell history,
 * `ps`). Messages name the file, never its content or the passphrase.
 */
export function readSigningKey(path: string, values: { "passphrase-env"?: string; "passphrase-stdin"?: boolean; "password-stdin"?: boolean }): SigningKey {
  const variable = values["passphrase-env"] ?? DEFAULT_PASSPHRASE_ENV;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(variable)) throw new UsageError(`--passphrase-env takes a variable name, got "${variable.slice(0, 40)}"`);
  if (values["passphrase-stdin"] && values["password-stdin"]) throw new UsageError("--passphrase-stdin and --password-stdin both read stdin: pass the passphrase in an environment variable (--passphrase-env)");
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read the key ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  let passphrase: string | undefined;
  if (needsPassphrase(pem)) {
    if (values["passphrase-stdin"]) passphrase = readFileSync(0, "utf8").split(/\r?\n/)[0] ?? "";
    else if (Object.hasOwn(process.env, variable)) passphrase = process.env[variable] ?? "";
    else throw new UsageError(`${path} is encrypted: give its passphrase in $${variable}${values["passphrase-env"] === undefined ? " (or name another variable with --passphrase-env VAR)" : ""}, or on stdin with --passphrase-stdin`);
  }
  try {
    return loadSigningKey(pem, path, passphrase);
  } catch (e) {
    if (e instanceof KeyError) throw new UsageError(e.message, false);
    throw e;
  }
}

/** -a pairs Kubewarden could verify, or a usage error. */
export function checkAnnotations(annotations: Readonly<Record<string, string>>): void {
  try {
    checkSigningAnnotations(annotations);
  } catch (e) {
    if (e instanceof SignatureError) throw new UsageError(e.message);
    throw e;
  }
}

/** One line about a signature, for stderr. */
export function describeSigning(result: SignResult, key: SigningKey): string {
  return result.added
    ? `signed ${result.signed} with the ${key.kind} key ${key.fingerprint} → ${result.tag} (${result.layers} signature layer${result.layers === 1 ? "" : "s"})`
    : `${result.signed} already carries this signature (${key.kind} key ${key.fingerprint}, same annotations) in ${result.tag}; nothing pushed`;
}

