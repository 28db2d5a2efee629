import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { carrierConfigProblems, createCarrierConfig, type CarrierOptions } from "./carrier-config.js";
import { DetourError } from "./detour-error.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { readCarriers } from "./read-carriers.js";

function refusal(options: unknown): DetourError {
  try {
    createCarrierConfig(options as CarrierOptions, "test");
  } catch (error) {
    expect(error).toBeInstanceOf(DetourError);
    return error as DetourError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe("createCarrierConfig", () => {
  it("accepts the documented aliases and normalizes header names", () => {
    const config = createCarrierConfig({
      aliases: [
        { header: "X-Override", format: "pairs" },
        { header: "virtual-cluster-name", format: "wildcard" },
        { baggage: "okteto-divert" },
        { baggage: "sd-routing-key" },
        { baggage: "mirrord-session" },
      ],
      limits: { maxEntries: 8 },
    });
    expect(config.aliases[0]).toEqual({ header: "x-override", format: "pairs" });
    expect(config.headerNames).toEqual(["x-detour", "baggage", "x-override", "virtual-cluster-name"]);
    expect(config.baggageKeys).toEqual(["detour", "okteto-divert", "sd-routing-key", "mirrord-session"]);
    expect(config.limits).toEqual({ maxEntries: 8, maxValueBytes: DEFAULT_LIMITS.maxValueBytes });
    expect(Object.isFrozen(config) && Object.isFrozen(config.aliases)).toBe(true);
    expect(createCarrierConfig(config)).toBe(config);
    expect(createCarrierConfig().limits).toBe(DEFAULT_LIMITS);
  });

  it.each([
    [{ aliases: [{ header: "x-detour-token", format: "wildcard" }] }, "invalid-alias", "test: aliases[0].header 'x-detour-token' is one of detour's own headers: remove this alias"],
    [{ aliases: [{ header: "X-Detour", format: "pairs" }] }, "invalid-alias", "aliases[0].header 'X-Detour' is one of detour's own headers"],
    [{ aliases: [{ header: "x-detour-route", format: "pairs" }] }, "invalid-alias", "one of detour's own headers"],
    [{ aliases: [{ header: "x-detour-edge", format: "pairs" }] }, "invalid-alias", "one of detour's own headers"],
    [{ aliases: [{ header: "Baggage", format: "wildcard" }] }, "invalid-alias", "'Baggage' is one of detour's own headers"],
    [{ aliases: [{ baggage: "detour" }] }, "invalid-alias", "aliases[0].baggage 'detour' is detour's own baggage member"],
    [{ aliases: [{ header: "", format: "pairs" }] }, "invalid-alias", 'aliases[0].header must be a header name (an RFC 9110 token), got ""'],
    [{ aliases: [{ header: "x override", format: "pairs" }] }, "invalid-alias", "aliases[0].header must be a header name"],
    [{ aliases: [{ header: "x-o", format: "csv" }] }, "invalid-alias", 'aliases[0].format must be "pairs"'],
    [{ aliases: [{ baggage: "a b" }] }, "invalid-alias", "aliases[0].baggage must be a baggage key"],
    [{ aliases: [{ baggage: "k", header: "h" }] }, "invalid-alias", "aliases[0] has both baggage and header"],
    [{ aliases: [{ header: "h", fromat: "pairs" }] }, "invalid-alias", "aliases[0].fromat is not an alias field"],
    [{ aliases: [null] }, "invalid-alias", "aliases[0] must be { header, format } or { baggage }, got null"],
    [{ aliases: "x-override" }, "invalid-alias", "aliases must be a list"],
    [{ limits: { maxEntries: 0 } }, "invalid-limits", "limits.maxEntries must be an integer from 1 to 1000, got 0"],
    [{ limits: { maxValueBytes: 1.5 } }, "invalid-limits", "limits.maxValueBytes must be an integer from 1 to 65536, got 1.5"],
    [{ limits: { maxValueBytes: "1024" } }, "invalid-limits", 'got "1024"'],
    [{ limits: { maxBytes: 10 } }, "invalid-limits", "limits.maxBytes is not a limit"],
    [{ strict: "yes" }, "invalid-options", "strict must be true or false"],
    ["x-override", "invalid-options", "options must be an object"],
  ])("refuses %j (%s)", (options, code, message) => {
    const error = refusal(options);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  it("names every problem, not only the first", () => {
    const problems = carrierConfigProblems({ aliases: [{ header: "x-detour" }, { baggage: "detour" }], limits: { maxEntries: -1 } });
    expect(problems.map((p) => p.path)).toEqual([["aliases", 0, "header"], ["aliases", 0, "format"], ["aliases", 1, "baggage"], ["limits", "maxEntries"]]);
    expect(refusal({ aliases: [{ header: "x-detour" }] }).message.split("; ")).toHaveLength(2);
  });
});

describe("configuration that createCarrierConfig accepts never makes readCarriers throw", () => {
  const name = fc.oneof(
    fc.constantFrom("x-detour", "X-Detour-Token", "x-detour-route", "baggage", "detour", "x-override", "virtual-cluster-name", "okteto-divert", "", " ", "a b", "é", "x-detour-x"),
    fc.string({ maxLength: 12 }),
  );
  const alias = fc.oneof(
    fc.record({ header: name, format: fc.constantFrom("pairs", "wildcard", "csv") }),
    fc.record({ baggage: name }),
    fc.constantFrom(null, 7, "x-override", [], {}),
  );
  const limit = fc.oneof(fc.integer({ min: -2, max: 70_000 }), fc.constantFrom(Number.NaN, 1.5, "32", undefined));
  const options = fc.record(
    { aliases: fc.array(alias, { maxLength: 4 }), limits: fc.record({ maxEntries: limit, maxValueBytes: limit }, { requiredKeys: [] }) },
    { requiredKeys: [] },
  );
  const headerValue = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(..."ab*=:,;%3D v2-."), maxLength: 60 }),
    fc.constantFrom("pricing=v2", "*=pr-7", "pricing:v2", "detour=pricing%3Dv2", "detour=%zz", "okteto-divert=ns-1", "a".repeat(2000)),
  );
  const headers = fc.array(fc.tuple(name, headerValue), { maxLength: 8 });

  it("for random options (accepted or refused with a DetourError) and random headers", () => {
    let accepted = 0;
    fc.assert(
      fc.property(options, headers, (given, lines) => {
        let config;
        try {
          config = createCarrierConfig(given as CarrierOptions);
        } catch (error) {
          expect(error).toBeInstanceOf(DetourError);
          expect(carrierConfigProblems(given).length).toBeGreaterThan(0);
          // Unchecked, the same options still read without throwing.
          readCarriers(lines, given as never);
          return;
        }
        accepted++;
        expect(carrierConfigProblems(given)).toEqual([]);
        const result = readCarriers(lines, config);
        expect(result.set.size).toBeLessThanOrEqual(config.limits.maxEntries);
        readCarriers(Object.fromEntries(lines), config);
      }),
      { seed: 20260509, numRuns: 600 },
    );
    expect(accepted).toBeGreaterThan(30);
  });

});
