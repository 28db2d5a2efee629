import type { NextFunction, Request, RequestHandler, Response } from "express";
import { diag } from "@opentelemetry/api";
import type { OverrideSet } from "@detour/core";
import { createRequestScope, type DetourLogger, type RequestOverrideOptions } from "@detour/otel";

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

export type { DetourLogger };

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
  const scope = createRequestScope(options, "detour()");
  const logger = options?.logger ?? diagLogger;
  return function detourMiddleware(req: Request, res: Response, next: NextFunction): void {
    const incoming = scope.open(req, res, logger);
    req.detour = incoming.set;
    if (scope.responseHeader !== undefined) res.setHeader(scope.responseHeader, incoming.set.toString());
    scope.run(incoming, next);
  };
}
