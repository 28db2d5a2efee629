import { channel } from "node:diagnostics_channel";
import http from "node:http";
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, defaultTextMapSetter } from "@opentelemetry/api";
import { CompositePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { afterEach, describe, expect, test } from "vitest";
import { DetourError, OverrideSet } from "@detour/core";
import { setOverrides } from "./override-context.js";
import { propagationStatus } from "./propagation-status.js";
import { setupDetour, type DetourSetup } from "./setup-detour.js";

const wrapped = () => (http.request as { __wrapped?: boolean }).__wrapped === true;
let current: DetourSetup | undefined;
afterEach(() => {
  current?.shutdown();
  current = undefined;
});

describe("without an SDK", () => {
  test("the light install by default: context manager, trace context + baggage + detour, channel injection, no instrumentation", () => {
    expect(propagationStatus()).toEqual({ contextManager: false, propagator: false });
    current = setupDetour();
    expect(current).toMatchObject({ mode: "installed", outbound: "light", contextManager: "installed", instrumentations: ["http", "undici"] });
    expect(propagation.fields()).toEqual(["traceparent", "tracestate", "baggage", "x-detour", "x-detour-token"]);
    expect(propagationStatus()).toEqual({ contextManager: true, propagator: true });
    expect(wrapped()).toBe(false);
    expect(channel("undici:request:create").hasSubscribers).toBe(true);
  });

  test('outbound: "opentelemetry" registers instrumentation-http and -undici instead', () => {
    current = setupDetour({ outbound: "opentelemetry" });
    expect(current).toMatchObject({ mode: "installed", outbound: "opentelemetry", contextManager: "installed", instrumentations: ["http", "undici"] });
    expect(wrapped()).toBe(true);
  });

  test("a second call returns the first call's result", () => {
    current = setupDetour();
    expect(setupDetour({ http: false })).toBe(current);
  });

  test("shutdown undoes everything; setup works again afterwards", () => {
    setupDetour().shutdown();
    expect(propagation.fields()).toEqual([]);
    expect(propagationStatus().contextManager).toBe(false);
    expect(channel("undici:request:create").hasSubscribers).toBe(false);
    setupDetour({ outbound: "opentelemetry" }).shutdown();
    expect(wrapped()).toBe(false);
    current = setupDetour({ traceContext: false, undici: false });
    expect(propagation.fields()).toEqual(["baggage", "x-detour", "x-detour-token"]);
    expect(current).toMatchObject({ contextManager: "installed", instrumentations: ["http"] });
  });

  test("bad options throw DetourError before anything is registered", () => {
    expect(() => setupDetour({ limits: { maxValueBytes: -1 } })).toThrow(DetourError);
    expect(() => setupDetour({ outbound: "spans" as "light" })).toThrow(/outbound must be "light" or "opentelemetry"/);
    expect(() => setupDetour({ http: { ignoreIncomingRequestHook: () => true } })).toThrow(/needs outbound: "opentelemetry"/);
    expect(() => setupDetour({ outbound: "light", undici: {} })).toThrow(DetourError);
    expect(propagation.fields()).toEqual([]);
    expect(propagationStatus().contextManager).toBe(false);
  });
});

describe("with a propagator already registered (an SDK)", () => {
  test("composes after it, keeps it first, and says when it lacks baggage", () => {
    const messages: string[] = [];
    diag.setLogger(
      { error: () => {}, warn: () => {}, info: (m: string) => messages.push(m), debug: () => {}, verbose: () => {} },
      DiagLogLevel.INFO,
    );
    const sdkPropagator = new CompositePropagator({ propagators: [new W3CTraceContextPropagator()] });
    propagation.setGlobalPropagator(sdkPropagator);
    try {
      current = setupDetour({ http: false, undici: false });
      expect(current).toMatchObject({ mode: "composed", outbound: "opentelemetry", instrumentations: [] });
      expect(propagation.fields()).toEqual(["traceparent", "tracestate", "x-detour", "baggage", "x-detour-token"]);
      expect(messages.join("\n")).toMatch(/no W3C baggage/);
      const carrier: Record<string, string> = {};
      propagation.inject(setOverrides(ROOT_CONTEXT, OverrideSet.fromEntries([["pricing", "v2"]])), carrier, defaultTextMapSetter);
      expect(carrier).toEqual({ "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2" });
      // A second setup sees detour already in the global propagator.
      current.shutdown();
      expect(propagation.fields()).toEqual(["traceparent", "tracestate"]);
      current = undefined;
    } finally {
      diag.disable();
      propagation.disable();
      context.disable();
    }
  });

  test('outbound defaults to "opentelemetry" next to an SDK; "light" covers the uncovered clients with the channels', () => {
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator()] }));
    try {
      current = setupDetour();
      // (Whether http is patched again is up to require-in-the-middle, which hooks a module once per process.)
      expect(current).toMatchObject({ mode: "composed", outbound: "opentelemetry", instrumentations: ["http", "undici"] });
      current.shutdown();
      current = setupDetour({ outbound: "light" });
      expect(current).toMatchObject({ mode: "composed", outbound: "light", instrumentations: ["http", "undici"] });
      expect(wrapped()).toBe(false);
      expect(channel("undici:request:create").hasSubscribers).toBe(true);
      current.shutdown();
      current = undefined;
    } finally {
      propagation.disable();
      context.disable();
    }
  });
});
