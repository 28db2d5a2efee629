import type { FastifyPluginCallback, FastifyRequest, RouteOptions } from "fastify";
import fp from "fastify-plugin";
import { context, type Context } from "@opentelemetry/api";
import type { OverrideSet } from "@detour/core";
import { createRequestScope, type RequestOverrideOptions, type RequestScope } from "@detour/otel";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The override this request carried (the empty set when none). Set by the detour plugin's
     * onRequest hook; null only in onRequest hooks registered before the plugin.
     */
    detour: OverrideSet;
  }
}

export type DetourPluginOptions = RequestOverrideOptions;

/** Where the request's context is kept so later hooks and the handler can re-enter it. */
const kDetourContext = Symbol("detour.context");

interface RequestWithContext {
  [kDetourContext]?: Context | null;
}

/** Route-level hooks (route options) whose first argument is the request. */
const ROUTE_HOOKS = [
  "onRequest",
  "preParsing",
  "preValidation",
  "preHandler",
  "preSerialization",
  "onSend",
  "onResponse",
  "onError",
  "onTimeout",
  "onRequestAbort",
] as const;

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Runs `fn` inside the context stored on its first argument (the request). The wrapper keeps
 * `fn`'s arity and async-ness: Fastify validates hooks by `length` and `constructor.name`
 * (lib/route.js) after onRoute hooks ran, and tells callback hooks from promise hooks by them.
 */
function reenter(fn: AnyFunction): AnyFunction {
  const isAsync = fn.constructor.name === "AsyncFunction";
  const wrapped: AnyFunction = isAsync
    ? async function (this: unknown, ...args: unknown[]) {
        const ctx = (args[0] as RequestWithContext | undefined)?.[kDetourContext];
        return ctx ? context.with(ctx, () => fn.apply(this, args)) : fn.apply(this, args);
      }
    : function (this: unknown, ...args: unknown[]) {
        const ctx = (args[0] as RequestWithContext | undefined)?.[kDetourContext];
        return ctx ? context.with(ctx, () => fn.apply(this, args)) : fn.apply(this, args);
      };
  Object.defineProperty(wrapped, "length", { value: fn.length });
  Object.defineProperty(wrapped, "name", { value: fn.name });
  return wrapped;
}

const plugin: FastifyPluginCallback<DetourPluginOptions> = (fastify, options, done) => {
  let scope: RequestScope;
  try {
    scope = createRequestScope(options, "@detour/fastify");
  } catch (error) {
    done(error as Error);
    return;
  }
  fastify.decorateRequest("detour", null as unknown as OverrideSet);
  fastify.decorateRequest(kDetourContext, null);

  // Callback style on purpose: only `context.with(ctx, done)` runs the rest of the hook chain
  // inside the context; an async hook's continuation would run outside it (fastify/help#571).
  fastify.addHook("onRequest", function detourOnRequest(request, reply, hookDone) {
    const incoming = scope.open(request.raw, reply.raw, request.log);
    request.detour = incoming.set;
    (request as RequestWithContext)[kDetourContext] = incoming.context;
    if (scope.responseHeader !== undefined) void reply.header(scope.responseHeader, incoming.set.toString());
    scope.run(incoming, hookDone);
  });

  // As @fastify/otel does: re-enter the request's context in route-level hooks and the handler,
  // so a hook chain resumed from a foreign context (a user-land queue, a pooled callback) still
  // hands the handler the request's override.
  fastify.addHook("onRoute", (route: RouteOptions) => {
    for (const name of ROUTE_HOOKS) {
      const hooks: unknown = (route as unknown as Record<string, unknown>)[name];
      if (typeof hooks === "function") {
        (route as unknown as Record<string, unknown>)[name] = reenter(hooks as AnyFunction);
      } else if (Array.isArray(hooks)) {
        (route as unknown as Record<string, unknown>)[name] = hooks.map((hook: unknown) =>
          typeof hook === "function" ? reenter(hook as AnyFunction) : hook,
        );
      }
    }
    route.handler = reenter(route.handler as AnyFunction) as RouteOptions["handler"];
  });

  done();
};

/**
 * Fastify 5 plugin: reads the override from each incoming request, puts the parsed set on
 * `request.detour`, and runs the rest of the request (later hooks, body parsing, the handler,
 * onSend/onResponse/onError) inside an OpenTelemetry context carrying it, so outbound calls made
 * while handling the request forward it. Wrapped with fastify-plugin so it applies to the whole
 * application; register it before your routes. Options are checked at registration.
 */
export const detourPlugin = fp(plugin, { fastify: "5.x", name: "@detour/fastify" });

/** The context a request is handled in (for code that is handed the request, not called in it). */
export function requestContext(request: FastifyRequest): Context | undefined {
  return (request as RequestWithContext)[kDetourContext] ?? undefined;
}
