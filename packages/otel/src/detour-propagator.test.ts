import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  type Context,
  type TextMapSetter,
} from "@opentelemetry/api";
import { CompositePropagator, suppressTracing, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { describe, expect, test } from "vitest";
import { DetourError, OverrideSet } from "@detour/core";
import { DetourPropagator } from "./detour-propagator.js";
import { getOverrides, setOverrides } from "./override-context.js";
import { getOverrideToken } from "./override-token.js";

const detour = new DetourPropagator({ aliases: [{ header: "x-override", format: "pairs" }, { baggage: "okteto-divert" }] });
const baggage = new W3CBaggagePropagator();
const set = (text: string) => OverrideSet.fromEntries(text.split(",").map((e) => e.split("=") as [string, string]));

function extract(propagator: { extract: DetourPropagator["extract"] }, headers: Record<string, string | string[]>, ctx: Context = ROOT_CONTEXT): Context {
  return propagator.extract(ctx, headers, defaultTextMapGetter);
}

function inject(propagator: { inject: DetourPropagator["inject"] }, ctx: Context, carrier: Record<string, unknown> = {}): Record<string, unknown> {
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

function members(header: unknown): string[] {
  return typeof header === "string" ? header.split(",").map((m) => m.trim()) : [];
}

describe("extract", () => {
  test.each([
    ["x-detour", { "x-detour": "pricing=v2, cart=pr-7" }, "pricing=v2,cart=pr-7"],
    ["repeated x-detour lines", { "x-detour": ["pricing=v2", "cart=pr-7"] }, "pricing=v2,cart=pr-7"],
    ["baggage member", { baggage: "a=1,detour=pricing%3Dv2%2Ccart%3Dpr-7" }, "pricing=v2,cart=pr-7"],
    ["alias header", { "x-override": "pricing:v2" }, "pricing=v2"],
    ["alias baggage member", { baggage: "okteto-divert=sbx" }, "*=sbx"],
    ["x-detour beats baggage", { "x-detour": "pricing=v3", baggage: "detour=pricing%3Dv2" }, "pricing=v3"],
    ["baggage beats alias", { "x-override": "pricing:v4", baggage: "detour=pricing%3Dv2" }, "pricing=v2"],
    ["invalid x-detour falls through to baggage", { "x-detour": "pricing", baggage: "detour=pricing%3Dv2" }, "pricing=v2"],
    ["nothing", { other: "x" }, ""],
    ["over the entry limit: ignored whole", { "x-detour": Array.from({ length: 33 }, (_, i) => `s${i}=v1`).join(",") }, ""],
  ])("%s", (_name, headers, expected) => {
    const ctx = extract(detour, headers);
    expect(getOverrides(ctx).toString()).toBe(expected);
    const entry = propagation.getBaggage(ctx)?.getEntry("detour");
    expect(entry?.value).toBe(expected === "" ? undefined : expected);
  });

  test("keeps other baggage entries already in the context", () => {
    const parent = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ user: { value: "42" } }));
    const ctx = extract(detour, { "x-detour": "pricing=v2" }, parent);
    expect(propagation.getBaggage(ctx)?.getEntry("user")?.value).toBe("42");
    expect(getOverrides(ctx).toString()).toBe("pricing=v2");
  });

  test("drops an invalid detour member that W3CBaggagePropagator copied into the context", () => {
    const composite = new CompositePropagator({ propagators: [baggage, detour] });
    const ctx = extract(composite, { baggage: "detour=nonsense,foo=bar" });
    expect(propagation.getBaggage(ctx)?.getEntry("detour")).toBeUndefined();
    expect(propagation.getBaggage(ctx)?.getEntry("foo")?.value).toBe("bar");
    expect(getOverrides(ctx).isEmpty).toBe(true);
  });

  test("composite [baggage, detour]: x-detour wins over a different baggage member, other members survive", () => {
    const composite = new CompositePropagator({ propagators: [baggage, detour] });
    const ctx = extract(composite, { "x-detour": "pricing=v3", baggage: "detour=pricing%3Dv2,foo=bar" });
    expect(getOverrides(ctx).toString()).toBe("pricing=v3");
    expect(propagation.getBaggage(ctx)?.getEntry("detour")?.value).toBe("pricing=v3");
    expect(propagation.getBaggage(ctx)?.getEntry("foo")?.value).toBe("bar");
  });
});

