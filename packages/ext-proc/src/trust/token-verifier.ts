import type { KeyObject, webcrypto } from "node:crypto";
import type * as Jose from "jose";
import type { OverrideLimits } from "@detour/core";
import { MAX_TOKEN_BYTES, TOKEN_CACHE_LIMIT } from "../constants.js";
import type { AllowList } from "./allow-list.js";
import type { KeyRing, VerificationKey } from "./key-ring.js";
import type { RejectionReason } from "./rejection-reason.js";
import { checkClaims, checkTimes, type TokenClaims } from "./token-claims.js";

/** A token that verified: its override and who minted it for whom. */
export interface VerifiedToken extends TokenClaims {
  readonly kid: string | undefined;
}

export type TokenCheck = { readonly status: "valid"; readonly token: VerifiedToken } | { readonly status: "rejected"; readonly reason: RejectionReason };

export interface TokenVerifierOptions {
  readonly audience?: string | undefined;
  readonly clockToleranceSeconds: number;
  readonly maxLifetimeSeconds: number;
  /** edge.tokens.allow */
  readonly allow?: AllowList | undefined;
  readonly limits: OverrideLimits;
  readonly cacheLimit?: number;
  /** Clock in milliseconds (tests move it). */
  readonly now?: () => number;
}

export interface TokenVerifier {
  /**
   * Checks a token: synchronously when its verdict is cached (the hot path), else a promise
   * (signature checks are async in WebCrypto). Never rejects: every failure is a reason.
   */
  check(token: string): TokenCheck | Promise<TokenCheck>;
  readonly cacheSize: number;
}

/** Verdicts that hold for the token's whole life (no clock involved) are cached too, so garbage repeated by a client costs a lookup. */
type CacheEntry = { readonly claims: VerifiedToken } | { readonly reason: RejectionReason };

const BASE64URL_PART = /^[A-Za-z0-9_-]+$/;

function protectedHeaderOf(token: string): { alg: unknown; kid: unknown } | undefined {
  const dot = token.indexOf(".");
  if (dot <= 0) return undefined;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), "base64url").toString("utf8")) as unknown;
    if (header === null || typeof header !== "object" || Array.isArray(header)) return undefined;
    return header as { alg: unknown; kid: unknown };
  } catch {
    return undefined;
  }
}

/**
 * Candidate keys for a header: a kid selects the keys with that kid (keys without a kid accept
 * any kid); no kid tries every key. A key is a candidate only for its own algorithms, so an
 * HS256 token naming an Ed25519 key's kid is refused instead of checked with the public key
 * bytes as HMAC secret.
 */
function candidates(ring: KeyRing, alg: string, kid: unknown): VerificationKey[] | RejectionReason {
  if (kid !== undefined && typeof kid !== "string") return "malformed";
  const pool = kid === undefined ? ring.keys : (ring.byKid.get(kid) ?? ring.keys.filter((key) => key.kid === undefined));
  if (pool.length === 0) return "unknown-key";
  const fitting = pool.filter((key) => key.algorithms.includes(alg as VerificationKey["algorithms"][number]));
  return fitting.length === 0 ? "alg-not-allowed" : fitting;
}

/**
 * jose, loaded on the first signature check: most servers (sidecars without `trust: token`) never
 * verify a token, and the module costs a few MiB of memory (docs/operations.md, "Memory").
 */
let jose: Promise<typeof Jose> | undefined;
const loadJose = (): Promise<typeof Jose> => (jose ??= import("jose"));

function reasonOf(error: unknown, errors: typeof Jose.errors): RejectionReason {
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad-signature";
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return "alg-not-allowed";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JOSEError) return "malformed";
  // A TypeError from jose means the key does not fit the algorithm.
  return "alg-not-allowed";
}

/**
 * Verifies detour override tokens (JWS compact, verified with jose) against a key ring:
 * algorithm pinned per key, `alg: none` and unknown algorithms refused, exp required, nbf/iat
 * honoured with clock tolerance, optional audience, the `ovr` override checked strictly and
 * against the allow-lists. Verdicts are cached by the token's full text (bounded LRU); a
 * cached valid token is re-checked against the clock on every use.
 */
