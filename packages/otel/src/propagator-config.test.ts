import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator } from "@opentelemetry/core";
import { DetourError, OverrideSet, parseOverrides } from "@detour/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DetourPropagator, type DetourPropagatorOptions } from "./detour-propagator.js";
import { setOverrides } from "./override-context.js";

describe("options are checked at construction, with @detour/core's rules", () => {
  test.each([
    [{ header: "x-detour-token", format: "wildcard" }, "DetourPropagator: aliases[0].header 'x-detour-token' is one of detour's own headers: remove this alias"],
    [{ header: "X-Detour", format: "pairs" }, "aliases[0].header 'X-Detour' is one of detour's own headers"],
    [{ header: "x-detour-route", format: "pairs" }, "aliases[0].header 'x-detour-route' is one of detour's own headers"],
    [{ header: "baggage", format: "wildcard" }, "aliases[0].header 'baggage' is one of detour's own headers"],
    [{ baggage: "detour" }, "aliases[0].baggage 'detour' is detour's own baggage member"],
    [{ header: "x-override" }, 'aliases[0].format must be "pairs"'],
  ])("a reserved or broken alias %j throws DetourError in the constructor, never in extract()", (alias, message) => {
    let propagator: DetourPropagator | undefined;
    let error: unknown;
    try {
      propagator = new DetourPropagator({ aliases: [alias as never] });
    } catch (caught) {
      error = caught;
    }
    if (propagator !== undefined) propagator.extract(ROOT_CONTEXT, { "x-detour": "pricing=v2", "x-detour-token": "a.b.c" }, defaultTextMapGetter);
    expect(error).toBeInstanceOf(DetourError);
    expect((error as DetourError).code).toBe("invalid-alias");
    expect((error as Error).message).toContain(message);
  });

  test("limits outside their range", () => {
    expect(() => new DetourPropagator({ limits: { maxValueBytes: 100_000 } })).toThrow("DetourPropagator: limits.maxValueBytes must be an integer from 1 to 65536, got 100000");
  });
});

describe("options that construct × random carriers: extract and inject never throw", () => {
  const name = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("x-override", "virtual-cluster-name", "okteto-divert", "sd-routing-key", "X-Override") },
    fc.constantFrom("x-detour", "X-Detour-Token", "x-detour-route", "baggage", "detour", "", "a b", "é", "__proto__"),
    fc.string({ maxLength: 10 }),
  );
  const limit = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(1, 2, 32, 1024, undefined) }, fc.integer({ min: -1, max: 70_000 }), fc.constantFrom(Number.NaN, "8"));
  const options = fc.oneof(
    { weight: 8, arbitrary: fc.record(
      {
        aliases: fc.array(
          fc.oneof(
            { weight: 4, arbitrary: fc.oneof(fc.record({ header: name, format: fc.constantFrom("pairs", "wildcard") }), fc.record({ baggage: name })) },
            fc.constantFrom({ header: "x-o" }, { header: "x-o", format: "csv" }, null, "x-override"),
          ),
          { maxLength: 3 },
        ),
        limits: fc.record({ maxEntries: limit, maxValueBytes: limit }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ) },
    fc.constantFrom(undefined, null, "x-override", { aliases: "x-override" }, { strict: true }),
  );
  const value = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom("pricing=v2", "*=pr-7", "pricing:v2", "pr-7", "detour=pricing%3Dv2,a=1", "okteto-divert=pr-7", "a.b.c") },
    fc.constantFrom("detour=%zz", "detour", "a=1,".repeat(300), "x".repeat(5000)),
    fc.string({ unit: fc.constantFrom(..."pricng=v2,*:;%3D- .\t\u0000é"), maxLength: 80 }),
    fc.string({ maxLength: 30 }),
  );
  const headerName = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("x-detour", "baggage", "x-detour-token", "x-override", "virtual-cluster-name") },
    name.map((n) => n.toLowerCase()),
  );
  const carrier = fc.dictionary(headerName, fc.oneof(value, fc.array(value, { maxLength: 3 })), { maxKeys: 6 });
  const inherited = fc.oneof(fc.constant(ROOT_CONTEXT), fc.constantFrom("pricing=v9", "*=pr-1").map((text) => setOverrides(ROOT_CONTEXT, OverrideSet.fromEntries([text.split("=") as [string, string]]))));

  test("alone and after W3CBaggagePropagator", () => {
    let constructed = 0;
    let carried = 0;
    fc.assert(
      fc.property(options, carrier, inherited, (given, headers, parent: Context) => {
        let detour: DetourPropagator;
        try {
          detour = new DetourPropagator(given as DetourPropagatorOptions);
        } catch (error) {
          expect(error).toBeInstanceOf(DetourError);
          return;
        }
        constructed++;
        for (const propagator of [detour, new CompositePropagator({ propagators: [new W3CBaggagePropagator(), detour] })]) {
          const ctx = propagator.extract(parent, headers, defaultTextMapGetter);
          const out: Record<string, string> = {};
          propagator.inject(ctx, out, defaultTextMapSetter);
          if (out["x-detour"] !== undefined) {
            carried++;
            // What goes out is canonical and valid, whatever came in.
            expect(parseOverrides(out["x-detour"]).set.toString()).toBe(out["x-detour"]);
          }
        }
      }),
      { seed: 20260509, numRuns: 500 },
    );
    expect(constructed).toBeGreaterThan(100);
    expect(carried).toBeGreaterThan(50);
  });
});
