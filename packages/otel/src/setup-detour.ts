import { channel } from "node:diagnostics_channel";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { context, diag, propagation, type TextMapPropagator } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import type { HttpInstrumentationConfig } from "@opentelemetry/instrumentation-http";
import type { UndiciInstrumentationConfig } from "@opentelemetry/instrumentation-undici";
import { BAGGAGE_HEADER, DETOUR_HEADER, DetourError } from "@detour/core";
import { DetourPropagator } from "./detour-propagator.js";
import { injectHttpRequests, type HttpInjection } from "./http-injection.js";
import { setDefaultReadOptions } from "./incoming-overrides.js";
import { registerOpenTelemetryInstrumentations } from "./opentelemetry-instrumentations.js";
import { propagationStatus } from "./propagation-status.js";
import { carrierConfigFromOptions, type ReadOverrideOptions } from "./read-options.js";
import { injectUndiciRequests, UNDICI_REQUEST_CREATE } from "./undici-injection.js";

export interface SetupDetourOptions extends ReadOverrideOptions {
  /**
   * How outbound calls get the propagation headers.
   *
   * "light": detour adds them itself when a request is created, through Node's diagnostics
   * channels (undici and global fetch; node:http where Node publishes
   * `http.client.request.created`, wrapped `request`/`get` where it does not). No spans, no
   * OpenTelemetry instrumentation. Incoming requests are read by the framework glue
   * (@detour/express, @detour/fastify, createRequestScope).
   *
   * "opentelemetry": @opentelemetry/instrumentation-http and -undici, which create a span for every
   * request (non-recording without an SDK) and also read incoming requests of plain node:http
   * servers.
   *
   * Default: "light" when no OpenTelemetry SDK is registered (no propagator, no context manager),
   * "opentelemetry" when one is. A client an SDK's instrumentation already covers is left to it in
   * both modes (two would send every header twice).
   */
  readonly outbound?: "light" | "opentelemetry";
  /**
   * node:http/node:https clients: `true` (default) covers them unless an SDK's instrumentation
   * already does, `false` never does. With `outbound: "opentelemetry"`, an object is
   * instrumentation-http's config.
   */
  readonly http?: boolean | HttpInstrumentationConfig;
  /**
   * Global `fetch` and undici: `true` (default) covers them unless something already listens on
   * undici's request channel (an SDK's instrumentation-undici), `false` never does. With
   * `outbound: "opentelemetry"`, an object is instrumentation-undici's config.
   */
  readonly undici?: boolean | UndiciInstrumentationConfig;
  /**
   * Include W3CTraceContextPropagator when detour installs the propagator itself (default true):
   * `traceparent` is forwarded as it arrived, which keeps traces whole across services that do
   * trace. Ignored when an SDK's propagator is already registered.
   */
  readonly traceContext?: boolean;
}

/** What setupDetour did. */
export interface DetourSetup {
  /**
   * "installed": no OpenTelemetry propagator was registered, detour registered trace context +
   * baggage + detour. "composed": an SDK's propagator was registered; detour now runs after it.
   * "present": the global propagator already includes a DetourPropagator; nothing was changed.
   */
  readonly mode: "installed" | "composed" | "present";
  /** How the clients in `instrumentations` get the headers: detour's own channels or OpenTelemetry's instrumentations. */
  readonly outbound: "light" | "opentelemetry";
  /** "installed" when detour registered an AsyncLocalStorage context manager. */
  readonly contextManager: "installed" | "existing";
  /** The clients this call covers, the `outbound` way (those an SDK already covers are not repeated). */
  readonly instrumentations: readonly ("http" | "undici")[];
  readonly propagator: DetourPropagator;
  /** Undoes what this call registered (for tests and orderly shutdown). */
  shutdown(): void;
}

let active: DetourSetup | undefined;

