import { generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DetourError } from "@detour/core";
import { PRIVATE_KEY_SUFFIX, PUBLIC_KEY_SUFFIX } from "./signing-key.js";

export interface GeneratedKeys {
  readonly kid: string;
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  /** The JWKS file the public key was added to, when one was named. */
  readonly jwksFile: string | undefined;
  /** Public JWK as published (kid, alg, use). */
  readonly jwk: JsonWebKey & { kid: string; alg: string; use: string };
}

export interface GenerateKeysOptions {
  readonly dir: string;
  readonly kid: string;
  readonly alg?: "EdDSA" | "ES256";
  /** Add the public key to this JWKS file (created when missing; a key with the same kid is replaced). */
  readonly jwks?: string | undefined;
  /** Overwrite existing key files of the same kid. */
  readonly force?: boolean;
}

const KID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Generates a signing key pair for detour tokens: `<kid>.key.pem` (private, mode 0600: it
 * mints overrides) and `<kid>.pub.pem` (what the edge verifies with), optionally adding the
 * public key to a JWKS file so old and new keys verify side by side during a rotation.
 */
export function generateKeys(options: GenerateKeysOptions): GeneratedKeys {
  if (!KID.test(options.kid)) throw new DetourError("usage-kid", `--kid '${options.kid}' must be 1-64 letters, digits, '.', '_' or '-' (it names the key files)`);
  const alg = options.alg ?? "EdDSA";
  const pair = alg === "EdDSA" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  mkdirSync(options.dir, { recursive: true });
  const privateKeyFile = join(options.dir, `${options.kid}${PRIVATE_KEY_SUFFIX}`);
  const publicKeyFile = join(options.dir, `${options.kid}${PUBLIC_KEY_SUFFIX}`);
  if (!options.force && (existsSync(privateKeyFile) || existsSync(publicKeyFile))) {
    throw new DetourError("usage-exists", `${privateKeyFile} already exists: pick another --kid (rotation keeps the old key) or pass --force`);
  }
  writeFileSync(privateKeyFile, pair.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  writeFileSync(publicKeyFile, pair.publicKey.export({ format: "pem", type: "spki" }));
  const jwk = { ...pair.publicKey.export({ format: "jwk" }), kid: options.kid, alg, use: "sig" };
  if (options.jwks !== undefined) {
    let keys: Array<{ kid?: string }> = [];
    if (existsSync(options.jwks)) {
      try {
        const document = JSON.parse(readFileSync(options.jwks, "utf8")) as { keys?: unknown };
        if (!Array.isArray(document.keys)) throw new Error("no keys array");
        keys = document.keys as Array<{ kid?: string }>;
      } catch (error) {
        throw new DetourError("usage-jwks", `${options.jwks} is not a JWKS file ({ "keys": [...] }): ${(error as Error).message}`, { cause: error });
      }
    }
    keys = [...keys.filter((key) => key.kid !== options.kid), jwk];
    writeFileSync(options.jwks, `${JSON.stringify({ keys }, null, 2)}\n`);
  }
  return { kid: options.kid, privateKeyFile, publicKeyFile, jwksFile: options.jwks, jwk };
}
