import {
  BAGGAGE_HEADER,
  baggageWithOverride,
  DETOUR_HEADER,
  formatAlias,
  OverrideSet,
  readCarriers,
  removeBaggageMembers,
  ROUTE_HEADER,
  type CarrierReadResult,
  type Problem,
} from "@detour/core";
import { REJECT_STATUS } from "../constants.js";
import type { HeaderPair } from "../header-pair.js";
import { serviceFromAuthority } from "./destination-service.js";
import type { RoutingTable, ServiceRoutes } from "./routing-table.js";
import { joinedHeaderLines } from "./joined-header-lines.js";

/**
 * Who is asking: `outbound` is a sidecar's egress listener, `edge` the front door, whose trust
 * rules (tokens, trusted sources) trust-decision.ts applies before the same routing.
 */
export type Role = "outbound" | "edge";

/** What is counted per decision, by destination service (detour_ext_proc_decisions_total). */
export type Outcome = "requested" | "applied" | "fallback" | "rejected" | "invalid" | "conflict" | "injected";

export const OUTCOMES: readonly Outcome[] = ["requested", "applied", "fallback", "rejected", "invalid", "conflict", "injected"];

export interface DecisionInput {
  /** The hop's :authority (Host), port included as received. */
  readonly authority: string | undefined;
  /** The request headers decide() reads (others may be left out). */
  readonly headers: readonly HeaderPair[];
  /** The calling workload, `service/version`, from the stream's initial metadata. */
  readonly workload?: string | undefined;
}

export interface RejectAnswer {
  readonly status: number;
  /** One line of plain text, newline-terminated. */
  readonly body: string;
  /** Envoy's response code details (access log %RESPONSE_CODE_DETAILS%); default detour_unknown_version_rejected. */
  readonly details?: string;
}

export interface RouteDecision {
  /** The destination's topology service, undefined when the authority is not one. */
  readonly service: string | undefined;
  /** The version the effective override names for this hop (named entry or matching wildcard). */
  readonly requested: string | undefined;
  /** Value for x-detour-route, undefined when the baseline serves. */
  readonly route: string | undefined;
  /** Headers to set (overwrite), in order. */
  readonly setHeaders: readonly HeaderPair[];
  readonly removeHeaders: readonly string[];
  /** True only together with a header mutation that touches x-detour-route (Envoy ignores it otherwise). */
  readonly clearRouteCache: boolean;
  /** Set when the request must be answered locally instead of forwarded. */
  readonly reject: RejectAnswer | undefined;
  readonly outcomes: readonly Outcome[];
  /** The effective override: the request's winner merged over the workload's injection. */
  readonly set: OverrideSet;
  /** Winning carrier of the request ("x-detour", "baggage", alias name), undefined if none. */
  readonly source: string | undefined;
  readonly problems: readonly Problem[];
}

const NONE: readonly never[] = Object.freeze([]);

/** The answer for the common case (no carrier, nothing injected): change nothing. Shared, frozen. */
export const PASS_THROUGH: RouteDecision = Object.freeze({
  service: undefined,
  requested: undefined,
  route: undefined,
  setHeaders: NONE,
  removeHeaders: NONE,
  clearRouteCache: false,
  reject: undefined,
  outcomes: NONE,
  set: OverrideSet.EMPTY,
  source: undefined,
  problems: NONE,
});

/** The version `set` names for `service` and whether a named entry (not the wildcard) said so. */
function lookup(set: OverrideSet, service: string): { version: string | undefined; named: boolean } {
  const version = set.versionFor(service);
  if (version === undefined) return { version, named: false };
  const wildcard = set.wildcard;
  if (wildcard === undefined || version !== wildcard) return { version, named: true };
  // Same text as the wildcard: only the entry list tells a named entry apart.
  for (const entry of set.entries()) if (entry.service === service) return { version, named: true };
  return { version, named: false };
}

function rejectAnswer(routes: ServiceRoutes, version: string): RejectAnswer {
  return {
    status: REJECT_STATUS,
    body: `detour: service '${routes.name}' has no version '${version}' (known versions: ${routes.versionList}) and rejects unknown versions\n`,
  };
}

/**
 * The normalizing header edits: canonical x-detour and baggage member for the effective set,
 * and every disagreeing alias carrier rewritten to it (removed where it cannot express it).
 */
