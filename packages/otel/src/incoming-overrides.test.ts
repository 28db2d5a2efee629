import type { IncomingHttpHeaders } from "node:http";
import { propagation, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { describe, expect, test } from "vitest";
import { createCarrierConfig, type CarrierConfig } from "@detour/core";
import { incomingMessageOverrides, incomingOverrides, type IncomingOverrides } from "./incoming-overrides.js";
import { getOverrides } from "./override-context.js";
import { getOverrideToken } from "./override-token.js";

// Requests are built on shared contexts where they say the same thing; these pin down that a
// shared context never carries another request's override, token or parent.
type Reader = (headers: IncomingHttpHeaders, config: CarrierConfig | undefined, parent: Context) => IncomingOverrides;
const readers: [string, Reader][] = [
  ["incomingOverrides", incomingOverrides],
  ["incomingMessageOverrides", incomingMessageOverrides],
];

describe.each(readers)("%s", (_name, incomingOverrides) => {
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

describe("incomingMessageOverrides (Node's lower-cased IncomingMessage.headers)", () => {
  const config = createCarrierConfig({ aliases: [{ header: "x-override", format: "pairs" }] });

  test("reads what incomingOverrides reads: carriers, aliases, repeated lines and the token", () => {
    const requests: IncomingHttpHeaders[] = [
      { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2" },
      { "x-override": "pricing:v3" },
      { "x-override": "pricing:v3", "x-detour": "cart=pr-7" },
      { "x-detour": "pricing=v2, cart=pr-7", "x-detour-token": "aaa.bbb.ccc" },
      { "set-cookie": ["a=1", "b=2"], "x-detour": "pricing=v2" },
      { "x-detour": "pricing", accept: "*/*" },
      { baggage: "tenant=acme,detour=cart%3Dpr-7" },
      { accept: "text/plain" },
    ];
    for (const headers of requests) {
      const fast = incomingMessageOverrides(headers, config, ROOT_CONTEXT);
      const scanned = incomingOverrides(headers, config, ROOT_CONTEXT);
      expect({ set: fast.set.toString(), source: fast.source, problems: fast.problems }).toEqual({
        set: scanned.set.toString(),
        source: scanned.source,
        problems: scanned.problems,
      });
      expect(getOverrideToken(fast.context)).toBe(getOverrideToken(scanned.context));
    }
    expect(incomingMessageOverrides({ "x-override": "pricing:v3" }, config, ROOT_CONTEXT).source).toBe("x-override");
    expect(incomingMessageOverrides({ "x-override": "pricing:v3" }, undefined, ROOT_CONTEXT).set.isEmpty).toBe(true);
  });

  test("a value that is neither a string nor an array of strings reads as absent", () => {
    const odd = { "x-detour": 7, baggage: undefined } as unknown as IncomingHttpHeaders;
    expect(incomingMessageOverrides(odd, undefined, ROOT_CONTEXT).set.isEmpty).toBe(true);
  });
});

describe("incomingOverrides with unchecked options from plain JavaScript", () => {
  test("reads them leniently, as readCarriers does, instead of throwing", () => {
    const options = { aliases: [{ header: "x-override", format: "pairs" }] } as unknown as CarrierConfig;
    const incoming = incomingOverrides({ "x-override": "pricing:v3", "x-detour-token": "aaa.bbb.ccc" }, options, ROOT_CONTEXT);
    expect(incoming.set.toString()).toBe("pricing=v3");
    expect(getOverrideToken(incoming.context)).toBe("aaa.bbb.ccc");
  });
});
