import { createSecretKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT, type JWTPayload } from "jose";
import { signToken } from "../../packages/cli/src/token/sign-token.js";
import type { SigningKey } from "../../packages/cli/src/token/signing-key.js";

/** Audience edge-topology.yaml requires. */
export const AUDIENCE = "detour-edge-suite";
const SECRET = "edge-suite-shared-secret-of-at-least-32-bytes";

/**
 * The suite's key material, written where edge-topology.yaml expects it (`keys/` next to the
 * copied topology): an old and a new Ed25519 key in one JWKS (rotation overlap), a P-256 key,
 * an HS256 secret, and an attacker's key the edge has never seen.
 */
export interface SuiteKeys {
  readonly oldEd: KeyObject;
  readonly newEd: KeyObject;
  readonly newEdPublic: KeyObject;
  readonly es: KeyObject;
  readonly hs: KeyObject;
  readonly attacker: KeyObject;
}

export function writeSuiteKeys(dir: string): SuiteKeys {
  const keys = join(dir, "keys");
  mkdirSync(keys, { recursive: true });
  const oldEd = generateKeyPairSync("ed25519");
  const newEd = generateKeyPairSync("ed25519");
  const es = generateKeyPairSync("ec", { namedCurve: "P-256" });
  writeFileSync(
    join(keys, "jwks.json"),
    JSON.stringify({
      keys: [
        { ...oldEd.publicKey.export({ format: "jwk" }), kid: "2025-05", alg: "EdDSA", use: "sig" },
        { ...newEd.publicKey.export({ format: "jwk" }), kid: "2025-06", alg: "EdDSA", use: "sig" },
      ],
    }),
  );
  writeFileSync(join(keys, "es-1.pub.pem"), es.publicKey.export({ format: "pem", type: "spki" }));
  writeFileSync(join(keys, "hs-1.secret"), `${SECRET}\n`);
  return {
    oldEd: oldEd.privateKey,
    newEd: newEd.privateKey,
    newEdPublic: newEd.publicKey,
    es: es.privateKey,
    hs: createSecretKey(Buffer.from(SECRET)),
    attacker: generateKeyPairSync("ed25519").privateKey,
  };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

const now = () => Math.floor(Date.now() / 1000);

async function raw(claims: JWTPayload, header: { alg: string; kid?: string }, key: KeyObject): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/**
 * Builds the token a case names (edge-cases.yaml, `token:`), carrying `ovr`. Valid tokens are
 * minted by the CLI's own signToken; hostile ones are crafted here.
 */
export async function tokenFor(recipe: string, ovr: string, keys: SuiteKeys): Promise<string> {
  const t = now();
  const signing = (key: KeyObject, alg: SigningKey["alg"]): SigningKey => ({ key, alg, impliedKid: undefined });
  const claims = { ovr, aud: AUDIENCE, iat: t, exp: t + 600 };
  switch (recipe) {
    case "valid":
      return signToken({ set: ovr, ttlSeconds: 600, key: signing(keys.newEd, "EdDSA"), kid: "2025-06", audience: AUDIENCE, subject: "suite" });
    case "valid-old-kid":
      return signToken({ set: ovr, ttlSeconds: 600, key: signing(keys.oldEd, "EdDSA"), kid: "2025-05", audience: AUDIENCE });
    case "valid-es256":
      return signToken({ set: ovr, ttlSeconds: 600, key: signing(keys.es, "ES256"), kid: "es-1", audience: AUDIENCE });
    case "valid-hs256":
      return signToken({ set: ovr, ttlSeconds: 600, key: signing(keys.hs, "HS256"), kid: "hs-1", audience: AUDIENCE });
    case "forged": {
      const genuine = await raw({ ...claims, ovr: "pricing=v1" }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
      const [header, , signature] = genuine.split(".");
      return `${header}.${b64(claims)}.${signature}`;
    }
    case "wrong-key":
      return raw(claims, { alg: "EdDSA", kid: "2025-06" }, keys.attacker);
    case "alg-none":
      return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    case "alg-confusion":
      // The attacker knows the public key; an HS256 verifier that used its bytes as secret would accept this.
      return raw(claims, { alg: "HS256", kid: "2025-06" }, createSecretKey(keys.newEdPublic.export({ format: "der", type: "spki" })));
    case "unknown-kid":
      return raw(claims, { alg: "EdDSA", kid: "2099-01" }, keys.newEd);
    case "expired":
      return raw({ ...claims, iat: t - 7200, exp: t - 3600 }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "not-yet-valid":
      return raw({ ...claims, nbf: t + 600, exp: t + 1200 }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "future-iat":
      return raw({ ...claims, iat: t + 600, exp: t + 1200 }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "wrong-audience":
      return raw({ ...claims, aud: "another-edge" }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "missing-exp":
      return raw({ ovr, aud: AUDIENCE, iat: t }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "too-long-lived":
      return raw({ ...claims, exp: t + 30 * 86_400 }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "bad-override":
      return raw({ ...claims, ovr: "frontend" }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "svc-violation":
      return raw({ ...claims, svc: ["frontend"] }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "oversized":
      return raw({ ...claims, pad: "x".repeat(5000) }, { alg: "EdDSA", kid: "2025-06" }, keys.newEd);
    case "malformed":
      return "this-is.not-a.token!";
    default:
      throw new Error(`edge-cases.yaml names an unknown token recipe '${recipe}'`);
  }
}