function normalize(headers: readonly HeaderPair[], read: CarrierReadResult, set: OverrideSet, table: RoutingTable, out: { set: HeaderPair[]; remove: string[] }): void {
  const canonical = set.toString();
  const detour = joinedHeaderLines(headers, DETOUR_HEADER);
  if (set.isEmpty) {
    if (detour.lines !== 0) out.remove.push(DETOUR_HEADER);
  } else if (detour.value !== canonical || detour.lines > 1) {
    // Repeated lines are one list (RFC 9110 §5.3), but the next hop gets one canonical line.
    out.set.push([DETOUR_HEADER, canonical]);
  }

  const { value: baggage, lines: baggageLines } = joinedHeaderLines(headers, BAGGAGE_HEADER);
  let nextBaggage = baggage === undefined && set.isEmpty ? undefined : baggageWithOverride(baggage, set);
  for (const carrier of read.conflicts) {
    const spec = table.aliasByCarrier.get(carrier);
    if (spec === undefined) continue;
    const value = formatAlias(spec, set);
    if ("baggage" in spec) {
      nextBaggage = removeBaggageMembers(nextBaggage, [spec.baggage]);
      if (value !== undefined) nextBaggage = nextBaggage === undefined ? `${spec.baggage}=${value}` : `${nextBaggage},${spec.baggage}=${value}`;
    } else if (value === undefined) {
      out.remove.push(spec.header);
    } else {
      out.set.push([spec.header, value]);
    }
  }
  if (nextBaggage !== baggage || (baggageLines > 1 && !set.isEmpty)) {
    if (nextBaggage === undefined) out.remove.push(BAGGAGE_HEADER);
    else out.set.push([BAGGAGE_HEADER, nextBaggage]);
  }
}

/**
 * Decides one hop (pure and synchronous, so it is tested without Envoy and costs no I/O on the
 * request path): reads every carrier, merges the
 * calling workload's injection under it, normalizes the carriers, resolves the destination
 * service from :authority and checks the override against the topology. Never throws: bad
 * request data is returned as problems and the baseline serves, and the table's configuration
 * was checked when it was built (routingTableFromConfig).
 */
export function decide(input: DecisionInput, table: RoutingTable): RouteDecision {
  const headers = input.headers;
  let routeHeaderPresent = false;
  for (const [name] of headers) {
    if (name === ROUTE_HEADER) {
      routeHeaderPresent = true;
      break;
    }
  }
  const read = readCarriers(headers, table.carriers);
  const injection = input.workload === undefined ? undefined : table.injections.get(input.workload);
  const set = injection === undefined ? read.set : read.set.withDefaults(injection);
  if (read.carriers.length === 0 && set.isEmpty && !routeHeaderPresent) return PASS_THROUGH;

  const service = serviceFromAuthority(input.authority, table);
  const routes = service === undefined ? undefined : table.services.get(service);
  const outcomes: Outcome[] = [];
  if (read.problems.length !== 0) outcomes.push("invalid");
  if (read.conflicts.length !== 0) outcomes.push("conflict");
  if (injection !== undefined && set !== read.set && !set.equals(read.set)) outcomes.push("injected");

  let requested: string | undefined;
  let route: string | undefined;
  let reject: RejectAnswer | undefined;
  if (routes !== undefined) {
    const { version, named } = lookup(set, routes.name);
    if (version !== undefined) {
      if (routes.versions.has(version)) {
        requested = version;
        route = version;
        outcomes.push("requested", "applied");
      } else if (named) {
        // A wildcard is a sandbox key: services without that version quietly stay on baseline.
        // Only a named entry for a version the topology lacks is a miss.
        requested = version;
        if (routes.miss === "reject") {
          reject = rejectAnswer(routes, version);
          outcomes.push("requested", "rejected");
        } else {
          outcomes.push("requested", "fallback");
        }
      }
    }
  }

  const out = { set: [] as HeaderPair[], remove: [] as string[] };
  if (reject === undefined) {
    normalize(headers, read, set, table, out);
    if (route !== undefined) out.set.push([ROUTE_HEADER, route]);
    else if (routeHeaderPresent) out.remove.push(ROUTE_HEADER);
  }
  return {
    service,
    requested,
    route,
    setHeaders: out.set,
    removeHeaders: out.remove,
    clearRouteCache: reject === undefined && (route !== undefined || routeHeaderPresent),
    reject,
    outcomes,
    set,
    source: read.source,
    problems: read.problems,
  };
}
