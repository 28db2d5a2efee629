import type { Logger } from "pino";
import { ROLE_METADATA, WORKLOAD_METADATA } from "../constants.js";
import { decide, PASS_THROUGH, type RouteDecision, type Role } from "../decision/route-decision.js";
import type { RoutingTable } from "../decision/routing-table.js";
import { decideEdge, decideTokenHop, type TrustedDecision } from "../decision/trust-decision.js";
import type { ExtProcMetrics } from "../server/metrics.js";
import { findToken, type TokenFinding } from "../trust/token-finding.js";
import type { TrustTable } from "../trust/trust-table.js";
import { continueResponse, encodeDecision, readMessage, type IncomingMessage, type StreamMessage } from "./protobuf-adapter.js";

export interface ProcessStreamDeps {
  /** The routing table in force; read per message so a reload applies to the next request. */
  table(): RoutingTable;
  /**
   * Edge trust compiled from the same config (issue 7), read per message like the table. Used
   * for role `edge` and for `trust: token` workloads; without it those route like outbound.
   */
  trust?(): TrustTable;
  readonly metrics: ExtProcMetrics;
  readonly logger: Logger;
  /** Called once when a stream opens and once when it is over, however it ended. */
  onOpen?(call: ProcessCall): void;
  onClose?(call: ProcessCall): void;
}

/** Call metadata as both transports expose it (grpc-js `Metadata.get`; values may be Buffers for -bin keys). */
export interface CallMetadata {
  get(key: string): readonly unknown[];
}

/**
 * The part of a bidi server call the Process loop uses; grpc-js's `ServerDuplexStream` and the
 * node:http2 transport's `GrpcServerCall` both have it, so the loop does not know which one serves.
 */
