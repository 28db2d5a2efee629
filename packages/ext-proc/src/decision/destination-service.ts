import type { RoutingTable } from "./routing-table.js";
import { splitHostPort } from "../address/host-port.js";

/**
 * Distinct :authority values remembered per config. Real traffic uses a handful of peer names;
 * the bound keeps a client that sends random Host headers from growing memory.
 */
export const AUTHORITY_MEMO_LIMIT = 4096;

/** The host of an :authority, lower-cased, without port or the trailing dot of a fully-qualified name. */
function hostOf(authority: string): string {
  let host = splitHostPort(authority).host;
  if (host.endsWith(".")) host = host.slice(0, -1);
  return host.toLowerCase();
}

function resolve(host: string, table: RoutingTable): string | undefined {
  const explicit = table.hosts.get(host);
  if (explicit !== undefined) return explicit;
  if (table.services.has(host)) return host;
  for (const suffix of table.clusterSuffixes) {
    if (host.length > suffix.length && host.endsWith(suffix)) {
      // `pricing.shop.svc.cluster.local` -> `pricing.shop`: Kubernetes puts the namespace
      // between the service and the cluster domain, so the service is the first label.
      const rest = host.slice(0, host.length - suffix.length);
      const dot = rest.indexOf(".");
      const service = dot === -1 ? rest : rest.slice(0, dot);
      if (table.services.has(service)) return service;
    }
  }
  return undefined;
}

/**
 * The topology service an :authority names: the explicit host map first, then the
 * bare service name, then a name under one of the configured cluster domains. The port is
 * ignored. Undefined when the destination is not a topology service.
 */
export function serviceFromAuthority(authority: string | undefined, table: RoutingTable): string | undefined {
  if (authority === undefined || authority.length === 0) return undefined;
  const memo = table.authorityMemo.get(authority);
  if (memo !== undefined) return memo ?? undefined;
  const service = resolve(hostOf(authority), table);
  if (table.authorityMemo.size >= AUTHORITY_MEMO_LIMIT) table.authorityMemo.clear();
  table.authorityMemo.set(authority, service ?? null);
  return service;
}