/**
 * One call, before the application loads its HTTP clients, that makes every outbound HTTP call
 * (http/https, global fetch, undici) forward the override of the request being handled.
 *
 * Without an OpenTelemetry SDK it registers an AsyncLocalStorage context manager and a composite
 * propagator (trace context + baggage + detour), and adds the headers to outbound requests through
 * Node's diagnostics channels: no spans, no tracer, no exporter (the light install; `outbound`
 * chooses OpenTelemetry's instrumentations instead). With an SDK already started it keeps the
 * SDK's context manager and propagator, appends DetourPropagator to that propagator, and adds
 * OpenTelemetry instrumentations only for the clients the SDK did not cover. Call it after
 * `sdk.start()`. A second call returns the first call's result.
 */
export function setupDetour(options?: SetupDetourOptions): DetourSetup {
  if (active !== undefined) return active;
  const read = carrierConfigFromOptions(
    options === undefined ? undefined : { aliases: options.aliases, limits: options.limits },
    "setupDetour",
  );
  const detour = new DetourPropagator(read);
  const fields = propagation.fields();
  const hadContextManager = propagationStatus().contextManager;
  const outbound = chooseOutbound(options, fields.length !== 0 || hadContextManager);

  let contextManager: DetourSetup["contextManager"] = "existing";
  let installedManager: AsyncLocalStorageContextManager | undefined;
  if (!hadContextManager) {
    installedManager = new AsyncLocalStorageContextManager().enable();
    if (context.setGlobalContextManager(installedManager)) contextManager = "installed";
    else {
      installedManager.disable();
      installedManager = undefined;
      diag.warn("detour: a context manager is registered but does not keep context; overrides will not follow async work");
    }
  }

  let mode: DetourSetup["mode"];
  let previous: TextMapPropagator | undefined;
  if (fields.includes(DETOUR_HEADER)) {
    mode = "present";
  } else if (fields.length === 0) {
    const propagators: TextMapPropagator[] = [];
    if (options?.traceContext !== false) propagators.push(new W3CTraceContextPropagator());
    propagators.push(new W3CBaggagePropagator(), detour);
    registerPropagator(new CompositePropagator({ propagators }));
    mode = "installed";
  } else {
    previous = globalPropagator();
    // Detour runs last: its extract merges into the baggage the SDK's baggage propagator set,
    // and its inject rewrites that propagator's header with our member first (no duplicate).
    propagation.disable();
    registerPropagator(new CompositePropagator({ propagators: [previous, detour] }));
    mode = "composed";
    if (!fields.includes(BAGGAGE_HEADER)) {
      // OTEL_PROPAGATORS=tracecontext drops baggage: detour still forwards its own member and
      // x-detour, but other baggage (and services relying on it) will not travel.
      diag.info("detour: the registered propagator has no W3C baggage; forwarding x-detour and the detour member only");
    }
  }

  const nodeRequire = createRequire(import.meta.url);
  const httpOption = options?.http ?? true;
  const httpByOthers = httpOption !== false && httpInstrumented(nodeRequire);
  const coverHttp = httpOption !== false && !httpByOthers;
  const undiciOption = options?.undici ?? true;
  const coverUndici = undiciOption !== false && !channel(UNDICI_REQUEST_CREATE).hasSubscribers;
  const names: ("http" | "undici")[] = [];
  if (coverHttp) names.push("http");
  if (coverUndici) names.push("undici");

  const undo: (() => void)[] = [];
  let httpVia: HttpInjection | "instrumentation" | undefined;
  if (outbound === "light") {
    if (coverHttp) {
      const injection = injectHttpRequests();
      httpVia = injection.via;
      undo.push(injection.remove);
    }
    if (coverUndici) undo.push(injectUndiciRequests());
  } else {
    undo.push(
      registerOpenTelemetryInstrumentations({
        http: coverHttp ? (httpOption === true ? {} : httpOption) : false,
        undici: coverUndici ? (undiciOption === true ? {} : undiciOption) : false,
      }),
    );
    if (coverHttp) httpVia = "instrumentation";
  }
  // An SDK's instrumentation patched the CommonJS exports just now (httpInstrumented required
  // http); ESM named imports still see the originals unless synced, so sync for it as well.
  if (httpVia === "instrumentation" || httpByOthers) patchLoadedHttp(nodeRequire);

  setDefaultReadOptions(read);
  const setup: DetourSetup = {
    mode,
    outbound,
    contextManager,
    instrumentations: Object.freeze(names),
    propagator: detour,
    shutdown() {
      if (active !== setup) return;
      active = undefined;
      for (const step of undo) step();
      if (mode === "installed") propagation.disable();
      if (mode === "composed" && previous !== undefined) {
        propagation.disable();
        propagation.setGlobalPropagator(previous);
      }
      if (installedManager !== undefined) {
        installedManager.disable();
        context.disable();
      }
      setDefaultReadOptions(undefined);
    },
  };
  active = setup;
  diag.info(
    outbound === "light"
      ? "detour: light install: outbound headers added on diagnostics channels, no spans; incoming requests are read by the framework glue"
      : "detour: outbound headers added by OpenTelemetry instrumentations",
    { mode, contextManager, clients: names.join(","), http: httpVia ?? "not covered" },
  );
  return setup;
}

