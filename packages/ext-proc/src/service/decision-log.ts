import type { Logger } from "pino";
import { PASS_THROUGH, type RouteDecision, type Role } from "../decision/route-decision.js";
import type { TrustedDecision } from "../decision/trust-decision.js";

/** Debug lines for one routing decision: its carrier problems, then what was requested and applied. */
export function logDecision(logger: Logger, decision: RouteDecision, workload: string | undefined): void {
  if (decision === PASS_THROUGH) return;
  const outcome = decision.reject !== undefined ? "rejected" : decision.route !== undefined ? "applied" : decision.requested !== undefined ? "fallback" : "pass";
  if (decision.problems.length !== 0) {
    logger.debug(
      { workload, service: decision.service, outcome, problems: decision.problems.map((problem) => problem.code), source: decision.source },
      "override carrier problems",
    );
  }
  logger.debug(
    { workload, service: decision.service, requested: decision.requested, applied: decision.route, outcome, override: decision.set.toString(), source: decision.source },
    "route decision",
  );
}

/** A refused override at info (operators watch for these), an admitted one at debug. */
export function logTrust(logger: Logger, role: Role, decision: TrustedDecision, workload: string | undefined): void {
  const trust = decision.trust;
  // Never the token or a header value: the reason, where the token travelled, and who minted it.
  if (trust.rejections.length !== 0) {
    logger.info({ role, workload, service: decision.service, reasons: trust.rejections, tokenSource: trust.tokenSource }, "override refused");
  } else if (trust.via !== undefined && logger.isLevelEnabled("debug")) {
    logger.debug({ role, workload, service: decision.service, via: trust.via, tokenSource: trust.tokenSource, kid: trust.kid, sub: trust.subject, override: decision.set.toString() }, "override admitted");
  }
}
