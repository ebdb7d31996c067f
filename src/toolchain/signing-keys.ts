/**
 * Signing and verification keys as cosign and Kubewarden use them, over node:crypto.
 *
 * What Kubewarden's verifier reads is what we accept, each with the hash it
 * implies: ECDSA P-256/SHA-256 and P-384/SHA-384 (DER signatures), RSA PKCS#1
 * v1.5/SHA-256 and Ed25519. That is sigstore-rs 0.13.0 (`CosignVerificationKey::
 * try_from_der`, the version policy-server and kwctl build with), narrowed to
 * what its successors read too: no P-521 (0.13.0 cannot read it), RSA from 2048
 * (newer sigstore-rs refuses less) to 4096 bits (0.13.0's rsa crate refuses more).
 * A key of any other kind is refused when it is loaded, never turned into a
 * signature nobody can check.
 *
 * Private keys: PKCS#8 PEM ("PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" with a
 * passphrase), the SEC1/PKCS#1 PEMs openssl writes ("EC PRIVATE KEY", "RSA
 * PRIVATE KEY"), and cosign's own `cosign.key` ("ENCRYPTED SIGSTORE PRIVATE KEY",
 * formerly "ENCRYPTED COSIGN PRIVATE KEY"): a JSON envelope, scrypt for the key
 * and NaCl secretbox (XSalsa20-Poly1305) around PKCS#8 DER. node:crypto has
 * scrypt but no XSalsa20, so that cipher comes from @noble/ciphers (audited,
 * no dependencies) rather than being written here.
 *
 * Nothing here prints or returns key material or passphrases in messages.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, scryptSync, sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";

export class KeyError extends Error {}

/** The hash each kind of key signs with, as Kubewarden verifies it (null: Ed25519 signs the message itself). */
type Hash = "sha256" | "sha384" | "sha512" | null;

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** What kind of key, for messages: "ECDSA P-256", "RSA 3072", "Ed25519". */
  readonly kind: string;
  /** sha256 of the public key's DER SubjectPublicKeyInfo: names the key without printing it. */
  readonly fingerprint: string;
}

export interface VerificationKey {
  readonly publicKey: KeyObject;
  readonly kind: string;
  readonly fingerprint: string;
}

const CURVES: Readonly<Record<string, { name: string; hash: Hash }>> = {
  prime256v1: { name: "P-256", hash: "sha256" },
  secp384r1: { name: "P-384", hash: "sha384" },
};
/** RSA sizes every Kubewarden release in use can verify (see the file comment). */
const RSA_BITS = { min: 2048, max: 4096 };

/** The hash and a name for a key Kubewarden can verify; a KeyError for any other key. */
function describe(key: KeyObject): { kind: string; hash: Hash } {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === "ec") {
    const curve = details.namedCurve !== undefined && Object.hasOwn(CURVES, details.namedCurve) ? CURVES[details.namedCurve] : undefined;
    if (!curve) throw new KeyError(`an EC key on curve ${details.namedCurve ?? "(unknown)"} cannot be verified by Kubewarden (P-256 and P-384 can)`);
    return { kind: `ECDSA ${curve.name}`, hash: curve.hash };
  }
  if (type === "rsa") {
    const bits = details.modulusLength ?? 0;
    if (bits < RSA_BITS.min || bits > RSA_BITS.max) throw new KeyError(`an RSA key of ${bits} bits cannot be verified by every Kubewarden release (${RSA_BITS.min} to ${RSA_BITS.max} bits can)`);
    return { kind: `RSA ${bits}`, hash: "sha256" };
  }
  if (type === "ed25519") return { kind: "Ed25519", hash: null };
  throw new KeyError(`a ${type ?? "unknown"} key cannot be verified by Kubewarden (ECDSA P-256/P-384, RSA and Ed25519 keys can)`);
}

export function fingerprint(publicKey: KeyObject): string {
  return `sha256:${createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex")}`;
}

/** The PEM label of the first block, e.g. "PRIVATE KEY"; null when the text holds none. */
export function pemLabel(pem: string): string | null {
  const m = /-----BEGIN ([A-Z0-9 ]{1,64})-----/.exec(pem.slice(0, 4096));
  return m ? m[1]! : null;
}

const COSIGN_LABELS = new Set(["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"]);

/** Whether loading this private key needs a passphrase (cosign keys always do; it may be empty). */
export function needsPassphrase(pem: string): boolean {
  const label = pemLabel(pem);
  return label !== null && (COSIGN_LABELS.has(label) || label === "ENCRYPTED PRIVATE KEY" || (label.endsWith("PRIVATE KEY") && /^Proc-Type: 4,ENCRYPTED/m.test(pem)));
}

/** The base64 body of the PEM block labelled `label`. */
function pemBody(pem: string, label: string): Buffer {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const from = pem.indexOf(begin);
  const to = pem.indexOf(end, from);
  if (from < 0 || to < 0) throw new KeyError(`no complete "${label}" PEM block`);
  const body = pem.slice(from + begin.length, to).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new KeyError(`the "${label}" PEM block is not base64`);
  return Buffer.from(body, "base64");
}

/** scrypt work above this (N·r) would take more than a second and 128 MiB; cosign writes N=32768, r=8. */
const MAX_SCRYPT_COST = 2 ** 20;

