import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { DetourError } from "@detour/core";
import type { TokenKeyConfig } from "../config/edge-config-schema.js";
import { allowListFromConfig, type AllowList } from "./allow-list.js";

/**
 * Shortest HS256 secret accepted: RFC 7518 §3.2 requires a key at least as long as the hash
 * output (256 bits); a shorter one can be brute-forced from a single token.
 */
export const MIN_SECRET_BYTES = 32;

/** The JWS algorithms detour accepts, and the only ones: no RSA (size), no none. */
export type TokenAlgorithm = "HS256" | "EdDSA" | "Ed25519" | "ES256";

/** One verification key and the algorithms that may name it (algorithm confusion is refused per key). */
export interface VerificationKey {
  readonly kid: string | undefined;
  readonly algorithms: readonly TokenAlgorithm[];
  readonly key: KeyObject;
  /** The key's own allow-list (a team's key may route only its services). */
  readonly allow: AllowList | undefined;
  /** Where it came from, for messages: `keys/edge.pub.pem`, `jwks.json#2025-06`. */
  readonly origin: string;
}

export interface KeyRing {
  readonly keys: readonly VerificationKey[];
  /** Keys by kid (keys without kid are not listed). */
  readonly byKid: ReadonlyMap<string, readonly VerificationKey[]>;
  /** Every algorithm some key accepts. */
  readonly algorithms: ReadonlySet<string>;
}

function readKeyFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new DetourError("key-unreadable", `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

/** Algorithms a public key may verify, by its type. */
function algorithmsOf(key: KeyObject, origin: string): TokenAlgorithm[] {
  if (key.asymmetricKeyType === "ed25519") return ["EdDSA", "Ed25519"];
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return ["ES256"];
  throw new DetourError(
    "key-unsupported",
    `${origin}: a ${key.asymmetricKeyType ?? "secret"}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ""} key is not supported: use Ed25519 (EdDSA) or P-256 (ES256), or an HS256 secret`,
  );
}

/** A shared secret from a file: raw bytes, trailing newline ignored. Refuses what looks like a key file. */
export function secretKeyFrom(bytes: Buffer, origin: string): KeyObject {
  const text = bytes.toString("latin1");
  if (text.includes("-----BEGIN") || text.trimStart().startsWith("{")) {
    // Using a public key's text as an HMAC secret is the classic algorithm-confusion hole.
    throw new DetourError("key-unsupported", `${origin} holds a PEM or JSON key, not a shared secret: use publicKeyFile or jwksFile for it`);
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  if (end < MIN_SECRET_BYTES) {
    throw new DetourError("key-too-short", `${origin}: an HS256 secret needs at least ${MIN_SECRET_BYTES} bytes, this one has ${end}: generate one with \`openssl rand -base64 48\``);
  }
  return createSecretKey(bytes.subarray(0, end));
}

/** A public key from PEM text (a private key's PEM gives its public half). */
export function publicKeyFromPem(bytes: Buffer, origin: string): KeyObject {
  try {
    return createPublicKey(bytes);
  } catch (error) {
    throw new DetourError("key-unsupported", `${origin} is not a PEM public key: ${(error as Error).message}`, { cause: error });
  }
}

/** One JWK of a JWKS file as a verification key (public half for OKP/EC, secret for oct). */
export function keyFromJwk(jwk: JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown }, origin: string): Omit<VerificationKey, "allow"> {
  if (jwk.use !== undefined && jwk.use !== "sig") throw new DetourError("key-unsupported", `${origin}: use '${String(jwk.use)}' is not a signing key`);
  const kid = typeof jwk.kid === "string" && jwk.kid.length !== 0 ? jwk.kid : undefined;
  let key: KeyObject;
  let algorithms: TokenAlgorithm[];
  try {
    if (jwk.kty === "oct") {
      if (typeof jwk.k !== "string") throw new Error("oct key without k");
      const bytes = Buffer.from(jwk.k, "base64url");
      if (bytes.length < MIN_SECRET_BYTES) throw new Error(`an HS256 secret needs at least ${MIN_SECRET_BYTES} bytes`);
      key = createSecretKey(bytes);
      algorithms = ["HS256"];
    } else {
      // Only the public members: a JWKS that (wrongly) holds private keys still yields public keys.
      const { kty, crv, x, y } = jwk;
      key = createPublicKey({ key: { kty, crv, x, y } as JsonWebKey, format: "jwk" });
      algorithms = algorithmsOf(key, origin);
    }
  } catch (error) {
    if (error instanceof DetourError) throw error;
    throw new DetourError("key-unsupported", `${origin}: ${(error as Error).message}`, { cause: error });
  }
  if (jwk.alg !== undefined) {
    if (!algorithms.includes(jwk.alg as TokenAlgorithm)) {
      throw new DetourError("key-unsupported", `${origin}: alg '${String(jwk.alg)}' does not fit a ${jwk.kty} key (expected ${algorithms.join(" or ")})`);
    }
    algorithms = [jwk.alg as TokenAlgorithm];
  }
  return { kid, algorithms, key, origin };
}

