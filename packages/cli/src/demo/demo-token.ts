import { join } from "node:path";
import type { DetourConfig } from "@detour/ext-proc";
import { edgeTokensSchema } from "@detour/ext-proc/tokens";
import { generateKeys } from "../token/generate-keys.js";
import { signToken } from "../token/sign-token.js";
import { signingKeyFromFile } from "../token/signing-key.js";
import type { DemoPlan } from "./demo-plan.js";
import { curlLine } from "./curl-line.js";
import type { DemoRequest } from "./demo-requests.js";

/** What the demo's token carries: the same override as one of the plain-header demo requests. */
export const DEMO_TOKEN_OVERRIDE = "catalog=v2,pricing=v2";
export const DEMO_TOKEN_KID = "demo";
const DEMO_TOKEN_TTL_SECONDS = 3_600;

/** A signed override token minted for one demo run with a key pair generated for that run. */
export interface DemoToken {
  readonly token: string;
  readonly override: string;
  readonly privateKeyFile: string;
  readonly ttlSeconds: number;
}

/**
 * Edge trust in the demo: generates a key pair into the run's temp dir, adds its public key to
 * the edge's token keys (keeping any the topology already has) and mints a token with it, so
 * the demo can show a signed override working. Loopback clients are trusted anyway
 * (edge.trustedCidrs in examples/detour.yaml); from anywhere else only the token would work.
 */
export async function withDemoToken(plan: DemoPlan, dir: string): Promise<{ plan: DemoPlan; token: DemoToken }> {
  const keys = generateKeys({ dir: join(dir, "keys"), kid: DEMO_TOKEN_KID });
  const edge = plan.topology.edge;
  if (edge === undefined) throw new Error("the demo topology has no edge section");
  const tokens = edgeTokensSchema.parse({ ...edge.tokens, keys: [...(edge.tokens?.keys ?? []), { kid: DEMO_TOKEN_KID, publicKeyFile: keys.publicKeyFile }] });
  const topology: DetourConfig = { ...plan.topology, edge: { ...edge, tokens } };
  const token = await signToken({
    set: DEMO_TOKEN_OVERRIDE,
    ttlSeconds: DEMO_TOKEN_TTL_SECONDS,
    key: signingKeyFromFile(keys.privateKeyFile),
    kid: DEMO_TOKEN_KID,
    audience: tokens.audience,
    subject: "detour demo",
  });
  return { plan: { ...plan, topology }, token: { token, override: DEMO_TOKEN_OVERRIDE, privateKeyFile: keys.privateKeyFile, ttlSeconds: DEMO_TOKEN_TTL_SECONDS } };
}

/**
 * The demo requests that use the token: the token alone must give the same call tree as the
 * plain-header request with the same override, and a tampered copy the tree of no override.
 * A request is left out when the requests file has no plain counterpart to take its
 * expectation from (another topology).
 */
export function demoTokenRequests(token: DemoToken, requests: readonly DemoRequest[]): DemoRequest[] {
  const same = requests.find((request) => Object.keys(request.headers).length === 1 && request.headers["x-detour"]?.replace(/\s/g, "") === token.override);
  const plain = requests.find((request) => Object.keys(request.headers).length === 0 && request.path === "/");
  const [header, payload, signature] = token.token.split(".");
  // Flip one signature character: the signature no longer verifies.
  const tampered = `${header}.${payload}.${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
  const out: DemoRequest[] = [];
  if (same !== undefined) out.push({ name: `signed token (x-detour-token carrying ${token.override}, minted for this run)`, headers: { "x-detour-token": token.token }, path: "/", expect: same.expect });
  if (plain !== undefined) out.push({ name: "tampered token (signature changed): ignored, no override", headers: { "x-detour-token": tampered }, path: "/", expect: plain.expect });
  return out;
}

/** Lines for the "try it" banner. */
export function demoTokenBanner(token: DemoToken, edgeUrl: string): string[] {
  return [
    `Token (${token.override}, valid ${token.ttlSeconds / 60} min; the only way a client outside edge.trustedCidrs sets an override):`,
    `      ${curlLine(edgeUrl, { "x-detour-token": token.token })}`,
    `      mint another: npx detour token sign --set 'pricing=v2' --ttl 15m --key ${token.privateKeyFile}`,
  ];
}