describe("inject", () => {
  const ctx = setOverrides(
    propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ foo: { value: "bar" }, user: { value: "a b" } })),
    set("pricing=v2,cart=pr-7"),
  );

  test("writes x-detour and the baggage member first, keeping other members", () => {
    const carrier = inject(detour, ctx);
    expect(carrier["x-detour"]).toBe("pricing=v2,cart=pr-7");
    expect(members(carrier.baggage)[0]).toBe("detour=pricing%3Dv2%2Ccart%3Dpr-7");
  });

  test.each([
    ["[baggage, detour]", () => new CompositePropagator({ propagators: [baggage, detour] })],
    ["[detour, baggage]", () => new CompositePropagator({ propagators: [detour, baggage] })],
    ["[tracecontext, baggage, detour]", () => new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), baggage, detour] })],
  ])("composite %s: exactly one detour member and every other member", (_name, make) => {
    const carrier = inject(make(), ctx);
    const list = members(carrier.baggage);
    expect(list.filter((m) => m.startsWith("detour="))).toEqual(["detour=pricing%3Dv2%2Ccart%3Dpr-7"]);
    expect(list).toContain("foo=bar");
    expect(list).toContain("user=a%20b");
    expect(carrier["x-detour"]).toBe("pricing=v2,cart=pr-7");
  });

  test("merges into a baggage header the caller already set when no baggage propagator runs", () => {
    const carrier = inject(detour, setOverrides(ROOT_CONTEXT, set("pricing=v2")), { baggage: "tenant=7;ttl=3", Accept: "x" });
    expect(carrier.baggage).toBe("detour=pricing%3Dv2,tenant=7;ttl=3");
  });

  test("replaces a stale detour member in the carrier", () => {
    const carrier = inject(detour, setOverrides(ROOT_CONTEXT, set("pricing=v2")), { baggage: "detour=pricing%3Dv1,a=1" });
    expect(carrier.baggage).toBe("detour=pricing%3Dv2,a=1");
  });

  test("a WHATWG Headers carrier is read back and merged", () => {
    const headers = new Headers({ baggage: "a=1" });
    detour.inject(setOverrides(ROOT_CONTEXT, set("pricing=v2")), headers, {
      set: (carrier, key, value) => (carrier as Headers).set(key, value),
    });
    expect(headers.get("baggage")).toBe("detour=pricing%3Dv2,a=1");
    expect(headers.get("x-detour")).toBe("pricing=v2");
  });

  test("a carrier that cannot be read back gets the context's whole baggage (gRPC Metadata-like)", () => {
    class Metadata {
      readonly map = new Map<string, string>();
    }
    const setter: TextMapSetter<Metadata> = { set: (carrier, key, value) => carrier.map.set(key, value) };
    const md = new Metadata();
    new CompositePropagator({ propagators: [baggage, detour] }).inject(ctx, md, setter);
    const list = members(md.map.get("baggage"));
    expect(list.filter((m) => m.startsWith("detour="))).toHaveLength(1);
    expect(list).toEqual(expect.arrayContaining(["foo=bar", "user=a%20b"]));
  });

  test("writes nothing without an override", () => {
    const plain = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ foo: { value: "bar" } }));
    expect(inject(detour, plain)).toEqual({});
    expect(inject(detour, ROOT_CONTEXT)).toEqual({});
  });

  test("writes nothing while tracing is suppressed, like W3CBaggagePropagator", () => {
    expect(inject(new CompositePropagator({ propagators: [baggage, detour] }), suppressTracing(ctx))).toEqual({});
  });

  test("round trip: what inject writes, extract reads back", () => {
    const carrier = inject(new CompositePropagator({ propagators: [baggage, detour] }), ctx) as Record<string, string>;
    const { "x-detour": _dropped, ...baggageOnly } = carrier;
    expect(getOverrides(extract(detour, baggageOnly)).toString()).toBe("pricing=v2,cart=pr-7");
  });
});