/** Every key of a JWKS document (`{ "keys": [...] }`). */
export function keysFromJwks(text: string, origin: string): Omit<VerificationKey, "allow">[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new DetourError("key-unsupported", `${origin} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new DetourError("key-unsupported", `${origin} is not a JWKS: expected { "keys": [ ... ] } with at least one key`);
  return keys.map((jwk: JsonWebKey & { kid?: unknown }, index) => {
    const key = keyFromJwk(jwk, `${origin}#${typeof jwk.kid === "string" ? jwk.kid : index}`);
    if (key.kid === undefined) throw new DetourError("key-unsupported", `${origin}: key ${index} has no kid: every key of a JWKS needs one (it is how rotation picks the key)`);
    return key;
  });
}

/** Builds the lookup structure over loaded keys. */
export function keyRingOf(keys: readonly VerificationKey[]): KeyRing {
  const byKid = new Map<string, VerificationKey[]>();
  const algorithms = new Set<string>();
  for (const key of keys) {
    for (const algorithm of key.algorithms) algorithms.add(algorithm);
    if (key.kid === undefined) continue;
    const list = byKid.get(key.kid) ?? [];
    list.push(key);
    byKid.set(key.kid, list);
  }
  return { keys, byKid, algorithms };
}

/**
 * Loads `edge.tokens.keys` synchronously (startup and reload, never per request). Relative
 * paths resolve against `baseDir` (the config file's folder). Throws DetourError naming the
 * file and what to do.
 */
export function keyRingFromConfig(configs: readonly TokenKeyConfig[], baseDir: string): KeyRing {
  const keys: VerificationKey[] = [];
  const at = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  for (const config of configs) {
    const allow = allowListFromConfig(config.allow);
    if ("secretFile" in config) {
      const path = at(config.secretFile);
      keys.push({ kid: config.kid, algorithms: ["HS256"], key: secretKeyFrom(readKeyFile(path, "secret file"), path), allow, origin: path });
    } else if ("publicKeyFile" in config) {
      const path = at(config.publicKeyFile);
      const key = publicKeyFromPem(readKeyFile(path, "public key file"), path);
      keys.push({ kid: config.kid, algorithms: algorithmsOf(key, path), key, allow, origin: path });
    } else {
      const path = at(config.jwksFile);
      for (const key of keysFromJwks(readKeyFile(path, "JWKS file").toString("utf8"), path)) keys.push({ ...key, allow });
    }
  }
  return keyRingOf(keys);
}

/**
 * Loads verification keys from one file of any kind, as `detour token verify --key FILE`
 * takes it: a JWKS or JWK (JSON), a PEM public or private key, or else a shared secret.
 */
export function keyRingFromFile(path: string, kid?: string): KeyRing {
  const bytes = readKeyFile(path, "key file");
  const text = bytes.toString("utf8");
  if (text.trimStart().startsWith("{")) {
    const document = JSON.parse(text) as { keys?: unknown };
    const keys = Array.isArray(document.keys) ? keysFromJwks(text, path) : [keyFromJwk(document as JsonWebKey, path)];
    return keyRingOf(keys.map((key) => ({ ...key, kid: key.kid ?? kid, allow: undefined })));
  }
  if (text.includes("-----BEGIN")) {
    const key = publicKeyFromPem(bytes, path);
    return keyRingOf([{ kid, algorithms: algorithmsOf(key, path), key, allow: undefined, origin: path }]);
  }
  return keyRingOf([{ kid, algorithms: ["HS256"], key: secretKeyFrom(bytes, path), allow: undefined, origin: path }]);
}