/**
 * The outbound mode: the option when given, else light unless an SDK is registered. An
 * instrumentation config object makes sense only with OpenTelemetry's instrumentations.
 */
function chooseOutbound(options: SetupDetourOptions | undefined, sdkRegistered: boolean): DetourSetup["outbound"] {
  const given = options?.outbound;
  if (given !== undefined && given !== "light" && given !== "opentelemetry") {
    throw new DetourError("invalid-options", `setupDetour: outbound must be "light" or "opentelemetry", got ${String(given)}`);
  }
  const outbound = given ?? (sdkRegistered ? "opentelemetry" : "light");
  if (outbound === "light") {
    for (const client of ["http", "undici"] as const) {
      const value: unknown = options?.[client];
      if (value !== undefined && typeof value !== "boolean") {
        throw new DetourError(
          "invalid-options",
          `setupDetour: ${client} is an instrumentation config, which needs outbound: "opentelemetry"; with the light install it is true or false`,
        );
      }
    }
  }
  return outbound;
}

/**
 * Requiring `http` lets any registered instrumentation (an SDK's) patch it now rather than
 * lazily, so the check sees it; shimmer marks wrapped functions with `__wrapped`.
 */
function httpInstrumented(nodeRequire: NodeJS.Require): boolean {
  const http = nodeRequire("node:http") as { request: { __wrapped?: boolean } };
  return http.request.__wrapped === true;
}

/**
 * Instrumentations patch through require hooks, which fire on the next `require`. Requiring the
 * built-ins here applies the patch at once even if the application (or a test runner) loaded
 * them earlier, and syncBuiltinESMExports copies the patched functions to the ESM named exports,
 * so `import { request } from "node:http"` is covered without the import-in-the-middle loader.
 * Code that saved a reference to `http.request` before this call is not covered.
 */
function patchLoadedHttp(nodeRequire: NodeJS.Require): void {
  nodeRequire("node:http");
  nodeRequire("node:https");
  syncBuiltinESMExports();
}

function registerPropagator(propagator: TextMapPropagator): void {
  if (!propagation.setGlobalPropagator(propagator)) {
    // Registration fails when the OpenTelemetry globals were created by another copy of
    // @opentelemetry/api (it is a peer dependency so that there is exactly one).
    throw new DetourError(
      "register-failed",
      "setupDetour: OpenTelemetry refused the propagator; run `npm ls @opentelemetry/api` and make sure one version is installed",
    );
  }
}

/**
 * The registered propagator. @opentelemetry/api keeps it behind a private accessor (stable in
 * 1.x); without it detour cannot compose and says how to wire the propagator by hand.
 */
function globalPropagator(): TextMapPropagator {
  const accessor = (propagation as unknown as { _getGlobalPropagator?: () => TextMapPropagator })._getGlobalPropagator;
  const current = typeof accessor === "function" ? accessor.call(propagation) : undefined;
  if (current === undefined) {
    throw new DetourError(
      "cannot-compose",
      "setupDetour: an OpenTelemetry propagator is registered but cannot be read with this @opentelemetry/api; " +
        "add `new DetourPropagator()` to your SDK's textMapPropagator instead",
    );
  }
  return current;
}
