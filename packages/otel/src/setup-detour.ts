import { channel } from "node:diagnostics_channel";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { context, diag, propagation, type TextMapPropagator } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { registerInstrumentations, type Instrumentation } from "@opentelemetry/instrumentation";
import { HttpInstrumentation, type HttpInstrumentationConfig } from "@opentelemetry/instrumentation-http";
import { UndiciInstrumentation, type UndiciInstrumentationConfig } from "@opentelemetry/instrumentation-undici";
import { BAGGAGE_HEADER, DETOUR_HEADER, DetourError } from "@detour/core";
import { DetourPropagator } from "./detour-propagator.js";
import { setDefaultReadOptions } from "./incoming-overrides.js";
import { propagationStatus } from "./propagation-status.js";
import { carrierConfigFromOptions, type ReadOverrideOptions } from "./read-options.js";

export interface SetupDetourOptions extends ReadOverrideOptions {
  /**
   * @opentelemetry/instrumentation-http for `http`/`https` clients and servers: `true` (default)
   * registers it unless `http` is already instrumented (by an SDK's auto-instrumentations),
   * `false` never does, an object is its config.
   */
  readonly http?: boolean | HttpInstrumentationConfig;
  /**
   * @opentelemetry/instrumentation-undici for global `fetch` and undici: `true` (default)
   * registers it unless something already listens on undici's request channel, `false` never
   * does, an object is its config. Two listeners would send every propagation header twice.
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
  /** "installed" when detour registered an AsyncLocalStorage context manager. */
  readonly contextManager: "installed" | "existing";
  /** Instrumentations this call registered (already present ones are not repeated). */
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
 * Without an OpenTelemetry SDK it registers an AsyncLocalStorage context manager, a composite
 * propagator (trace context + baggage + detour) and the http and undici instrumentations; no
 * tracer or exporter is needed (spans are non-recording). With an SDK already started it keeps
 * the SDK's context manager and propagator, appends DetourPropagator to that propagator, and adds
 * only the instrumentations the SDK did not. Call it after `sdk.start()`. A second call returns
 * the first call's result.
 */
export function setupDetour(options?: SetupDetourOptions): DetourSetup {
  if (active !== undefined) return active;
  const read = carrierConfigFromOptions(
    options === undefined ? undefined : { aliases: options.aliases, limits: options.limits },
    "setupDetour",
  );
  const detour = new DetourPropagator(read);

  let contextManager: DetourSetup["contextManager"] = "existing";
  let installedManager: AsyncLocalStorageContextManager | undefined;
  if (!propagationStatus().contextManager) {
    installedManager = new AsyncLocalStorageContextManager().enable();
    if (context.setGlobalContextManager(installedManager)) contextManager = "installed";
    else {
      installedManager.disable();
      installedManager = undefined;
      diag.warn("detour: a context manager is registered but does not keep context; overrides will not follow async work");
    }
  }

  const fields = propagation.fields();
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

  const instrumentations: Instrumentation[] = [];
  const names: ("http" | "undici")[] = [];
  const nodeRequire = createRequire(import.meta.url);
  const httpOption = options?.http ?? true;
  const httpByOthers = httpOption !== false && httpInstrumented(nodeRequire);
  if (httpOption !== false && !httpByOthers) {
    instrumentations.push(new HttpInstrumentation(httpOption === true ? {} : httpOption));
    names.push("http");
  }
  const undiciOption = options?.undici ?? true;
  if (undiciOption !== false && !channel(UNDICI_REQUEST_CREATE).hasSubscribers) {
    instrumentations.push(new UndiciInstrumentation(undiciOption === true ? {} : undiciOption));
    names.push("undici");
  }
  const unload = instrumentations.length === 0 ? undefined : registerInstrumentations({ instrumentations });
  // An SDK's instrumentation patched the CommonJS exports just now (httpInstrumented required
  // http); ESM named imports still see the originals unless synced, so sync for it as well.
  if (names.includes("http") || httpByOthers) patchLoadedHttp(nodeRequire);

  setDefaultReadOptions(read);
  const setup: DetourSetup = {
    mode,
    contextManager,
    instrumentations: Object.freeze(names),
    propagator: detour,
    shutdown() {
      if (active !== setup) return;
      active = undefined;
      unload?.();
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
  diag.debug("detour: setup", { mode, contextManager, instrumentations: names.join(",") });
  return setup;
}

/** Channel instrumentation-undici subscribes to; Node's global fetch publishes on it too. */
const UNDICI_REQUEST_CREATE = "undici:request:create";

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
