import type { Logger } from "pino";
import { decide, PASS_THROUGH, type RouteDecision } from "../decision/route-decision.js";
import type { RoutingTable } from "../decision/routing-table.js";
import { decideEdge, decideTokenHop } from "../decision/trust-decision.js";
import type { ExtProcMetrics } from "../metrics/ext-proc-metrics.js";
import { continueResponse, encodeDecision } from "../protobuf/response-encoder.js";
import type { StreamMessage } from "../protobuf/stream-message.js";
import { findToken, type TokenFinding } from "../trust/token-finding.js";
import type { TrustTable } from "../trust/trust-table.js";
import { logDecision, logTrust } from "./decision-log.js";
import type { CallIdentity } from "./process-call.js";

/** What answering one request_headers message needs besides the message. */
export interface AnswerContext {
  readonly table: RoutingTable;
  /** Edge trust, when this call is under it (role `edge`, or a `trust: token` workload). */
  readonly trust: TrustTable | undefined;
  readonly identity: CallIdentity;
  readonly metrics: ExtProcMetrics;
  readonly logger: Logger;
  /** `performance.now()` when the message arrived, for the processing-time histogram. */
  readonly started: number;
}

/** A token finding that could not be produced (a bug, not bad input): treated as a bad token. */
const UNVERIFIABLE: TokenFinding = Object.freeze({ status: "rejected", reason: "malformed", source: "header" });

function record(context: AnswerContext, decision: RouteDecision): void {
  context.metrics.recordDecision(decision, (performance.now() - context.started) / 1000);
  if (context.logger.isLevelEnabled("debug")) logDecision(context.logger, decision, context.identity.workload);
}

/**
 * The encoded answer to a request_headers message: the pure decision (under edge trust when the
 * call is), recorded in metrics and the log. Nothing here throws: a failure answers "continue
 * unchanged", so the request is routed to the baseline rather than failed. Asynchronous only
 * while a token's signature is being checked.
 */
export function answerRequestHeaders(message: StreamMessage, context: AnswerContext): Buffer | Promise<Buffer> {
  return context.trust === undefined ? answerOutbound(message, context) : answerTrusted(message, context.trust, context);
}

function answerOutbound(message: StreamMessage, context: AnswerContext): Buffer {
  const { workload } = context.identity;
  let decision: RouteDecision = PASS_THROUGH;
  let answer: Buffer;
  try {
    decision = decide({ authority: message.authority, headers: message.headers, workload }, context.table);
    answer = encodeDecision(decision);
  } catch (error) {
    context.logger.warn({ err: error, workload }, "route decision failed; the request continues on the baseline");
    answer = continueResponse("request-headers");
  }
  record(context, decision);
  return answer;
}

/** The token verdict (maybe async) first, then the pure trust decision. */
function answerTrusted(message: StreamMessage, trust: TrustTable, context: AnswerContext): Buffer | Promise<Buffer> {
  const { workload, role } = context.identity;
  const { logger, metrics } = context;
  const finish = (finding: TokenFinding): Buffer => {
    let answer: Buffer;
    let decision: RouteDecision = PASS_THROUGH;
    try {
      const trusted =
        role === "edge"
          ? decideEdge({ authority: message.authority, headers: message.headers, sourceAddress: message.sourceAddress }, context.table, trust, finding)
          : decideTokenHop({ authority: message.authority, headers: message.headers, workload }, context.table, trust, finding);
      decision = trusted;
      answer = encodeDecision(trusted);
      metrics.recordTrust(role, trusted.trust);
      logTrust(logger, role, trusted, workload);
    } catch (error) {
      // Without the edge marker Envoy's fallback route removes every carrier: safe for overrides.
      logger.warn({ err: error, workload, role }, "trust decision failed; the request continues without an override decision");
      answer = continueResponse("request-headers");
    }
    record(context, decision);
    return answer;
  };
  const finding = findToken(message.headers, trust, { cookieAndQuery: role === "edge" });
  if (!(finding instanceof Promise)) return finish(finding);
  return finding.then(finish, (error: unknown) => {
    logger.warn({ err: error, role }, "token check failed; treating the token as malformed");
    return finish(UNVERIFIABLE);
  });
}