export function createTokenVerifier(ring: KeyRing, options: TokenVerifierOptions): TokenVerifier {
  const limit = options.cacheLimit ?? TOKEN_CACHE_LIMIT;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<CacheEntry>>();

  function remember(token: string, entry: CacheEntry): CacheEntry {
    if (cache.size >= limit) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(token, entry);
    return entry;
  }

  function verdict(token: string, entry: CacheEntry): TokenCheck {
    if ("reason" in entry) return { status: "rejected", reason: entry.reason };
    const late = checkTimes(entry.claims, Math.floor(now() / 1000), options);
    if (late !== undefined) {
      // An expired token never becomes valid again; not-yet-valid will, so it stays.
      if (late === "expired") cache.delete(token);
      return { status: "rejected", reason: late };
    }
    return { status: "valid", token: entry.claims };
  }

  // WebCrypto keys, imported once per key: handing jose a KeyObject converts it on every verify.
  const imported = new WeakMap<VerificationKey, Promise<webcrypto.CryptoKey | KeyObject>>();
  function cryptoKeyOf(key: VerificationKey): Promise<webcrypto.CryptoKey | KeyObject> {
    let found = imported.get(key);
    if (found === undefined) {
      found =
        key.key.type === "secret"
          ? Promise.resolve(key.key)
          : loadJose()
              .then(({ importJWK }) => importJWK(key.key.export({ format: "jwk" }), key.algorithms[0]) as Promise<webcrypto.CryptoKey>)
              .catch(() => key.key);
      imported.set(key, found);
    }
    return found;
  }

  async function verify(token: string, keys: readonly VerificationKey[]): Promise<CacheEntry> {
    const { compactVerify, errors } = await loadJose();
    let reason: RejectionReason = "bad-signature";
    for (const key of keys) {
      let payload: Uint8Array;
      try {
        ({ payload } = await compactVerify(token, await cryptoKeyOf(key), { algorithms: [...key.algorithms] }));
      } catch (error) {
        reason = reasonOf(error, errors);
        if (reason === "bad-signature") continue;
        return { reason };
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload).toString("utf8"));
      } catch {
        return { reason: "malformed" };
      }
      const claims = checkClaims(parsed, { audience: options.audience, limits: options.limits, allow: [options.allow, key.allow] });
      if (typeof claims === "string") return { reason: claims };
      return { claims: { ...claims, kid: key.kid } };
    }
    return { reason };
  }

  return {
    check(token) {
      const cached = cache.get(token);
      if (cached !== undefined) {
        // Least recently used goes first: re-insert on use.
        cache.delete(token);
        cache.set(token, cached);
        return verdict(token, cached);
      }
      if (token.length > MAX_TOKEN_BYTES) return { status: "rejected", reason: "oversized" };
      const parts = token.split(".");
      const header = parts.length === 3 && BASE64URL_PART.test(parts[0]!) ? protectedHeaderOf(token) : undefined;
      if (header === undefined) return verdict(token, remember(token, { reason: "malformed" }));
      // The algorithm is judged before the rest of the shape, so `alg: none` (empty signature) is named as such.
      if (typeof header.alg !== "string" || !ring.algorithms.has(header.alg)) return verdict(token, remember(token, { reason: "alg-not-allowed" }));
      if (!BASE64URL_PART.test(parts[1]!) || !BASE64URL_PART.test(parts[2]!)) return verdict(token, remember(token, { reason: "malformed" }));
      const keys = candidates(ring, header.alg, header.kid);
      if (typeof keys === "string") return verdict(token, remember(token, { reason: keys }));
      let pending = inFlight.get(token);
      if (pending === undefined) {
        pending = verify(token, keys).then(
          (entry) => {
            inFlight.delete(token);
            return remember(token, entry);
          },
          () => {
            inFlight.delete(token);
            return { reason: "malformed" as const };
          },
        );
        inFlight.set(token, pending);
      }
      return pending.then((entry) => verdict(token, entry));
    },
    get cacheSize() {
      return cache.size;
    },
  };
}
