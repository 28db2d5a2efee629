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

/**
 * RFC 9110 §5.6.2 `token`, the syntax of a header name and of a W3C baggage key, as a
 * regular-expression source for config schemas.
 */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/** True when `name` is an RFC 9110 token: a valid header name or baggage key. */
export function isHeaderName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) === -1) return false;
  }
  return true;
}

/**
 * True for the headers detour defines, which configuration may not give another meaning (an
 * alias, for one): `x-detour` and every `x-detour-*` name (route, token, and the ones the
 * server and middleware add), and `baggage`, which carries the override as its `detour` member.
 * Case-insensitive, as header names are.
 */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === DETOUR_HEADER || lower.startsWith(`${DETOUR_HEADER}-`) || lower === BAGGAGE_HEADER;
}
