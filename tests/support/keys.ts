/**
 * Keys for the signature tests, made fresh per run (no key is committed), and the
 * checks that do not go through our code: openssl on the command line and
 * node:crypto called directly.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject, randomBytes, scryptSync, verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";

export type KeyKind = "P-256" | "P-384" | "P-521" | "RSA-2048" | "Ed25519";

export interface TestKey {
  kind: KeyKind;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM. */
  privatePem: string;
  /** SPKI PEM. */
  publicPem: string;
}

const CURVES = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" } as const;
/** The digest openssl and node:crypto use for each kind, as Kubewarden does (Ed25519: none). */
export const HASH_OF: Record<KeyKind, string | null> = { "P-256": "sha256", "P-384": "sha384", "P-521": "sha512", "RSA-2048": "sha256", Ed25519: null };

export function makeKey(kind: KeyKind = "P-256"): TestKey {
  const pair =
    kind === "RSA-2048"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : kind === "Ed25519"
        ? generateKeyPairSync("ed25519")
        : generateKeyPairSync("ec", { namedCurve: CURVES[kind] });
  return {
    kind,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    privatePem: String(pair.privateKey.export({ type: "pkcs8", format: "pem" })),
    publicPem: String(pair.publicKey.export({ type: "spki", format: "pem" })),
  };
}

/**
 * The key as `cosign generate-key-pair` writes cosign.key: PKCS#8 DER sealed with
 * NaCl secretbox under an scrypt key, in a JSON envelope, in PEM. (The reader was
 * also checked against a cosign-made key from Kubewarden's kwctl test data.)
 */
export function cosignKey(key: TestKey, passphrase: string, label = "ENCRYPTED SIGSTORE PRIVATE KEY"): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const params = { N: 32768, r: 8, p: 1 };
  const secret = scryptSync(passphrase, salt, 32, { ...params, maxmem: 256 * params.N * params.r });
  const der = key.privateKey.export({ type: "pkcs8", format: "der" });
  const ciphertext = xsalsa20poly1305(secret, nonce).encrypt(der);
  const envelope = JSON.stringify({ kdf: { name: "scrypt", params, salt: salt.toString("base64") }, cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") }, ciphertext: Buffer.from(ciphertext).toString("base64") });
  const body = Buffer.from(envelope).toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** node:crypto's own verdict, without our code. */
export function nodeVerifies(key: TestKey | { publicKey: KeyObject; kind: KeyKind }, message: Uint8Array, signatureBase64: string): boolean {
  return verify(HASH_OF[key.kind], message, key.publicKey, Buffer.from(signatureBase64, "base64"));
}

/** openssl's verdict over files: `openssl dgst -<hash> -verify` (Ed25519: `openssl pkeyutl -verify -rawin`). */
export function opensslVerifies(publicPem: string, kind: KeyKind, message: Uint8Array, signatureBase64: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "lpp-openssl-"));
  try {
    writeFileSync(join(dir, "key.pub"), publicPem);
    writeFileSync(join(dir, "payload"), message);
    writeFileSync(join(dir, "sig"), Buffer.from(signatureBase64, "base64"));
    const hash = HASH_OF[kind];
    const args = hash
      ? ["dgst", `-${hash}`, "-verify", join(dir, "key.pub"), "-signature", join(dir, "sig"), join(dir, "payload")]
      : ["pkeyutl", "-verify", "-pubin", "-inkey", join(dir, "key.pub"), "-rawin", "-in", join(dir, "payload"), "-sigfile", join(dir, "sig")];
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    const output = `${r.stdout}${r.stderr}`.trim();
    return { ok: r.status === 0 && /Verified OK|Signature Verified Successfully/.test(output), output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A temporary folder with files written into it; remove() deletes it. */
export function keyFiles(files: Record<string, string>): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "lpp-keys-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 });
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
