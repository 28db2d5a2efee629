import { BAGGAGE_HEADER, baggageWithOverride, DETOUR_HEADER, OverrideSet, removeBaggageMembers, ROUTE_HEADER, TOKEN_HEADER } from "@detour/core";
import { EDGE_MARKER_HEADER, EDGE_MARKER_VALUE, TOKEN_REJECT_STATUS } from "../constants.js";
import { clientPrincipals } from "../trust/client-principal.js";
import { rejectionBody, type RejectionReason } from "../trust/rejection-reason.js";
import type { TokenFinding } from "../trust/token-finding.js";
import type { TokenSource } from "../trust/token-location.js";
import type { TrustTable } from "../trust/trust-table.js";
import type { HeaderPair } from "../header-pair.js";
import { decide, type DecisionInput, type RouteDecision } from "./route-decision.js";
import type { RoutingTable } from "./routing-table.js";
import { joinedHeaderLines } from "./joined-header-lines.js";

/** How an override was admitted: a valid token, a trusted source range, a trusted mTLS principal. */
export type TrustVia = "token" | "cidr" | "principal";

export interface TrustVerdict {
  /** Undefined: nothing admitted (plain carriers, if any, were removed). */
  readonly via: TrustVia | undefined;
  /** Every reason an override attempt of this request was refused (counted and logged). */
  readonly rejections: readonly RejectionReason[];
  readonly tokenSource: TokenSource | undefined;
  /** The valid token's sub and kid, for logs (never the token itself). */
  readonly subject: string | undefined;
  readonly kid: string | undefined;
}

export interface TrustedDecision extends RouteDecision {
  readonly trust: TrustVerdict;
}

export interface EdgeDecisionInput {
  readonly authority: string | undefined;
  readonly headers: readonly HeaderPair[];
  /** Envoy's `source.address` attribute (`ip:port` of the downstream peer). */
  readonly sourceAddress: string | undefined;
}

const NONE: readonly never[] = Object.freeze([]);

function has(headers: readonly HeaderPair[], name: string): boolean {
  for (const [key] of headers) if (key === name) return true;
  return false;
}

function verdictOf(finding: TokenFinding, via: TrustVia | undefined, rejections: readonly RejectionReason[]): TrustVerdict {
  return {
    via,
    rejections,
    tokenSource: finding.status === "absent" ? undefined : finding.source,
    subject: finding.status === "valid" ? finding.verified.subject : undefined,
    kid: finding.status === "valid" ? finding.verified.kid : undefined,
  };
}

interface Rewrite {
  readonly set: OverrideSet;
  /** Keep (valid) or drop (anything else) the request's token. */
  readonly token: string | undefined;
  readonly route: string | undefined;
  readonly marker: boolean;
}

/**
 * The header edits that leave exactly the admitted override in the request: canonical x-detour
 * and baggage member for `set` (or neither), every other override carrier removed (alias
 * headers, alias and duplicate baggage members; other baggage members kept byte-for-byte), the
 * token kept as one canonical header line only when it was valid.
 */
function rewrite(headers: readonly HeaderPair[], trust: TrustTable, what: Rewrite): { set: HeaderPair[]; remove: string[] } {
  const out = { set: [] as HeaderPair[], remove: [] as string[] };
  if (!what.set.isEmpty) out.set.push([DETOUR_HEADER, what.set.toString()]);
  else if (has(headers, DETOUR_HEADER)) out.remove.push(DETOUR_HEADER);

  const baggage = joinedHeaderLines(headers, BAGGAGE_HEADER);
  const stripped = removeBaggageMembers(baggage.value, trust.baggageKeys);
  const next = what.set.isEmpty ? stripped : baggageWithOverride(stripped, what.set);
  if (next !== baggage.value || baggage.lines > 1) {
    if (next === undefined) out.remove.push(BAGGAGE_HEADER);
    else out.set.push([BAGGAGE_HEADER, next]);
  }
  for (const alias of trust.aliasHeaders) if (has(headers, alias)) out.remove.push(alias);

  const token = joinedHeaderLines(headers, TOKEN_HEADER);
  if (what.token !== undefined) {
    if (token.value !== what.token || token.lines !== 1) out.set.push([TOKEN_HEADER, what.token]);
  } else if (token.lines !== 0) {
    out.remove.push(TOKEN_HEADER);
  }
  if (what.route !== undefined) out.set.push([ROUTE_HEADER, what.route]);
  else if (has(headers, ROUTE_HEADER)) out.remove.push(ROUTE_HEADER);
  if (what.marker) out.set.push([EDGE_MARKER_HEADER, EDGE_MARKER_VALUE]);
  return out;
}

/** True when the request carries any override carrier besides a token. */
function carriesOverride(headers: readonly HeaderPair[], trust: TrustTable): boolean {
  if (has(headers, DETOUR_HEADER)) return true;
  for (const alias of trust.aliasHeaders) if (has(headers, alias)) return true;
  const baggage = joinedHeaderLines(headers, BAGGAGE_HEADER).value;
  return baggage !== undefined && removeBaggageMembers(baggage, trust.baggageKeys) !== baggage;
}

