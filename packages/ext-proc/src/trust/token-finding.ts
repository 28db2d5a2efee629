import type { HeaderPair } from "../header-pair.js";
import type { RejectionReason } from "./rejection-reason.js";
import { locateToken, type TokenSource } from "./token-location.js";
import type { VerifiedToken } from "./token-verifier.js";
import type { TrustTable } from "./trust-table.js";

/** What a request's token turned out to be: the input of the (pure) trust decisions. */
export type TokenFinding =
  | { readonly status: "absent" }
  | { readonly status: "valid"; readonly token: string; readonly source: TokenSource; readonly verified: VerifiedToken }
  | { readonly status: "rejected"; readonly reason: RejectionReason; readonly source: TokenSource };

export const NO_TOKEN: TokenFinding = Object.freeze({ status: "absent" });

/**
 * Locates and verifies a request's token. This is the one asynchronous step before the pure
 * decision (signature checks are async in WebCrypto); a request without a token, or with a
 * token whose verdict is cached, is answered synchronously.
 */
export function findToken(headers: readonly HeaderPair[], trust: TrustTable, options: { cookieAndQuery: boolean }): TokenFinding | Promise<TokenFinding> {
  const location = locateToken(headers, options.cookieAndQuery ? trust.tokenLocation : { cookie: false });
  if (location.kind === "absent") return NO_TOKEN;
  if (location.kind === "rejected") return { status: "rejected", reason: location.reason, source: location.source };
  const { token, source } = location;
  if (trust.verifier === undefined) return { status: "rejected", reason: "tokens-disabled", source };
  const check = trust.verifier.check(token);
  const finding = (result: Awaited<typeof check>): TokenFinding =>
    result.status === "valid" ? { status: "valid", token, source, verified: result.token } : { status: "rejected", reason: result.reason, source };
  return check instanceof Promise ? check.then(finding) : finding(check);
}
