import { DetourError, parseOverrides, type OverrideSet } from "@detour/core";
import { OVERRIDE_CLAIM, SERVICES_CLAIM } from "@detour/ext-proc/tokens";
import { SignJWT } from "jose";
import type { SigningKey } from "./signing-key.js";

export interface TokenRequest {
  /** The override, x-detour syntax: `pricing=v2,cart=pr-7`. */
  readonly set: string | OverrideSet;
  readonly ttlSeconds: number;
  readonly key: SigningKey;
  /** Key id written into the header; default the key file's implied kid. */
  readonly kid?: string | undefined;
  readonly audience?: string | undefined;
  /** Who the token is for (logged by the edge on use). */
  readonly subject?: string | undefined;
  /** Services (and `*` for wildcard entries) the token may touch: the `svc` claim. */
  readonly services?: readonly string[] | undefined;
  /** Seconds since the epoch; default now. */
  readonly now?: number;
}

/**
 * Mints a detour override token: a JWS compact token whose `ovr` claim holds the canonical
 * override, with `iat`, `exp` (always) and the optional `aud`, `sub` and `svc` claims.
 * The override is checked strictly first: a token the edge would refuse is never minted.
 */
export async function signToken(request: TokenRequest): Promise<string> {
  let set: OverrideSet;
  if (typeof request.set === "string") {
    try {
      set = parseOverrides(request.set, { strict: true }).set;
    } catch (error) {
      throw new DetourError("usage-override", `--set: ${(error as Error).message}`, { cause: error });
    }
  } else {
    set = request.set;
  }
  if (set.isEmpty) throw new DetourError("usage-override", "--set is empty: write service=version entries, e.g. pricing=v2");
  const now = request.now ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { [OVERRIDE_CLAIM]: set.toString() };
  if (request.services !== undefined && request.services.length !== 0) claims[SERVICES_CLAIM] = [...request.services];
  const jwt = new SignJWT(claims).setIssuedAt(now).setExpirationTime(now + request.ttlSeconds);
  if (request.audience !== undefined) jwt.setAudience(request.audience);
  if (request.subject !== undefined) jwt.setSubject(request.subject);
  const kid = request.kid ?? request.key.impliedKid;
  jwt.setProtectedHeader(kid === undefined ? { alg: request.key.alg, typ: "JWT" } : { alg: request.key.alg, kid, typ: "JWT" });
  return jwt.sign(request.key.key);
}
