import { isIP } from "node:net";
import { HEADER_NAME_PATTERN, isReservedHeader, isValidVersion, SERVICE_NAME_PATTERN } from "@detour/core";
import { z } from "zod";
import { hostPortSchema } from "./host-port-schema.js";

/*
 * The `edge:` section of detour.yaml (docs/security.md): who may set an override at
 * the front door, and how signed override tokens are verified. Everything defaults to "trust
 * nobody": no trusted sources, no token keys, so an override from the internet never picks a
 * version unless this section says otherwise.
 */

/** An RFC 9110 token, as header names and query parameter names are written here. */
const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN);

/**
 * `10.0.0.0/8`, `127.0.0.1/32`, `::1/128`; a bare address means the single host. Checked with
 * node:net so the server and the Envoy generator (source_prefix_ranges) accept the same text.
 */
export const cidrSchema = z.string().superRefine((text, ctx) => {
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  const prefix = slash === -1 ? (family === 6 ? 128 : 32) : Number(text.slice(slash + 1));
  const max = family === 6 ? 128 : 32;
  if (family === 0 || !/^\d{1,3}$/.test(slash === -1 ? String(prefix) : text.slice(slash + 1)) || prefix > max) {
    ctx.addIssue({ code: "custom", message: `'${text}' is not a CIDR range: write address/prefix, e.g. 10.0.0.0/8 or ::1/128` });
  }
});

/**
 * A version pattern of an allow-list: an exact version (`v2`), a prefix ending in `*` (`pr-*`)
 * or `*` (any version).
 */
const versionPattern = z
  .string()
  .refine((pattern) => pattern === "*" || isValidVersion(pattern.endsWith("*") ? pattern.slice(0, -1) : pattern), "must be a version, a prefix ending in '*' (pr-*) or '*'");

const allowKey = z.union([z.literal("*"), z.string().regex(new RegExp(SERVICE_NAME_PATTERN), "must be a service name or '*' (wildcard entries)")]);

/**
 * Which override entries a token may carry: service -> version patterns. Key `*` governs
 * wildcard entries (`*=pr-7`). A token naming anything outside is rejected whole (reason
 * not-allowed): partial overrides surprise people.
 */
export const allowListSchema = z
  .record(allowKey, z.array(versionPattern).min(1))
  .describe("service (or '*' for wildcard entries) -> version patterns a token may name, e.g. { pricing: [v2, 'pr-*'] }; unset = anything");

const kid = z.string().min(1).max(128).optional().describe("key id: a token whose header names a kid is checked against that key only");

export const tokenKeySchema = z.union([
  z.strictObject({
    kid,
    secretFile: z.string().min(1).describe("file holding an HS256 shared secret (at least 32 bytes; trailing newline ignored)"),
    allow: allowListSchema.optional(),
  }),
  z.strictObject({
    kid,
    publicKeyFile: z.string().min(1).describe("PEM public key (SPKI): Ed25519 verifies EdDSA tokens, P-256 verifies ES256 tokens"),
    allow: allowListSchema.optional(),
  }),
  z.strictObject({
    jwksFile: z.string().min(1).describe("JWKS file ({ keys: [...] }, each with a kid): rotate keys by listing old and new during the overlap"),
    allow: allowListSchema.optional(),
  }),
]);

export const edgeTokensSchema = z.strictObject({
  keys: z.array(tokenKeySchema).min(1, "list at least one key (secretFile, publicKeyFile or jwksFile)").describe("verification keys; relative paths are relative to the config file"),
  audience: z.string().min(1).optional().describe("when set, a token must carry this aud"),
  clockToleranceSeconds: z.int().min(0).max(300).default(30).describe("clock skew allowed on exp, nbf and iat"),
  maxLifetimeSeconds: z
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(86_400)
    .describe("a token whose exp lies further ahead than this is rejected (reason lifetime-too-long): a leaked long-lived token is the worst kind"),
  cookie: z.boolean().default(true).describe("also read the token from the detour_token cookie (browsers cannot set headers on navigation)"),
  queryParameter: z
    .string()
    .regex(HEADER_NAME, "must be a plain parameter name")
    .optional()
    .describe("opt-in: also read the token from this query parameter (it then shows up in access logs; prefer the cookie)"),
  allow: allowListSchema.optional(),
});

export const edgeSchema = z.strictObject({
  listen: hostPortSchema("127.0.0.1:10000")
    .default("127.0.0.1:10000")
    .describe("address of the edge listener (the front door; generators only)"),
  service: z.string().min(1).optional().describe("the service the edge forwards every request to (generators; the edge ext_proc routes it)"),
  trustedCidrs: z
    .array(cidrSchema)
    .default([])
    .describe("clients connecting from these ranges may send plain override carriers (x-detour, baggage, aliases); default nobody"),
  trustedPrincipals: z
    .array(z.string().min(1))
    .default([])
    .describe("mTLS client identities (URI or DNS SAN, e.g. spiffe://corp/ci) whose plain override carriers are trusted; default nobody"),
  principalHeader: z
    .string()
    .regex(HEADER_NAME, "must be a header name")
    .refine((name) => !isReservedHeader(name), "is one of detour's own headers: name the header the proxy in front sets with the client identity")
    .transform((name) => name.toLowerCase())
    .default("x-forwarded-client-cert")
    .describe("header Envoy sets with the verified client identity (x-forwarded-client-cert: SANITIZE_SET + set_current_client_cert_details.uri)"),
  onInvalid: z
    .enum(["ignore", "reject"])
    .default("ignore")
    .describe("a bad token: ignore = the request goes on without an override (default), reject = 401 naming the reason"),
  tokens: edgeTokensSchema.optional().describe("signed override tokens (x-detour-token header, detour_token cookie); unset = tokens are not accepted"),
});

export const workloadTrustSchema = z
  .enum(["any", "token"])
  .describe("any (default): the sidecar honours the carriers it receives; token: only an override backed by a valid x-detour-token, so a compromised caller cannot steer");

export type EdgeConfig = z.output<typeof edgeSchema>;
export type EdgeTokensConfig = z.output<typeof edgeTokensSchema>;
export type TokenKeyConfig = z.output<typeof tokenKeySchema>;
export type AllowListConfig = z.output<typeof allowListSchema>;
