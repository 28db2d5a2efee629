import { describe, expect, it } from "vitest";
import { PASS_THROUGH, type RouteDecision } from "../decision/route-decision.js";
import { decodeResponseView } from "../testing/process-messages.js";
import { continueResponse, encodeDecision } from "./response-encoder.js";

const routed = (version: string): RouteDecision => ({
  ...PASS_THROUGH,
  service: "pricing",
  requested: version,
  route: version,
  setHeaders: [["x-detour-route", version]],
  removeHeaders: ["x-override"],
  clearRouteCache: true,
});

describe("response encoder", () => {
  it("answers an unchanged request with the shared continue response", () => {
    expect(encodeDecision(PASS_THROUGH)).toBe(continueResponse("request-headers"));
    expect(decodeResponseView(encodeDecision(PASS_THROUGH))).toMatchObject({ phase: "request-headers", setHeaders: {}, removeHeaders: [], clearRouteCache: false });
  });

  it("writes header mutations in raw_value with append false, and clears the route cache with them", () => {
    const view = decodeResponseView(encodeDecision(routed("v2")));
    expect(view).toMatchObject({ phase: "request-headers", setHeaders: { "x-detour-route": "v2" }, removeHeaders: ["x-override"], clearRouteCache: true, usesValueField: false });
    expect(view.appendFlags).toEqual([false]);
  });

  it("returns the cached bytes for an answer it has encoded before", () => {
    expect(encodeDecision(routed("v3"))).toBe(encodeDecision(routed("v3")));
    expect(encodeDecision(routed("v3"))).not.toBe(encodeDecision(routed("v4")));
  });

  it("encodes a reject as an immediate response", () => {
    const view = decodeResponseView(encodeDecision({ ...routed("v9"), reject: { status: 503, body: "no v9\n" } }));
    expect(view.immediate).toEqual({ status: 503, body: "no v9\n", headers: { "content-type": "text/plain; charset=utf-8" } });
  });

  it("has a continue response for every known phase and none for an unknown message", () => {
    for (const phase of ["request-headers", "response-headers", "request-body", "response-body", "request-trailers", "response-trailers"] as const) {
      expect(continueResponse(phase)).toBeInstanceOf(Buffer);
    }
    expect(continueResponse("unknown")).toBeUndefined();
  });
});
