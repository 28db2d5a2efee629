import { Counter, Gauge, Registry, type LabelValues } from "prom-client";
import { COUNTED_VERSIONS_LIMIT, LATENCY_BUCKETS_SECONDS } from "../constants.js";
import { OUTCOMES, type Outcome, type RouteDecision } from "../decision/route-decision.js";
import type { TrustVerdict } from "../decision/trust-decision.js";
import type { VersionCounts } from "../server/topology-status.js";
import { CountedHistogram } from "./counted-histogram.js";

/** Label value for decisions whose :authority is not a topology service (keeps cardinality bounded). */
export const UNKNOWN_SERVICE_LABEL = "(unknown)";

/** Decisions of one service counted since the last scrape, by outcome. */
type PendingCounts = Record<Outcome, number>;

export interface ExtProcMetrics {
  readonly registry: Registry;
  recordDecision(decision: RouteDecision, seconds: number): void;
  streamOpened(): void;
  streamClosed(): void;
  recordReload(result: "success" | "failure"): void;
  recordUnexpectedMessage(phase: string): void;
  /** Edge trust: what was admitted and every refused override attempt, by reason. */
  recordTrust(role: string, verdict: TrustVerdict): void;
  /**
   * Decisions that named a version, and those routed to it, per service and version (for the
   * status endpoint; not Prometheus labels: requested versions come from requests).
   */
  versionCounts(): VersionCounts;
}

/**
 * The server's Prometheus metrics. What every request touches (the request count, decisions by
 * service and outcome, the processing-time histogram, the open-stream gauge) is counted in plain
 * numbers and handed to prom-client when it collects (a scrape): prom-client's `inc`, `observe`
 * and `set` validate and hash the labels on every call, even with no labels or through a cached
 * `labels()` child (~2.5 µs per request for the four of them, measured), a visible share of a
 * request's CPU. What a scrape shows is the same.
 */
export function createMetrics(registry: Registry = new Registry()): ExtProcMetrics {
  let requestsPending = 0;
  let activeStreams = 0;
  new Counter({
    name: "detour_ext_proc_requests_total",
    help: "request_headers messages processed (one per HTTP request that reached ext_proc)",
    registers: [registry],
    collect() {
      if (requestsPending === 0) return;
      this.inc(requestsPending);
      requestsPending = 0;
    },
  });
  const decisions = new Counter({
    name: "detour_ext_proc_decisions_total",
    help: "routing decisions by destination service and outcome (requested, applied, fallback, rejected, invalid, conflict, injected)",
    labelNames: ["service", "outcome"] as const,
    registers: [registry],
    collect() {
      for (const [service, counts] of pending) {
        for (const outcome of OUTCOMES) {
          const count = counts[outcome];
          if (count === 0) continue;
          counts[outcome] = 0;
          this.inc({ service, outcome } satisfies LabelValues<"service" | "outcome">, count);
        }
      }
    },
  });
  const latency = new CountedHistogram({
    name: "detour_ext_proc_processing_seconds",
    help: "time from receiving request headers to writing the answer",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  new Gauge({
    name: "detour_ext_proc_active_streams",
    help: "ext_proc streams currently open",
    registers: [registry],
    collect() {
      this.set(activeStreams);
    },
  });
  const reloads = new Counter({
    name: "detour_ext_proc_config_reloads_total",
    help: "config reloads by result (a failed reload keeps the last good config)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const unexpected = new Counter({
    name: "detour_ext_proc_unexpected_messages_total",
    help: "messages of a phase detour does not process (Envoy's processing_mode should SKIP them)",
    labelNames: ["phase"] as const,
    registers: [registry],
  });

  // Every dropped entry or ignored carrier, by its @detour/core problem code (a closed set) and
  // carrier (x-detour, baggage or a configured alias), so hostile or broken clients show up by kind.
  const carrierProblems = new Counter({
    name: "detour_ext_proc_carrier_problems_total",
    help: "override carrier problems by reason (missing-equals, invalid-service, invalid-version, too-many-entries, value-too-long, bad-percent-encoding, bad-baggage-member, baggage-over-limit) and carrier",
    labelNames: ["reason", "carrier"] as const,
    registers: [registry],
  });

  const trustRejections = new Counter({
    name: "detour_ext_proc_trust_rejections_total",
    help: "override attempts refused by edge trust, by role (edge, outbound) and reason (expired, bad-signature, untrusted-carrier, ... see docs/security.md)",
    labelNames: ["role", "reason"] as const,
    registers: [registry],
  });
  const trustAdmissions = new Counter({
    name: "detour_ext_proc_trust_admissions_total",
    help: "overrides admitted by edge trust, by role and how (token, cidr, principal)",
    labelNames: ["role", "via"] as const,
    registers: [registry],
  });

  // Bounded like the label values: topology services plus UNKNOWN_SERVICE_LABEL.
  const pending = new Map<string, PendingCounts>();
  function pendingFor(service: string): PendingCounts {
    let found = pending.get(service);
    if (found === undefined) {
      found = { requested: 0, applied: 0, fallback: 0, rejected: 0, invalid: 0, conflict: 0, injected: 0 };
      pending.set(service, found);
    }
    return found;
  }

  // Bounded by COUNTED_VERSIONS_LIMIT pairs: past it, new pairs are not counted.
  const byVersion = new Map<string, Map<string, { requested: number; applied: number }>>();
  let countedPairs = 0;
  function countVersion(service: string, version: string, applied: boolean): void {
    let versions = byVersion.get(service);
    let entry = versions?.get(version);
    if (entry === undefined) {
      if (countedPairs >= COUNTED_VERSIONS_LIMIT) return;
      countedPairs++;
      entry = { requested: 0, applied: 0 };
      if (versions === undefined) byVersion.set(service, (versions = new Map()));
      versions.set(version, entry);
    }
    entry.requested++;
    if (applied) entry.applied++;
  }

  return {
    registry,
    recordDecision(decision, seconds) {
      requestsPending++;
      latency.observe(seconds);
      for (const problem of decision.problems) carrierProblems.inc({ reason: problem.code, carrier: problem.carrier ?? "unknown" });
      const outcomes = decision.outcomes;
      if (outcomes.length === 0) return;
      const counts = pendingFor(decision.service ?? UNKNOWN_SERVICE_LABEL);
      for (const outcome of outcomes) counts[outcome]++;
      if (decision.service !== undefined && decision.requested !== undefined) countVersion(decision.service, decision.requested, decision.route === decision.requested);
    },
    versionCounts: () => byVersion,
    streamOpened: () => {
      activeStreams++;
    },
    streamClosed: () => {
      activeStreams--;
    },
    recordReload: (result) => reloads.inc({ result }),
    recordUnexpectedMessage: (phase) => unexpected.inc({ phase }),
    recordTrust(role, verdict) {
      if (verdict.via !== undefined) trustAdmissions.inc({ role, via: verdict.via });
      for (const reason of verdict.rejections) trustRejections.inc({ role, reason });
    },
  };
}