/** cosign.key → PKCS#8 DER (see the file comment for the format). */
function decryptCosignKey(pem: string, label: string, passphrase: string): Buffer {
  let envelope: unknown;
  try {
    envelope = JSON.parse(pemBody(pem, label).toString("utf8"));
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError("the cosign key's envelope is not JSON");
  }
  const { kdf, cipher, ciphertext } = (envelope ?? {}) as { kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown }; cipher?: { name?: unknown; nonce?: unknown }; ciphertext?: unknown };
  if (kdf?.name !== "scrypt" || cipher?.name !== "nacl/secretbox") throw new KeyError(`unsupported cosign key encryption (kdf ${String(kdf?.name)}, cipher ${String(cipher?.name)}): expected scrypt and nacl/secretbox`);
  const { N, r, p } = kdf.params ?? {};
  const whole = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v > 0;
  if (!whole(N) || !whole(r) || !whole(p) || (N & (N - 1)) !== 0 || N * r > MAX_SCRYPT_COST || p > 16) throw new KeyError("the cosign key's scrypt parameters are out of range");
  if (typeof kdf.salt !== "string" || typeof cipher.nonce !== "string" || typeof ciphertext !== "string") throw new KeyError("the cosign key's salt, nonce or ciphertext is missing");
  const nonce = Buffer.from(cipher.nonce, "base64");
  if (nonce.length !== 24) throw new KeyError("the cosign key's nonce is not 24 bytes");
  const secret = scryptSync(passphrase, Buffer.from(kdf.salt, "base64"), 32, { N, r, p, maxmem: 256 * N * r });
  try {
    return Buffer.from(xsalsa20poly1305(secret, nonce).decrypt(Buffer.from(ciphertext, "base64")));
  } catch {
    throw new KeyError("cannot decrypt the cosign key: wrong passphrase (or a damaged key file)");
  } finally {
    secret.fill(0);
  }
}

/**
 * Loads a private key for signing. `passphrase` is used only for encrypted keys;
 * `source` names the key in messages (a path, never the content).
 */
export function loadSigningKey(pem: string, source: string, passphrase?: string): SigningKey {
  const label = pemLabel(pem);
  if (label === null) throw new KeyError(`${source} holds no PEM key`);
  if (label === "PUBLIC KEY" || label === "CERTIFICATE") throw new KeyError(`${source} is a ${label.toLowerCase()}, not a private key`);
  let privateKey: KeyObject;
  if (COSIGN_LABELS.has(label)) {
    if (passphrase === undefined) throw new KeyError(`${source} is an encrypted cosign key: it needs its passphrase`);
    const der = decryptCosignKey(pem, label, passphrase);
    try {
      privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    } catch {
      throw new KeyError(`${source}: the decrypted cosign key is not PKCS#8`);
    } finally {
      der.fill(0);
    }
  } else {
    if (needsPassphrase(pem) && passphrase === undefined) throw new KeyError(`${source} is encrypted: it needs its passphrase`);
    try {
      privateKey = createPrivateKey({ key: pem, format: "pem", ...(passphrase !== undefined ? { passphrase } : {}) });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "";
      if (needsPassphrase(pem)) throw new KeyError(`cannot decrypt ${source}: wrong passphrase (or a damaged key file)`);
      throw new KeyError(`${source} is not a private key node:crypto can read (${code || "unreadable PEM"}): expected PKCS#8 ("PRIVATE KEY"), "EC PRIVATE KEY", "RSA PRIVATE KEY" or a cosign key`);
    }
  }
  const publicKey = createPublicKey(privateKey);
  const { kind } = describe(privateKey);
  return { privateKey, publicKey, kind, fingerprint: fingerprint(publicKey) };
}

/** Loads a PEM SubjectPublicKeyInfo ("PUBLIC KEY"), as Kubewarden's pubKey entries hold. */
export function loadVerificationKey(pem: string, source: string): VerificationKey {
  const label = pemLabel(pem);
  if (label !== "PUBLIC KEY") throw new KeyError(`${source} is not a PEM public key (expected "-----BEGIN PUBLIC KEY-----"${label ? `, found "${label}"` : ""})`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pemBody(pem, label), format: "der", type: "spki" });
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError(`${source} is not a public key node:crypto can read`);
  }
  const { kind } = describe(publicKey);
  return { publicKey, kind, fingerprint: fingerprint(publicKey) };
}

/** The public key as the PEM a verification config or `-k` takes. */
export function publicKeyPem(key: { publicKey: KeyObject }): string {
  return String(key.publicKey.export({ type: "spki", format: "pem" }));
}

/** Signs `message` as cosign does (ECDSA: DER), returning the base64 signature. */
export function signMessage(key: SigningKey, message: Uint8Array): string {
  return cryptoSign(describe(key.privateKey).hash, message, key.privateKey).toString("base64");
}

/** Whether `signature` (base64, as in the cosign annotation) is `key`'s signature over `message`. */
export function verifyMessage(key: { publicKey: KeyObject }, message: Uint8Array, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]{1,4096}={0,2}$/.test(signature)) return false;
  try {
    return cryptoVerify(describe(key.publicKey).hash, message, key.publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
