import { OverrideSet, parseOverrides, type OverrideLimits } from "@detour/core";
import { allowListFromServices, type AllowList } from "./allow-list.js";
import type { RejectionReason } from "./rejection-reason.js";

/** The claim holding the override, in x-detour syntax (`pricing=v2,*=pr-7`). */
export const OVERRIDE_CLAIM = "ovr";
/** Optional claim: the services (`*` for wildcard entries) the token may touch. */
export const SERVICES_CLAIM = "svc";

/** What a signature-checked token says, once its time-independent claims passed. */
export interface TokenClaims {
  readonly set: OverrideSet;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly notBefore: number | undefined;
  readonly issuedAt: number | undefined;
  readonly subject: string | undefined;
}

export interface ClaimRules {
  readonly audience: string | undefined;
  readonly limits: OverrideLimits;
  /** Allow-lists that must all permit the override (edge.tokens.allow, the key's allow). */
  readonly allow: readonly (AllowList | undefined)[];
}

export interface TimeRules {
  readonly clockToleranceSeconds: number;
  readonly maxLifetimeSeconds: number;
}

function numericDate(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Checks the claims that do not depend on the clock (pure): exp present and numeric, nbf/iat
 * numeric when present, aud when configured, ovr a valid non-empty override within the
 * allow-lists and the token's own svc claim. The result can be cached for the token's life.
 */
export function checkClaims(payload: unknown, rules: ClaimRules): TokenClaims | RejectionReason {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return "malformed";
  const claims = payload as Record<string, unknown>;
  const expiresAt = numericDate(claims.exp);
  if (expiresAt === undefined) return "missing-exp";
  const notBefore = numericDate(claims.nbf);
  const issuedAt = numericDate(claims.iat);
  if (expiresAt === null || notBefore === null || issuedAt === null) return "malformed";
  if (rules.audience !== undefined) {
    const aud = claims.aud;
    const ok = typeof aud === "string" ? aud === rules.audience : Array.isArray(aud) && aud.includes(rules.audience);
    if (!ok) return "wrong-audience";
  }
  const text = claims[OVERRIDE_CLAIM];
  if (typeof text !== "string") return "bad-override";
  let set: OverrideSet;
  try {
    // Strict: a signed override is either exactly right or refused; never partly applied.
    set = parseOverrides(text, { strict: true, limits: rules.limits }).set;
  } catch {
    return "bad-override";
  }
  if (set.isEmpty) return "bad-override";
  const services = claims[SERVICES_CLAIM];
  if (services !== undefined) {
    if (!Array.isArray(services) || !services.every((name) => typeof name === "string")) return "malformed";
    if (!allowListFromServices(services as string[]).permits(set)) return "not-allowed";
  }
  for (const allow of rules.allow) if (allow !== undefined && !allow.permits(set)) return "not-allowed";
  return { set, expiresAt, notBefore, issuedAt, subject: typeof claims.sub === "string" ? claims.sub : undefined };
}

/** The clock-dependent checks, run on every use (a cached token expires like any other). */
export function checkTimes(claims: TokenClaims, nowSeconds: number, rules: TimeRules): RejectionReason | undefined {
  const tolerance = rules.clockToleranceSeconds;
  if (claims.expiresAt <= nowSeconds - tolerance) return "expired";
  if (claims.notBefore !== undefined && claims.notBefore > nowSeconds + tolerance) return "not-yet-valid";
  if (claims.issuedAt !== undefined && claims.issuedAt > nowSeconds + tolerance) return "not-yet-valid";
  if (claims.expiresAt - nowSeconds > rules.maxLifetimeSeconds + tolerance) return "lifetime-too-long";
  return undefined;
}
