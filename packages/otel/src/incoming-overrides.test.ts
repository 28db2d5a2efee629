import { propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { describe, expect, test } from "vitest";
import { incomingOverrides } from "./incoming-overrides.js";
import { getOverrides } from "./override-context.js";
import { getOverrideToken } from "./override-token.js";

// Requests are built on shared contexts where they say the same thing; these pin down that a
// shared context never carries another request's override, token or parent.
describe("incomingOverrides", () => {
  const pricing = { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2" };

  test("requests with the same override in the same parent share one context", () => {
    const first = incomingOverrides({ ...pricing }, undefined, ROOT_CONTEXT);
    const second = incomingOverrides({ ...pricing }, undefined, ROOT_CONTEXT);
    expect(second.context).toBe(first.context);
    expect(getOverrides(second.context).toString()).toBe("pricing=v2");
  });

  test("each request's context carries its own override and token, in any order", () => {
    const requests = [
      { headers: { ...pricing }, set: "pricing=v2", token: undefined },
      { headers: { "x-detour": "cart=pr-7" }, set: "cart=pr-7", token: undefined },
      { headers: { ...pricing, "x-detour-token": "aaa.bbb.ccc" }, set: "pricing=v2", token: "aaa.bbb.ccc" },
      { headers: { ...pricing, "x-detour-token": "ddd.eee.fff" }, set: "pricing=v2", token: "ddd.eee.fff" },
      { headers: { accept: "text/plain" }, set: "", token: undefined },
      { headers: { ...pricing }, set: "pricing=v2", token: undefined },
      { headers: { accept: "text/plain", "x-detour-token": "aaa.bbb.ccc" }, set: "", token: "aaa.bbb.ccc" },
    ];
    for (let round = 0; round < 2; round++) {
      for (const request of requests) {
        const incoming = incomingOverrides(request.headers, undefined, ROOT_CONTEXT);
        expect(getOverrides(incoming.context).toString()).toBe(request.set);
        expect(getOverrideToken(incoming.context)).toBe(request.token);
      }
    }
  });

  test("a request in another parent is built on that parent, not on a shared context", () => {
    const tenant = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ tenant: { value: "acme" } }));
    const inRoot = incomingOverrides({ ...pricing }, undefined, ROOT_CONTEXT);
    const inTenant = incomingOverrides({ ...pricing }, undefined, tenant);
    expect(inTenant.context).not.toBe(inRoot.context);
    expect(propagation.getBaggage(inTenant.context)?.getEntry("tenant")?.value).toBe("acme");
    expect(propagation.getBaggage(inRoot.context)?.getEntry("tenant")).toBeUndefined();
    expect(getOverrides(inTenant.context).toString()).toBe("pricing=v2");
  });
});
