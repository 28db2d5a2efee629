/**
 * Why an override was not admitted. Stable strings: they label the
 * `detour_ext_proc_trust_rejections_total` counter, appear in logs and in the 401 body of a
 * strict edge, and are documented in docs/security.md.
 */
export type RejectionReason =
  /** Not a JWS compact serialization (three base64url parts, JSON header and payload). */
  | "malformed"
  /** Longer than MAX_TOKEN_BYTES: refused before any parsing. */
  | "oversized"
  /** More than one distinct token in one request (repeated header, header and cookie, two cookies...): ambiguous. */
  | "duplicate"
  /** `alg` is none, unknown, or not the algorithm of the key it names (algorithm confusion). */
  | "alg-not-allowed"
  /** The `kid` names no configured key. */
  | "unknown-key"
  /** The signature does not verify with any candidate key (forged, tampered or signed with another key). */
  | "bad-signature"
  | "expired"
  /** `nbf` or `iat` lies in the future (beyond the clock tolerance). */
  | "not-yet-valid"
  /** No `exp` claim: detour accepts only expiring tokens. */
  | "missing-exp"
  /** `exp` lies further ahead than `edge.tokens.maxLifetimeSeconds`. */
  | "lifetime-too-long"
  | "wrong-audience"
  /** The `ovr` claim is missing, empty, or not a valid override. */
  | "bad-override"
  /** The override names a service or version the allow-lists (config, key, or the token's `svc` claim) do not permit. */
  | "not-allowed"
  /** A token arrived but this server has no token keys (edge.tokens unset). */
  | "tokens-disabled"
  /** A plain override carrier from a client the edge does not trust was removed. */
  | "untrusted-carrier"
  /** A `trust: token` sidecar received plain override carriers without any token. */
  | "missing-token";

export const REJECTION_REASONS: readonly RejectionReason[] = [
  "malformed",
  "oversized",
  "duplicate",
  "alg-not-allowed",
  "unknown-key",
  "bad-signature",
  "expired",
  "not-yet-valid",
  "missing-exp",
  "lifetime-too-long",
  "wrong-audience",
  "bad-override",
  "not-allowed",
  "tokens-disabled",
  "untrusted-carrier",
  "missing-token",
];

const HINTS: Record<RejectionReason, string> = {
  malformed: "it is not a JWS compact token",
  oversized: "it is longer than the edge accepts",
  duplicate: "the request carried more than one token",
  "alg-not-allowed": "its algorithm is not accepted for its key",
  "unknown-key": "its kid names no key this edge knows",
  "bad-signature": "its signature does not verify",
  expired: "it has expired: mint a new one",
  "not-yet-valid": "it is not valid yet (nbf/iat in the future)",
  "missing-exp": "it has no exp claim",
  "lifetime-too-long": "its exp lies further ahead than this edge allows",
  "wrong-audience": "it was minted for another audience",
  "bad-override": "its ovr claim is not a valid override",
  "not-allowed": "it names a service or version it may not touch",
  "tokens-disabled": "this edge does not accept tokens",
  "untrusted-carrier": "override headers are not accepted from this client",
  "missing-token": "overrides need a token here",
};

/** The one-line body of a 401 from a strict edge (names the reason, never echoes the token). */
export function rejectionBody(reason: RejectionReason): string {
  return `detour: override token rejected (${reason}): ${HINTS[reason]}\n`;
}