describe("x-detour-token", () => {
  const TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzZXQiOiJwcmljaW5nPXYyIn0.c2lnbmF0dXJl";

  test("extract keeps the token under a private key, never in baggage", () => {
    const ctx = extract(detour, { "x-detour": "pricing=v2", "x-detour-token": TOKEN });
    expect(getOverrideToken(ctx)).toBe(TOKEN);
    expect(propagation.getBaggage(ctx)?.getAllEntries().map(([key]) => key)).toEqual(["detour"]);
  });

  test("a token alone is kept, and an override alone carries no token", () => {
    expect(getOverrideToken(extract(detour, { "x-detour-token": TOKEN }))).toBe(TOKEN);
    expect(getOverrideToken(extract(detour, { "x-detour": "pricing=v2" }))).toBeUndefined();
  });

  test.each([
    ["oversized", "a".repeat(4097)],
    ["empty", ""],
    ["a control character", `${TOKEN}\u0001`],
    ["non-ASCII", `${TOKEN}é`],
  ])("extract ignores a %s value", (_name, value) => {
    expect(getOverrideToken(extract(detour, { "x-detour-token": value }))).toBeUndefined();
  });

  test("extract reads only the first value of repeated lines", () => {
    expect(getOverrideToken(extract(detour, { "x-detour-token": [TOKEN, "other.token.x"] }))).toBe(TOKEN);
    expect(getOverrideToken(extract(detour, { "x-detour-token": `${TOKEN}, other.token.x` }))).toBe(TOKEN);
  });

  test("extract drops a token inherited from the parent when the carrier has none", () => {
    const parent = extract(detour, { "x-detour-token": TOKEN });
    expect(getOverrideToken(extract(detour, { "x-detour": "pricing=v2" }, parent))).toBeUndefined();
  });

  test("inject writes the token back unchanged, with or without an override", () => {
    const withOverride = inject(detour, extract(detour, { "x-detour": "pricing=v2", "x-detour-token": TOKEN }));
    expect(withOverride["x-detour-token"]).toBe(TOKEN);
    expect(withOverride["x-detour"]).toBe("pricing=v2");
    expect(inject(detour, extract(detour, { "x-detour-token": TOKEN }))).toEqual({ "x-detour-token": TOKEN });
  });

  test("inject writes no token while tracing is suppressed", () => {
    expect(inject(detour, suppressTracing(extract(detour, { "x-detour-token": TOKEN })))).toEqual({});
  });

  test("composite [baggage, detour]: the token never reaches the baggage header", () => {
    const composite = new CompositePropagator({ propagators: [baggage, detour] });
    const carrier = inject(composite, extract(composite, { baggage: "foo=bar", "x-detour": "pricing=v2", "x-detour-token": TOKEN }));
    expect(carrier["x-detour-token"]).toBe(TOKEN);
    expect(String(carrier.baggage)).not.toContain(TOKEN.slice(0, 20));
  });
});

test("fields() names what inject writes", () => {
  expect(detour.fields()).toEqual(["x-detour", "baggage", "x-detour-token"]);
  const carrier = inject(detour, extract(detour, { "x-detour": "pricing=v2", "x-detour-token": "a.b.c" }));
  expect(Object.keys(carrier).sort()).toEqual([...detour.fields()].sort());
});

test.each([
  [{ limits: { maxEntries: 0 } }, /maxEntries/],
  [{ aliases: [{ header: "bad header", format: "pairs" }] }, /header/],
  [{ aliases: [{ header: "x-o", format: "csv" }] }, /format/],
  [{ aliases: "x-override" }, /aliases must be a list/],
])("bad options throw DetourError at construction: %j", (options, message) => {
  expect(() => new DetourPropagator(options as never)).toThrow(DetourError);
  expect(() => new DetourPropagator(options as never)).toThrow(message);
});
