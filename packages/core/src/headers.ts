/**
 * Header, cookie and baggage-member names of the detour wire format (docs/spec.md).
 * Lower-case on purpose: HTTP/2 and Envoy's ext_proc hand header names over lower-cased, and
 * Node's `IncomingMessage.headers` lower-cases them too, so the canonical spelling matches
 * what every reader sees.
 */

/** The canonical override carrier: `x-detour: pricing=v2, cart=pr-7, *=sandbox-3`. */
export const DETOUR_HEADER = "x-detour";

/**
 * Internal, single-valued routing header set only by the sidecar's ext_proc for the one
 * destination of a hop; Envoy routes match it exactly. Any copy from an application is
 * removed before routing, so an app cannot route around the policy.
 */
export const ROUTE_HEADER = "x-detour-route";

/** Signed override token (a JWS) verified at the edge. */
export const TOKEN_HEADER = "x-detour-token";

/** Browsers cannot set custom headers on navigation, so the token may also travel as a cookie. */
export const TOKEN_COOKIE = "detour_token";

/** W3C Trace Context baggage header; carries the override as one list-member. */
export const BAGGAGE_HEADER = "baggage";

/**
 * The baggage list-member key holding the percent-encoded canonical override value. W3C keys are
 * case-sensitive (HTTP_HEADER_FORMAT.md, "key"), so only this exact spelling is ours.
 */
export const BAGGAGE_MEMBER = "detour";
