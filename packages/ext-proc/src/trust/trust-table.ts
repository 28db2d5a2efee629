import { BAGGAGE_HEADER, DETOUR_HEADER, TOKEN_HEADER, type CarrierConfig } from "@detour/core";
import type { DetourConfig } from "../config/detour-config-schema.js";
import { edgeSchema, type EdgeConfig } from "../config/edge-config-schema.js";
import { cidrListFromConfig, type CidrList } from "./cidr-list.js";
import { allowListFromConfig } from "./allow-list.js";
import { keyRingFromConfig } from "./key-ring.js";
import { createTokenVerifier, type TokenVerifier } from "./token-verifier.js";
import type { TokenLocationOptions } from "./token-location.js";

/**
 * The trust settings of one config, compiled once per (re)load like the routing table: CIDR
 * list, principals, the token verifier with its keys loaded and its verdict cache. A reload
 * builds a new one, so rotated keys and a fresh cache apply to the next request.
 */
export interface TrustTable {
  readonly edge: EdgeConfig;
  /** The service the edge serves (its hop's destination), when configured. */
  readonly edgeService: string | undefined;
  readonly trustedCidrs: CidrList | undefined;
  readonly trustedPrincipals: ReadonlySet<string>;
  readonly principalHeader: string;
  /** Undefined when edge.tokens is unset: tokens are then refused (tokens-disabled). */
  readonly verifier: TokenVerifier | undefined;
  readonly tokenLocation: TokenLocationOptions;
  /** Workloads whose sidecar honours only token-backed overrides (`trust: token`). */
  readonly tokenWorkloads: ReadonlySet<string>;
  /** Header names the edge (and token-mode sidecars) decode: the routing table's plus token, cookie, principal, :path. */
  readonly headerNames: ReadonlySet<string>;
  /** Baggage member keys that carry overrides (detour's own and baggage aliases). */
  readonly baggageKeys: readonly string[];
  /** Alias header names (lower-case). */
  readonly aliasHeaders: readonly string[];
}

/**
 * What trust needs of the routing compiled from the same config (a RoutingTable has it): every
 * trust decision ends in the routing decision, so the edge decodes what routing reads.
 */
export interface RoutingReads {
  readonly carriers: CarrierConfig;
  /** Header names the routing decision reads. */
  readonly headerNames: ReadonlySet<string>;
}

export interface TrustTableOptions {
  /** Folder relative key paths resolve against (the config file's). */
  readonly baseDir: string;
  readonly now?: () => number;
}

/** Compiles the trust part of a config. Throws DetourError when a key file is missing or unusable. */
export function trustTableFromConfig(config: DetourConfig, table: RoutingReads, options: TrustTableOptions): TrustTable {
  const edge = config.edge ?? edgeSchema.parse({});
  const tokens = edge.tokens;
  const verifier =
    tokens === undefined
      ? undefined
      : createTokenVerifier(keyRingFromConfig(tokens.keys, options.baseDir), {
          audience: tokens.audience,
          clockToleranceSeconds: tokens.clockToleranceSeconds,
          maxLifetimeSeconds: tokens.maxLifetimeSeconds,
          allow: allowListFromConfig(tokens.allow),
          limits: table.carriers.limits,
          now: options.now,
        });
  const tokenLocation: TokenLocationOptions = { cookie: tokens?.cookie ?? true, queryParameter: tokens?.queryParameter };
  const headerNames = new Set(table.headerNames);
  headerNames.add(TOKEN_HEADER);
  if (tokenLocation.cookie) headerNames.add("cookie");
  if (tokenLocation.queryParameter !== undefined) headerNames.add(":path");
  if (edge.trustedPrincipals.length !== 0) headerNames.add(edge.principalHeader);
  const aliasHeaders = table.carriers.headerNames.filter((name) => name !== DETOUR_HEADER && name !== BAGGAGE_HEADER);
  const tokenWorkloads = new Set<string>();
  for (const [key, workload] of Object.entries(config.workloads)) if (workload.trust === "token") tokenWorkloads.add(key);
  return {
    edge,
    edgeService: edge.service,
    trustedCidrs: cidrListFromConfig(edge.trustedCidrs),
    trustedPrincipals: new Set(edge.trustedPrincipals),
    principalHeader: edge.principalHeader,
    verifier,
    tokenLocation,
    tokenWorkloads,
    headerNames,
    baggageKeys: table.carriers.baggageKeys,
    aliasHeaders,
  };
}
