import type { NextFunction, Request, RequestHandler, Response } from "express";
import { context, diag } from "@opentelemetry/api";
import type { OverrideSet } from "@detour/core";
import {
  incomingOverrides,
  propagationStatus,
  resolveRequestOptions,
  type RequestOverrideOptions,
} from "@detour/otel";

declare global {
  // Express merges its Request type with this global namespace (what @types/express documents).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The override this request carried (empty set when none); set by the detour middleware. */
      detour?: OverrideSet;
    }
  }
}

/** The part of a pino/console-style logger the middleware uses. */
export interface DetourLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface DetourMiddlewareOptions extends RequestOverrideOptions {
  /**
   * Where to log (pino's `logger` works as is). Default: OpenTelemetry's `diag`, which is silent
   * unless the application enabled it.
   */
  readonly logger?: DetourLogger;
}

const diagLogger: DetourLogger = {
  debug: (fields, message) => diag.debug(message, fields),
  warn: (fields, message) => diag.warn(message, fields),
};

/**
 * Express middleware (Express 5 and 4): reads the override from the incoming request, puts the
 * parsed set on `req.detour`, and runs the rest of the request (later middleware, the router,
 * handlers, error handlers) inside an OpenTelemetry context carrying it, so outbound calls made
 * while handling the request forward it. Mount it first, before body parsers and routers.
 * Options are checked here, once; bad ones throw DetourError.
 */
export function detour(options?: DetourMiddlewareOptions): RequestHandler {
  const resolved = resolveRequestOptions(options, "detour()");
  const logger = options?.logger ?? diagLogger;
  let checked = false;
  let warnedSuppressed = false;

  return function detourMiddleware(req: Request, res: Response, next: NextFunction): void {
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
    const active = context.active();
    const incoming = incomingOverrides(req.headers, resolved.read, active);
    req.detour = incoming.set;
    if (incoming.problems.length !== 0) {
      logger.debug(
        { source: incoming.source, problems: incoming.problems.map((p) => `${p.carrier ?? "?"}:${p.code}`) },
        "detour: ignored override carrier entries",
      );
    }
    if (incoming.suppressed && !warnedSuppressed) {
      warnedSuppressed = true;
      logger.warn(
        { path: req.path },
        "detour: tracing is suppressed for this request (instrumentation-http ignoreIncomingRequestHook?); its outbound calls will not carry the override",
      );
    }
    if (resolved.responseHeader !== undefined) res.setHeader(resolved.responseHeader, incoming.set.toString());
    // Listeners on req/res (body parsers, on-finished) run in the emitter's context otherwise.
    // A no-op when instrumentation-http already bound them to the context it extracted.
    context.bind(incoming.context, req);
    context.bind(incoming.context, res);
    // Usually the propagator (instrumentation-http) already built this very context and the
    // request runs in it: entering it again would change nothing and costs a context switch.
    if (incoming.context === active) next();
    else context.with(incoming.context, next);
  };
}
