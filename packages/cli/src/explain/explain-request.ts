import { readCarriers, ROUTE_HEADER, type Problem } from "@detour/core";
import { decide, routingTableFromConfig, type DetourConfig, type HeaderPair, type Role } from "@detour/ext-proc";
import type { HeaderLine } from "./header-lines.js";

/** What one carrier said and what became of it. */
export interface CarrierVerdict {
  readonly carrier: string;
  readonly raw: string;
  /** Its valid entries, canonical text ("" when none). */
  readonly set: string;
  /** wins: its set is the override; agrees: same set as the winner; conflict: a different set (rewritten to the winner); ignored: nothing valid in it. */
  readonly verdict: "wins" | "agrees" | "conflict" | "ignored";
  readonly problems: readonly Problem[];
}

/** How the hop is routed, in words and as data. */
export interface HopRoute {
  readonly from: string;
  readonly to: string;
  /** The topology service the authority names, undefined when it names none. */
  readonly service: string | undefined;
  readonly outcome: "override" | "baseline" | "fallback" | "rejected" | "skip-path" | "not-a-service";
  /** The version that serves the hop (undefined when rejected or not a topology service). */
  readonly version: string | undefined;
  /** Envoy cluster `service@version`. */
  readonly cluster: string | undefined;
  /** The version the effective override asked for, if any. */
  readonly requested: string | undefined;
  readonly reason: string;
  readonly reject: { readonly status: number; readonly body: string } | undefined;
}

export interface Explanation {
  readonly carriers: readonly CarrierVerdict[];
  readonly problems: readonly Problem[];
  /** The request's own override (the winning carrier's set), canonical text. */
  readonly winner: { readonly source: string | undefined; readonly set: string };
  /** What the calling workload's sidecar merges under the request's override. */
  readonly injected: { readonly workload: string; readonly set: string } | undefined;
  /** The override that travels on: request entries over injected ones, canonical text. */
  readonly effective: string;
  readonly route: HopRoute;
  /** The header edits the sidecar's ext_proc makes before routing. */
  readonly headers: { readonly set: readonly HeaderPair[]; readonly remove: readonly string[] };
  /** Counter outcomes the server records for this hop. */
  readonly outcomes: readonly string[];
  /** What the explanation assumes (e.g. edge trust not evaluated). */
  readonly notes: readonly string[];
}

export interface ExplainInput {
  readonly config: DetourConfig;
  readonly headers: readonly HeaderLine[];
  /** Destination: a service name or an :authority such as `pricing.shop.svc.cluster.local:8080`. */
  readonly to: string;
  /** Calling workload `service/version`, or `edge`; undefined = an outbound hop of a workload that injects nothing. */
  readonly from: string | undefined;
}

/**
 * Explains one hop the way the sidecar decides it: the same carrier reader and the same pure
 * decision function the ext_proc server runs, plus the Envoy side of the generated config (the
 * skip path for requests without any carrier, clusters named `service@version`).
 */
export function explainRequest(input: ExplainInput): Explanation {
  const table = routingTableFromConfig(input.config);
  const role: Role = input.from === "edge" ? "edge" : "outbound";
  const workload = role === "edge" ? undefined : input.from;
  // Envoy removes any x-detour-route an application sent before routing (early header mutation).
  const headers = input.headers.filter(([name]) => name !== ROUTE_HEADER);
  const read = readCarriers(headers, table.carriers);
  const decision = decide({ authority: input.to, headers, workload }, table);
  const injection = workload === undefined ? undefined : table.injections.get(workload);

  const carriers = read.carriers.map((report): CarrierVerdict => {
    const verdict = report.set.isEmpty
      ? "ignored"
      : report.carrier === read.source
        ? "wins"
        : read.conflicts.includes(report.carrier)
          ? "conflict"
          : "agrees";
    return { carrier: report.carrier, raw: report.raw, set: report.set.toString(), verdict, problems: report.problems };
  });

  // decide() skips destination lookup when there is nothing to route; a stray route header
  // forces the lookup, so the explanation names the service by the server's own rules.
  const service = decision.service ?? decide({ authority: input.to, headers: [[ROUTE_HEADER, "-"]], workload }, table).service;
  const routes = service === undefined ? undefined : table.services.get(service);
  const from = input.from ?? "a workload";
  let route: HopRoute;
  if (routes === undefined) {
    route = {
      from,
      to: input.to,
      service: undefined,
      outcome: "not-a-service",
      version: undefined,
      cluster: undefined,
      requested: undefined,
      reason: `'${input.to}' names no service of the topology (known: ${[...table.services.keys()].join(", ")}): the sidecar passes it through unrouted`,
      reject: undefined,
    };
  } else {
    const base = { from, to: input.to, service: routes.name, requested: decision.requested };
    if (read.carriers.length === 0 && injection === undefined) {
      route = {
        ...base,
        outcome: "skip-path",
        version: routes.baseline,
        cluster: `${routes.name}@${routes.baseline}`,
        reason: `no override carrier and nothing injected: Envoy's default route serves the baseline without calling ext_proc (skip path)`,
        reject: undefined,
      };
    } else if (decision.reject !== undefined) {
      route = {
        ...base,
        outcome: "rejected",
        version: undefined,
        cluster: undefined,
        reason: `the override names ${routes.name}=${decision.requested}, which is not deployed (known: ${routes.versionList}), and ${routes.name} has miss: reject`,
        reject: decision.reject,
      };
    } else if (decision.route !== undefined) {
      route = {
        ...base,
        outcome: "override",
        version: decision.route,
        cluster: `${routes.name}@${decision.route}`,
        reason: `the override names ${routes.name}=${decision.route}${namedByWildcard(decision.set, routes.name) ? " (through the wildcard)" : ""}: ext_proc sets ${ROUTE_HEADER}: ${decision.route} and the route matching it wins`,
        reject: undefined,
      };
    } else if (decision.requested !== undefined) {
      route = {
        ...base,
        outcome: "fallback",
        version: routes.baseline,
        cluster: `${routes.name}@${routes.baseline}`,
        reason: `the override names ${routes.name}=${decision.requested}, which is not deployed (known: ${routes.versionList}); ${routes.name} has miss: fallback, so the baseline serves`,
        reject: undefined,
      };
    } else {
      const wildcard = decision.set.wildcard;
      route = {
        ...base,
        outcome: "baseline",
        version: routes.baseline,
        cluster: `${routes.name}@${routes.baseline}`,
        reason:
          wildcard !== undefined
            ? `the wildcard *=${wildcard} applies only to services with a '${wildcard}' version and ${routes.name} has none: the baseline serves`
            : `the override does not name ${routes.name}: the baseline serves`,
        reject: undefined,
      };
    }
  }

  return {
    carriers,
    problems: read.problems,
    winner: { source: read.source, set: read.set.toString() },
    injected: workload !== undefined && injection !== undefined ? { workload, set: injection.toString() } : undefined,
    effective: decision.set.toString(),
    route,
    headers: { set: decision.setHeaders, remove: decision.removeHeaders },
    outcomes: decision.outcomes,
    notes:
      role === "edge"
        ? ["edge trust is not evaluated here: this assumes a client the edge trusts (edge.trustedCidrs / trustedPrincipals); an untrusted client's plain carriers are removed and only a valid x-detour-token sets an override (detour token verify checks one)"]
        : [],
  };
}

function namedByWildcard(set: { entries(): readonly { service: string }[] }, service: string): boolean {
  return !set.entries().some((entry) => entry.service === service);
}
