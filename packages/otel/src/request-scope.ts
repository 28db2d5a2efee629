import type { IncomingMessage, ServerResponse } from "node:http";
import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { bindEmitter } from "./bind-emitter.js";
import { incomingMessageOverrides, type IncomingOverrides } from "./incoming-overrides.js";
import { propagationStatus } from "./propagation-status.js";
import { resolveRequestOptions, type RequestOverrideOptions } from "./request-options.js";

/** The part of a pino/console-style logger framework glue logs through (pino's logger works as is). */
export interface DetourLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * What framework glue does per request (@detour/express, @detour/fastify, or your own): open the
 * request's scope, keep `incoming.set` where handlers find it, set the opt-in response header,
 * then run the rest of the request with `run`.
 */
export interface RequestScope {
  /** The opt-in response header to set to `incoming.set.toString()`; undefined when off. */
  readonly responseHeader: string | undefined;
  /**
   * Reads the request's override (see incomingOverrides), logs dropped carrier entries at debug,
   * warns once per scope when outbound calls cannot carry overrides, and makes the request's and
   * response's listeners run in the request's context (body parsers and `finish` handlers run
   * there): it binds them unless the request arrived in the root context and needs no other.
   */
  open(request: IncomingMessage, response: ServerResponse, logger: DetourLogger): IncomingOverrides;
  /** Runs `next` inside `incoming.context`, directly when that context is already the active one. */
  run(incoming: IncomingOverrides, next: () => void): void;
}

/** The path of a request target, without the query (which may carry a token). */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Creates the per-request scope for one middleware or plugin instance. Options are checked here,
 * once: a mistake throws DetourError naming `where` (the function the user called).
 */
export function createRequestScope(options: RequestOverrideOptions | undefined, where: string): RequestScope {
  const resolved = resolveRequestOptions(options, where);
  let checked = false;
  let warnedSuppressed = false;

  return {
    responseHeader: resolved.responseHeader,
    open(request, response, logger) {
      if (!checked) {
        checked = true;
        const status = propagationStatus();
        if (!status.contextManager || !status.propagator) {
          logger.warn(
            { contextManager: status.contextManager, propagator: status.propagator },
            "detour: outbound calls will not carry overrides: call setupDetour() from @detour/otel at startup or start an OpenTelemetry SDK first",
          );
        }
      }
      const arrival = context.active();
      const incoming = incomingMessageOverrides(request.headers, resolved.read, arrival);
      if (incoming.problems.length !== 0) {
        logger.debug(
          { source: incoming.source, problems: incoming.problems.map((p) => `${p.carrier ?? "?"}:${p.code}`) },
          "detour: ignored override carrier entries",
        );
      }
      if (incoming.suppressed && !warnedSuppressed) {
        warnedSuppressed = true;
        logger.warn(
          { path: pathOf(request.url) },
          "detour: tracing is suppressed for this request (instrumentation-http ignoreIncomingRequestHook?); its outbound calls will not carry the override",
        );
      }
      // Listeners on req/res (body parsers, on-finished, Fastify's onResponse) run in the context
      // their event is emitted in: for the socket's events (data, end, finish), the one the
      // connection runs in. The glue cannot see that one; it is the root context unless the server
      // was started inside another. So binding is skipped only for a request that needs the root
      // context and arrived in it (most requests, which carry no override): anything else, an
      // override, a removed one, or a context entered by code before the glue, is bound. Left to
      // instrumentation-http when it bound them already.
      if (incoming.context !== ROOT_CONTEXT || arrival !== ROOT_CONTEXT) {
        bindEmitter(incoming.context, request);
        bindEmitter(incoming.context, response);
      }
      return incoming;
    },
    run(incoming, next) {
      // Usually the propagator (instrumentation-http) already built this very context and the
      // request runs in it: entering it again would change nothing and costs a context switch.
      if (incoming.context === context.active()) next();
      else context.with(incoming.context, next);
    },
  };
}
