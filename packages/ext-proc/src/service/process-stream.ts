import type { Logger } from "pino";
import type { RoutingTable } from "../decision/routing-table.js";
import type { ExtProcMetrics } from "../metrics/ext-proc-metrics.js";
import { readMessage } from "../protobuf/read-message.js";
import { continueResponse } from "../protobuf/response-encoder.js";
import type { IncomingMessage } from "../protobuf/stream-message.js";
import type { TrustTable } from "../trust/trust-table.js";
import { inArrivalOrder } from "./arrival-order.js";
import { callIdentity, type CallIdentity, type ProcessCall } from "./process-call.js";
import { answerRequestHeaders } from "./request-headers-answer.js";

export interface ProcessStreamDeps {
  /** The routing table in force; read per message so a reload applies to the next request. */
  table(): RoutingTable;
  /**
   * Edge trust compiled from the same config, read per message like the table. Used for role
   * `edge` and for `trust: token` workloads; without it those route like outbound.
   */
  trust?(): TrustTable;
  readonly metrics: ExtProcMetrics;
  readonly logger: Logger;
  /** Called once when a stream opens and once when it is over, however it ended. */
  onOpen?(call: ProcessCall): void;
  onClose?(call: ProcessCall): void;
}

/** The trust table when this call is under edge trust: the edge itself, or a `trust: token` workload. */
function trustFor(deps: ProcessStreamDeps, identity: CallIdentity): TrustTable | undefined {
  const trust = deps.trust?.();
  if (trust === undefined) return undefined;
  if (identity.role === "edge") return trust;
  return identity.workload !== undefined && trust.tokenWorkloads.has(identity.workload) ? trust : undefined;
}

/**
 * The Process stream loop (one stream per HTTP request): read each message, answer it, write
 * exactly one answer per message, in message order. Envoy usually ends a stream with RST_STREAM
 * (the server sees CANCELLED, envoyproxy/envoy#22727) or, with graceful close, a half-close; both
 * are normal. Nothing here throws into the gRPC server: an unreadable or unknown message ends the stream
 * cleanly (Envoy continues without ext_proc), and a failed decision answers "continue unchanged".
 */
export function createProcessHandler(deps: ProcessStreamDeps): (call: ProcessCall) => void {
  const { metrics, logger } = deps;
  return (call) => {
    const identity = callIdentity(call.metadata);
    let open = true;
    metrics.streamOpened();
    deps.onOpen?.(call);
    const close = () => {
      if (!open) return;
      open = false;
      metrics.streamClosed();
      deps.onClose?.(call);
    };
    const write = (answer: Buffer, observability: boolean): void => {
      // Observability mode: Envoy ignores answers, so none is sent.
      if (open && !call.cancelled && !observability) call.write(answer);
    };

    const handle = (incoming: IncomingMessage): void | Promise<void> => {
      if (!open || call.cancelled) return;
      const started = performance.now();
      const table = deps.table();
      const trust = trustFor(deps, identity);
      let message;
      try {
        message = readMessage(incoming, trust?.headerNames ?? table.headerNames);
      } catch (error) {
        logger.warn({ err: error }, "unreadable ext_proc message; ending the stream so Envoy continues without it");
        call.end();
        return;
      }
      const observability = message.observability;
      if (message.phase === "request-headers") {
        const answer = answerRequestHeaders(message, { table, trust, identity, metrics, logger, started });
        if (!(answer instanceof Promise)) return write(answer, observability);
        return answer.then((bytes) => write(bytes, observability));
      }
      metrics.recordUnexpectedMessage(message.phase);
      const answer = continueResponse(message.phase);
      if (answer === undefined) {
        // A message with no known oneof cannot get a matching answer; closing cleanly lets
        // Envoy carry on without ext_proc instead of failing the request.
        logger.warn({ workload: identity.workload }, "ext_proc message of unknown kind; ending the stream");
        call.end();
        return;
      }
      write(answer, observability);
    };

    call.on("data", inArrivalOrder(handle));
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
