import { context, createContextKey, type Context } from "@opentelemetry/api";
import { MAX_TOKEN_BYTES } from "@detour/core";

/*
 * The signed override token (x-detour-token) a request arrived with, kept so outbound calls can
 * forward it: a `trust: token` sidecar deeper in the mesh honours an override only with a valid
 * token (docs/security.md, per-hop mode).
 *
 * The token is a bearer credential, so it lives under a private context key and never in baggage,
 * which other propagators forward and third parties log. It is never parsed or verified here:
 * every sidecar in token mode verifies it with its own keys and clock, and an application that
 * judged it would only be a second, weaker opinion (and would need the keys). Forwarding it
 * unchanged is all a hop has to do.
 */

const TOKEN_KEY = createContextKey("detour.override-token");

/**
 * A JWS compact serialization is base64url and dots: visible ASCII. Anything else is not a token,
 * and a control character or a non-ASCII byte would make setting the outbound header throw (Node's
 * ERR_INVALID_CHAR, undici's Headers) or be refused by gRPC metadata, which allows only printable
 * ASCII in text values.
 */
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/**
 * The token to forward from an incoming `x-detour-token` value (repeated lines joined with ","),
 * or undefined. Only the first value counts (JWS text has no commas, so a comma separates lines);
 * an empty, oversized (over MAX_TOKEN_BYTES, the edge's own bound, checked before anything else
 * looks at the text) or non-token-text value is ignored, never thrown on.
 */
export function tokenFromHeader(value: string | readonly string[] | undefined): string | undefined {
  const line = typeof value === "string" ? value : value?.[0];
  if (typeof line !== "string") return undefined;
  const comma = line.indexOf(",");
  const first = (comma === -1 ? line : line.slice(0, comma)).trim();
  // Characters equal bytes for the ASCII a token may hold; any other value fails TOKEN_TEXT anyway.
  if (first.length === 0 || first.length > MAX_TOKEN_BYTES) return undefined;
  return TOKEN_TEXT.test(first) ? first : undefined;
}

/** The token a context carries (default: the active one), undefined when none. */
export function getOverrideToken(ctx: Context = context.active()): string | undefined {
  return ctx.getValue(TOKEN_KEY) as string | undefined;
}

/** `ctx` carrying exactly `token`; undefined removes an inherited one (a credential is per request). */
export function setOverrideToken(ctx: Context, token: string | undefined): Context {
  const current = ctx.getValue(TOKEN_KEY);
  if (current === token) return ctx;
  return token === undefined ? ctx.deleteValue(TOKEN_KEY) : ctx.setValue(TOKEN_KEY, token);
}
