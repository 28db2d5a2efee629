import { EXT_PROC_FILTER_NAME, outboundListenerName } from "@detour/cli";
import type { HeaderLine } from "./hostile-inputs.js";

type Json = Record<string, any>;

/**
 * Whether the generated sidecar config sends a request to ext_proc at all: the virtual host
 * Envoy picks for the authority and the first route whose header matchers match, read from the
 * bootstrap Envoy runs (so the model follows the generator). Only the matcher kinds the
 * generator uses are understood; anything else throws, so a generator change cannot be misread.
 * `lines` are the request's header lines as Envoy holds them (lower-case names, after the early
 * header mutation removed x-detour-route).
 */
export function extProcCalled(bootstrap: Json, workload: string, authority: string, lines: readonly HeaderLine[]): boolean {
  const listener = (bootstrap.static_resources.listeners as Json[]).find((candidate) => candidate.name === outboundListenerName(workload));
  if (listener === undefined) throw new Error(`no listener for workload ${workload}`);
  const hcm = listener.filter_chains[0].filters[0].typed_config as Json;
  const host = hostWithoutPort(authority);
  const virtualHost = pickVirtualHost(hcm.route_config.virtual_hosts as Json[], host);
  for (const route of virtualHost.routes as Json[]) {
    if (route.match.prefix !== "/") throw new Error(`route ${route.name}: only prefix "/" is modelled`);
    const matchers = (route.match.headers ?? []) as Json[];
    if (!matchers.every((matcher) => headerMatches(matcher, lines))) continue;
    if (route.direct_response !== undefined) return false;
    return route.typed_per_filter_config?.[EXT_PROC_FILTER_NAME]?.disabled !== true;
  }
  return false;
}

function hostWithoutPort(authority: string): string {
  const lower = authority.toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  const colon = lower.lastIndexOf(":");
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** Envoy's order: exact domain, then `*.suffix` (longest first), then `prefix.*` (longest first), then `*`. */
function pickVirtualHost(hosts: readonly Json[], host: string): Json {
  const all = hosts.flatMap((candidate) => (candidate.domains as string[]).map((domain) => ({ candidate, domain: domain.toLowerCase() })));
  const exact = all.find(({ domain }) => domain === host);
  if (exact) return exact.candidate;
  const suffix = all.filter(({ domain }) => domain.startsWith("*") && domain.length > 1 && host.endsWith(domain.slice(1)) && host.length > domain.length - 1);
  if (suffix.length > 0) return suffix.sort((a, b) => b.domain.length - a.domain.length)[0]!.candidate;
  const prefix = all.filter(({ domain }) => domain.endsWith("*") && domain.length > 1 && host.startsWith(domain.slice(0, -1)) && host.length > domain.length - 1);
  if (prefix.length > 0) return prefix.sort((a, b) => b.domain.length - a.domain.length)[0]!.candidate;
  const any = all.find(({ domain }) => domain === "*");
  if (any) return any.candidate;
  throw new Error(`no virtual host for ${host}`);
}

function headerMatches(matcher: Json, lines: readonly HeaderLine[]): boolean {
  const values = lines.filter(([name]) => name === matcher.name).map(([, value]) => value);
  if (matcher.present_match === true) return values.length > 0;
  if (values.length === 0) return false;
  // Several lines of one header are matched as one comma-joined value (envoyproxy/envoy#13751).
  const stringMatch = matcher.string_match as Json | undefined;
  const fold = (text: string) => (stringMatch?.ignore_case === true ? text.toLowerCase() : text);
  const value = fold(values.join(","));
  if (stringMatch?.exact !== undefined) return value === fold(stringMatch.exact);
  if (stringMatch?.contains !== undefined) return value.includes(fold(stringMatch.contains));
  if (stringMatch?.prefix !== undefined) return value.startsWith(fold(stringMatch.prefix));
  throw new Error(`header matcher ${JSON.stringify(matcher)} is not modelled`);
}
