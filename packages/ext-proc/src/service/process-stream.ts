import type { Metadata, ServerDuplexStream } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { ROLE_METADATA, WORKLOAD_METADATA } from "../constants.js";
import { decide, PASS_THROUGH, type RouteDecision, type Role } from "../decision/route-decision.js";
import type { RoutingTable } from "../decision/routing-table.js";
import type { ExtProcMetrics } from "../server/metrics.js";
import { continueResponse, encodeDecision, readMessage, type IncomingMessage } from "./protobuf-adapter.js";

export interface ProcessStreamDeps {
  /** The routing table in force; read per message so a reload applies to the next request. */
  table(): RoutingTable;
  readonly metrics: ExtProcMetrics;
  readonly logger: Logger;
  /** Called once when a stream opens and once when it is over, however it ended. */
  onOpen?(call: ProcessCall): void;
  onClose?(call: ProcessCall): void;
}

export type ProcessCall = ServerDuplexStream<IncomingMessage, Buffer>;

function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" && value.length !== 0 ? value : undefined;
}

function roleFrom(metadata: Metadata): Role {
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

    call.on("data", (incoming: IncomingMessage) => {
      if (!open || call.cancelled) return;
      const started = performance.now();
      const table = deps.table();
      let answer: Buffer | undefined;
      let message;
      try {
        message = readMessage(incoming, table.headerNames);
      } catch (error) {
        logger.warn({ err: error }, "unreadable ext_proc message; ending the stream so Envoy continues without it");
        call.end();
        return;
      }
      if (message.phase === "request-headers") {
        let decision: RouteDecision = PASS_THROUGH;
        try {
          decision = decide({ authority: message.authority, headers: message.headers, workload, role }, table);
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
