import { createPrivateKey, createSecretKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { DetourError } from "@detour/core";
import { MIN_SECRET_BYTES } from "@detour/ext-proc/tokens";

/** A key that can mint detour override tokens, and the JWS algorithm it signs with. */
export interface SigningKey {
  readonly key: KeyObject;
  readonly alg: "HS256" | "EdDSA" | "ES256";
  /** kid implied by the file name `<kid>.key.pem` (what `detour keys generate` writes), if any. */
  readonly impliedKid: string | undefined;
}

/** File name suffix of private keys written by `detour keys generate`. */
export const PRIVATE_KEY_SUFFIX = ".key.pem";
export const PUBLIC_KEY_SUFFIX = ".pub.pem";

/**
 * Reads a signing key: a PEM private key (Ed25519 -> EdDSA, P-256 -> ES256), a private JWK, or
 * else a shared secret file (HS256, at least MIN_SECRET_BYTES bytes, trailing newline ignored).
 */
export function signingKeyFromFile(path: string): SigningKey {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DetourError("usage-key", `cannot read key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const name = basename(path);
  const impliedKid = name.endsWith(PRIVATE_KEY_SUFFIX) ? name.slice(0, -PRIVATE_KEY_SUFFIX.length) : undefined;
  const text = bytes.toString("utf8");
  if (text.includes("-----BEGIN") || text.trimStart().startsWith("{")) {
    let key: KeyObject;
    try {
      key = text.trimStart().startsWith("{") ? createPrivateKey({ key: JSON.parse(text), format: "jwk" }) : createPrivateKey(bytes);
    } catch (error) {
      throw new DetourError("usage-key", `${path} is not a private key (to sign, pass the .key.pem file, not the public one): ${(error as Error).message}`, { cause: error });
    }
    if (key.asymmetricKeyType === "ed25519") return { key, alg: "EdDSA", impliedKid };
    if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return { key, alg: "ES256", impliedKid };
    throw new DetourError("usage-key", `${path}: a ${key.asymmetricKeyType} key cannot sign detour tokens: use Ed25519 (detour keys generate), P-256 or an HS256 secret`);
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  if (end < MIN_SECRET_BYTES) {
    throw new DetourError("usage-key", `${path}: an HS256 secret needs at least ${MIN_SECRET_BYTES} bytes, this one has ${end}: generate one with \`openssl rand -base64 48\``);
  }
  return { key: createSecretKey(bytes.subarray(0, end)), alg: "HS256", impliedKid };
}
