import { BAGGAGE_HEADER, BAGGAGE_MEMBER, DETOUR_HEADER, ROUTE_HEADER, TOKEN_HEADER } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { EXT_PROC_DISABLED_ON_ROUTE, versionClusterName } from "./envoy-names.js";
import type { HeaderMatcherJson } from "./filter-matcher.js";

type Json = Record<string, unknown>;

/**
 * Header matchers that spot a request carrying any override carrier. Only these requests (and
 * all requests of a workload that injects) pay for an ext_proc round trip: the skip path.
 * Baggage members are matched by key alone, without the "=": W3C baggage allows OWS before it
 * (`detour =v`), which @detour/core reads, so `contains "detour="` let such a member skip
 * ext_proc and lose its override (found by test/reliability/hostile-input.test.ts). A longer key
 * that contains ours (`detours=`) only costs a call.
 */
export function carrierMatchers(config: DetourConfig): HeaderMatcherJson[] {
  const matchers: HeaderMatcherJson[] = [
    { name: DETOUR_HEADER, present_match: true },
    { name: BAGGAGE_HEADER, string_match: { contains: BAGGAGE_MEMBER } },
  ];
  for (const alias of config.aliases) {
    if ("baggage" in alias) matchers.push({ name: BAGGAGE_HEADER, string_match: { contains: alias.baggage } });
    else matchers.push({ name: alias.header.toLowerCase(), present_match: true });
  }
  return matchers;
}

/**
 * The carriers a sidecar's ext_proc must see: `carrierMatchers`, plus x-detour-token for a
 * `trust: token` sidecar, which must also see requests that carry only a token.
 */
export function sidecarCarrierMatchers(config: DetourConfig, options: { tokenHop?: boolean | undefined } = {}): HeaderMatcherJson[] {
  return options.tokenHop ? [...carrierMatchers(config), { name: TOKEN_HEADER, present_match: true }] : carrierMatchers(config);
}

/**
 * Names under which Envoy picks a service's virtual host. The HCM strips any port first;
 * `pricing.*` covers `pricing.<namespace>.svc.cluster.local` and other qualified forms (the
 * ext_proc server resolves those through routing.clusterDomains; a name it cannot resolve is
 * simply served by the baseline, as here).
 */
export function serviceDomains(service: string, hosts: readonly string[]): string[] {
  return [service, `${service}.*`, ...hosts.map((host) => host.toLowerCase())];
}

/**
 * One virtual host per service. Route order matters:
 * 1. one route per version (baseline included) matching `x-detour-route` exactly: taken after
 *    ext_proc set the header and cleared the route cache;
 * 2. (skip path) one route per carrier matcher to the baseline with ext_proc enabled;
 * 3. the default route to the baseline, ext_proc disabled there unless the workload injects.
 */
export function serviceVirtualHosts(config: DetourConfig, injects: boolean, options: { tokenHop?: boolean } = {}): Json[] {
  const matchers = sidecarCarrierMatchers(config, options);
  const hosts: Json[] = [];
  for (const [service, spec] of Object.entries(config.services)) {
    const baseline = versionClusterName(service, spec.baseline);
    const routes: Json[] = Object.keys(spec.versions).map((version) => ({
      name: `${service}:${version}`,
      match: { prefix: "/", headers: [{ name: ROUTE_HEADER, string_match: { exact: version } }] },
      route: { cluster: versionClusterName(service, version) },
    }));
    if (!injects) {
      matchers.forEach((matcher, index) => {
        routes.push({ name: `${service}:carrier-${index}`, match: { prefix: "/", headers: [matcher] }, route: { cluster: baseline } });
      });
    }
    routes.push({
      name: `${service}:default`,
      match: { prefix: "/" },
      route: { cluster: baseline },
      ...(injects ? {} : { typed_per_filter_config: EXT_PROC_DISABLED_ON_ROUTE }),
    });
    hosts.push({ name: service, domains: serviceDomains(service, spec.hosts), routes });
  }
  hosts.push({
    name: "unknown-service",
    domains: ["*"],
    routes: [
      {
        name: "unknown-service",
        match: { prefix: "/" },
        direct_response: { status: 404, body: { inline_string: "detour sidecar: no service in the topology answers to this host\n" } },
        typed_per_filter_config: EXT_PROC_DISABLED_ON_ROUTE,
      },
    ],
  });
  return hosts;
}