export interface ProcessCall {
  readonly metadata: CallMetadata;
  readonly cancelled: boolean;
  write(message: Buffer): boolean;
  end(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

function firstValue(metadata: CallMetadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" && value.length !== 0 ? value : undefined;
}

function roleFrom(metadata: CallMetadata): Role {
  return firstValue(metadata, ROLE_METADATA) === "edge" ? "edge" : "outbound";
}

function logDecision(logger: Logger, decision: RouteDecision, workload: string | undefined): void {
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

/** A token finding that could not be produced (a bug, not bad input): treated as a bad token. */
const UNVERIFIABLE: TokenFinding = Object.freeze({ status: "rejected", reason: "malformed", source: "header" });

function logTrust(logger: Logger, role: Role, decision: TrustedDecision, workload: string | undefined): void {
  const trust = decision.trust;
  // Never the token or a header value: the reason, where the token travelled, and who minted it.
  if (trust.rejections.length !== 0) {
    logger.info({ role, workload, service: decision.service, reasons: trust.rejections, tokenSource: trust.tokenSource }, "override refused");
  } else if (trust.via !== undefined && logger.isLevelEnabled("debug")) {
    logger.debug({ role, workload, service: decision.service, via: trust.via, tokenSource: trust.tokenSource, kid: trust.kid, sub: trust.subject, override: decision.set.toString() }, "override admitted");
  }
}

/**
 * The Process stream loop (one stream per HTTP request): translate each message, decide, write
 * exactly one answer per message. Envoy usually ends a stream with RST_STREAM (the server sees
 * CANCELLED, envoyproxy/envoy#22727) or, with graceful close, a half-close; both are normal.
 * Nothing here throws into grpc-js: a failure answers "continue unchanged" so the request is
 * routed to the baseline rather than failed.
 */
export function createProcessHandler(deps: ProcessStreamDeps): (call: ProcessCall) => void {
  const { metrics, logger } = deps;
  return (call) => {
    const workload = firstValue(call.metadata, WORKLOAD_METADATA);
    const role = roleFrom(call.metadata);
    let open = true;
    metrics.streamOpened();
    deps.onOpen?.(call);
    const close = () => {
      if (!open) return;
      open = false;
      metrics.streamClosed();
      deps.onClose?.(call);
    };

    /** Answers a request_headers message under edge trust: token verdict (maybe async) first, then the pure decision. */
    const answerTrusted = (message: StreamMessage, table: RoutingTable, trust: TrustTable, started: number): void | Promise<void> => {
      const finish = (finding: TokenFinding): void => {
        let answer: Buffer;
        let decision: RouteDecision = PASS_THROUGH;
        try {
          const trusted =
            role === "edge"
              ? decideEdge({ authority: message.authority, headers: message.headers, sourceAddress: message.sourceAddress }, table, trust, finding)
              : decideTokenHop({ authority: message.authority, headers: message.headers, workload }, table, trust, finding);
          decision = trusted;
          answer = encodeDecision(trusted);
          metrics.recordTrust(role, trusted.trust);
          logTrust(logger, role, trusted, workload);
        } catch (error) {
          // Without the edge marker Envoy's fallback route removes every carrier: safe for overrides.
          logger.warn({ err: error, workload, role }, "trust decision failed; the request continues without an override decision");
          answer = continueResponse("request-headers")!;
        }
        metrics.recordDecision(decision, (performance.now() - started) / 1000);
        if (logger.isLevelEnabled("debug")) logDecision(logger, decision, workload);
        if (open && !call.cancelled && !message.observability) call.write(answer);
      };
      const finding = findToken(message.headers, trust, { cookieAndQuery: role === "edge" });
      if (!(finding instanceof Promise)) return finish(finding);
      return finding.then(finish, (error: unknown) => {
        logger.warn({ err: error, role }, "token check failed; treating the token as malformed");
        finish(UNVERIFIABLE);
      });
    };

    const handle = (incoming: IncomingMessage): void | Promise<void> => {
      if (!open || call.cancelled) return;
      const started = performance.now();
      const table = deps.table();
      const trust = deps.trust?.();
      const trusted = trust !== undefined && (role === "edge" || (workload !== undefined && trust.tokenWorkloads.has(workload)));
      let answer: Buffer | undefined;
      let message;
      try {
        message = readMessage(incoming, trusted ? trust.headerNames : table.headerNames);
      } catch (error) {
        logger.warn({ err: error }, "unreadable ext_proc message; ending the stream so Envoy continues without it");
        call.end();
        return;
      }
      if (message.phase === "request-headers" && trusted) {
        return answerTrusted(message, table, trust, started);
      }
      if (message.phase === "request-headers") {
        let decision: RouteDecision = PASS_THROUGH;
        try {
          decision = decide({ authority: message.authority, headers: message.headers, workload }, table);
          answer = encodeDecision(decision);
        } catch (error) {
          logger.warn({ err: error, workload }, "route decision failed; the request continues on the baseline");
          answer = continueResponse("request-headers");
        }
        metrics.recordDecision(decision, (performance.now() - started) / 1000);
        if (logger.isLevelEnabled("debug")) logDecision(logger, decision, workload);
      } else {
        metrics.recordUnexpectedMessage(message.phase);
        answer = continueResponse(message.phase);
        if (answer === undefined) {
          // A message with no known oneof cannot get a matching answer; closing cleanly lets
          // Envoy carry on without ext_proc instead of failing the request.
          logger.warn({ workload }, "ext_proc message of unknown kind; ending the stream");
          call.end();
          return;
        }
      }
      if (!message.observability && answer !== undefined) call.write(answer);
    };

    // Answers must leave in message order; while a token check is pending, later messages wait.
    let queue: Promise<void> | undefined;
    call.on("data", (incoming: IncomingMessage) => {
      if (queue !== undefined) {
        const next: Promise<void> = queue.then(() => handle(incoming));
        queue = next;
        void next.then(() => {
          if (queue === next) queue = undefined;
        });
        return;
      }
      const result = handle(incoming);
      if (result instanceof Promise) {
        queue = result;
        void result.then(() => {
          if (queue === result) queue = undefined;
        });
      }
    });
    call.on("end", () => {
      // Envoy half-closed (graceful close): finish with OK.
      close();
      if (!call.cancelled) call.end();
    });
    call.on("cancelled", close);
    call.on("close", close);
    call.on("finish", close);
    call.on("error", (error: Error & { code?: number }) => {
      close();
      // CANCELLED (1) is how Envoy ends most streams; anything else is worth a look.
      if (error.code !== 1 && logger.isLevelEnabled("debug")) logger.debug({ err: error }, "ext_proc stream error");
    });
  };
}
