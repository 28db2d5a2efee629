import { aliasName, createCarrierConfig, OverrideSet, parseOverrides, ROUTE_HEADER, type AliasSpec, type CarrierConfig } from "@detour/core";
import type { DetourConfig, MissPolicy } from "../config/detour-config-schema.js";

/** One service of the topology, in the shape the hot path reads. */
export interface ServiceRoutes {
  readonly name: string;
  readonly baseline: string;
  readonly miss: MissPolicy;
  readonly versions: ReadonlySet<string>;
  /** "v1, v2" for the one-line reject reason, built once. */
  readonly versionList: string;
}

/**
 * The config compiled into lookup tables once per (re)load, so a request costs a few map lookups
 * and no per-request allocation for anything derived from the config.
 */
export interface RoutingTable {
  readonly config: DetourConfig;
  readonly services: ReadonlyMap<string, ServiceRoutes>;
  /** Explicit host names (lower-case) -> service. */
  readonly hosts: ReadonlyMap<string, string>;
  /** ".svc.cluster.local"-style suffixes, longest first. */
  readonly clusterSuffixes: readonly string[];
  /** Workload key -> the override it injects into all its outbound traffic. */
  readonly injections: ReadonlyMap<string, OverrideSet>;
  /** How carriers are read (aliases, limits), checked when the table is built. */
  readonly carriers: CarrierConfig;
  /** Alias carrier name (as core reports it) -> its spec. */
  readonly aliasByCarrier: ReadonlyMap<string, AliasSpec>;
  /**
   * Lower-case request header names decide() reads; the protobuf adapter decodes only these
   * (plus :authority), so unrelated headers cost no string decoding.
   */
  readonly headerNames: ReadonlySet<string>;
  /** Memo of :authority -> service (null = not a topology service); bounded, see AUTHORITY_MEMO_LIMIT. */
  readonly authorityMemo: Map<string, string | null>;
}

/**
 * Compiles a config. The schema has checked it already; a config built in code that breaks a rule
 * of the wire format throws DetourError here, when it is loaded, so decide() never meets it.
 */
export function routingTableFromConfig(config: DetourConfig): RoutingTable {
  const carriers = createCarrierConfig({ aliases: config.aliases, limits: config.limits }, "detour config");
  const services = new Map<string, ServiceRoutes>();
  const hosts = new Map<string, string>();
  for (const [name, spec] of Object.entries(config.services)) {
    const versions = Object.keys(spec.versions);
    services.set(name, {
      name,
      baseline: spec.baseline,
      miss: spec.miss,
      versions: new Set(versions),
      versionList: versions.join(", "),
    });
    for (const host of spec.hosts) hosts.set(host.toLowerCase(), name);
  }
  const injections = new Map<string, OverrideSet>();
  for (const [key, workload] of Object.entries(config.workloads)) {
    if (workload.inject === undefined) continue;
    // The schema already rejected invalid text; strict parsing here cannot throw.
    const { set } = parseOverrides(workload.inject, { strict: true });
    if (!set.isEmpty) injections.set(key, set);
  }
  const aliasByCarrier = new Map<string, AliasSpec>();
  for (const alias of carriers.aliases) aliasByCarrier.set(aliasName(alias), alias);
  const headerNames = new Set<string>([...carriers.headerNames, ROUTE_HEADER]);
  const clusterSuffixes = config.routing.clusterDomains
    .map((domain) => `.${domain.toLowerCase().replace(/^\.+|\.+$/g, "")}`)
    .sort((a, b) => b.length - a.length);
  return {
    config,
    services,
    hosts,
    clusterSuffixes,
    injections,
    carriers,
    aliasByCarrier,
    headerNames,
    authorityMemo: new Map(),
  };
}