/** Routing of `set` for one hop, through the same decide() as every sidecar (miss policy included). */
function route(authority: string | undefined, set: OverrideSet, workload: string | undefined, table: RoutingTable): RouteDecision {
  const headers: HeaderPair[] = set.isEmpty ? [] : [[DETOUR_HEADER, set.toString()]];
  return decide({ authority, headers, workload }, table);
}

function tokenRejected(reason: RejectionReason, finding: TokenFinding): TrustedDecision {
  return {
    service: undefined,
    requested: undefined,
    route: undefined,
    setHeaders: NONE,
    removeHeaders: NONE,
    clearRouteCache: false,
    reject: { status: TOKEN_REJECT_STATUS, body: rejectionBody(reason), details: "detour_token_rejected" },
    outcomes: NONE,
    set: OverrideSet.EMPTY,
    source: undefined,
    problems: NONE,
    trust: verdictOf(finding, undefined, [reason]),
  };
}

/**
 * The edge's decision for one request (pure; the token was verified before). Order:
 * 1. a valid token: its override, whatever plain carriers said, becomes the canonical carriers;
 * 2. a trusted source (edge.trustedCidrs by source.address, edge.trustedPrincipals by the
 *    principal header): plain carriers are honoured exactly as a sidecar honours them;
 * 3. anyone else: every override carrier is removed (other baggage members kept).
 * A bad token is counted; it loses its override (or, with onInvalid: reject, gets a 401).
 * Every answer carries the edge marker and clears the route cache, so Envoy's edge routes know
 * ext_proc ran; requests it never answered lose all carriers there (edge-listener.ts).
 */
export function decideEdge(input: EdgeDecisionInput, table: RoutingTable, trust: TrustTable, finding: TokenFinding): TrustedDecision {
  const headers = input.headers;
  const rejections: RejectionReason[] = [];
  if (finding.status === "rejected") {
    if (trust.edge.onInvalid === "reject") return tokenRejected(finding.reason, finding);
    rejections.push(finding.reason);
  }
  const destination = trust.edgeService ?? input.authority;

  let via: TrustVia | undefined;
  if (finding.status === "valid") via = "token";
  else if (trust.trustedCidrs?.contains(input.sourceAddress)) via = "cidr";
  else if (trust.trustedPrincipals.size !== 0 && clientPrincipals(headers, trust.principalHeader).some((principal) => trust.trustedPrincipals.has(principal))) {
    via = "principal";
  }

  if (via === "cidr" || via === "principal") {
    // Trusted plain carriers: the sidecar logic, plus the marker; a (bad) token does not travel on.
    const base = decide({ authority: destination, headers }, table);
    if (base.reject !== undefined) return { ...base, trust: verdictOf(finding, via, rejections) };
    const remove = has(headers, TOKEN_HEADER) ? [...base.removeHeaders, TOKEN_HEADER] : base.removeHeaders;
    return {
      ...base,
      setHeaders: [...base.setHeaders, [EDGE_MARKER_HEADER, EDGE_MARKER_VALUE]],
      removeHeaders: remove,
      clearRouteCache: true,
      // "Admitted" only when there was an override to admit.
      trust: verdictOf(finding, base.set.isEmpty ? undefined : via, rejections),
    };
  }

  const set = finding.status === "valid" ? finding.verified.set : OverrideSet.EMPTY;
  if (via === undefined && carriesOverride(headers, trust)) rejections.push("untrusted-carrier");
  const routing = route(destination, set, undefined, table);
  if (routing.reject !== undefined) return { ...routing, trust: verdictOf(finding, via, rejections) };
  const edits = rewrite(headers, trust, { set, token: finding.status === "valid" ? finding.token : undefined, route: routing.route, marker: true });
  return {
    ...routing,
    setHeaders: edits.set,
    removeHeaders: edits.remove,
    clearRouteCache: true,
    source: via === "token" ? TOKEN_HEADER : undefined,
    trust: verdictOf(finding, via, rejections),
  };
}

/**
 * A `trust: token` sidecar's decision (pure): only a valid x-detour-token's override counts;
 * plain carriers are replaced by it or, without a valid token, removed. The workload's own
 * injection (config, not request) still applies under it.
 */
export function decideTokenHop(input: DecisionInput, table: RoutingTable, trust: TrustTable, finding: TokenFinding): TrustedDecision {
  const headers = input.headers;
  const rejections: RejectionReason[] = [];
  if (finding.status === "rejected") rejections.push(finding.reason);
  const valid = finding.status === "valid";
  const carried = carriesOverride(headers, trust);
  if (finding.status === "absent" && carried) rejections.push("missing-token");
  const routing = route(input.authority, valid ? finding.verified.set : OverrideSet.EMPTY, input.workload, table);
  if (routing.reject !== undefined) return { ...routing, trust: verdictOf(finding, valid ? "token" : undefined, rejections) };
  const edits = rewrite(headers, trust, { set: routing.set, token: valid ? finding.token : undefined, route: routing.route, marker: false });
  return {
    ...routing,
    setHeaders: edits.set,
    removeHeaders: edits.remove,
    clearRouteCache: edits.set.length + edits.remove.length !== 0 && (routing.route !== undefined || has(headers, ROUTE_HEADER)),
    source: valid ? TOKEN_HEADER : undefined,
    trust: verdictOf(finding, valid ? "token" : undefined, rejections),
  };
}
