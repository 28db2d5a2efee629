import { describe, expect, it } from "vitest";
import { loadCases } from "../testdata/load-cases.js";
import type { AliasSpec } from "./aliases.js";
import { DetourError } from "./detour-error.js";
import type { HeaderInput } from "./header-input.js";
import type { OverrideLimits } from "./limits.js";
import type { CarrierConfig } from "./carrier-config.js";
import { readCarriers, readCarrierValues, type CarrierReport } from "./read-carriers.js";
import { createCarrierConfig } from "./carrier-config.js";

interface CarrierCase {
  rule: string;
  headers: [string, string][];
  aliases?: AliasSpec[];
  limits?: Partial<OverrideLimits>;
  set: string;
  source: string | null;
  conflicts: string[];
  problems: { carrier: string; code: string }[];
}

const cases = loadCases<CarrierCase>("carrier-cases.json");

/** The same header lines in every shape readCarriers accepts. */
const shapes: Record<string, (lines: [string, string][]) => HeaderInput> = {
  "pairs (ext_proc)": (lines) => lines,
  "plain object with arrays": (lines) => {
    const record: Record<string, string[]> = {};
    for (const [name, value] of lines) (record[name] ??= []).push(value);
    return record;
  },
  "Node IncomingHttpHeaders (lower-case, joined with ', ')": (lines) => {
    const record: Record<string, string> = {};
    for (const [name, value] of lines) {
      const key = name.toLowerCase();
      record[key] = record[key] === undefined ? value : `${record[key]}, ${value}`;
    }
    return record;
  },
  "WHATWG Headers": (lines) => {
    const headers = new Headers();
    for (const [name, value] of lines) headers.append(name, value);
    return headers;
  },
  "generator of pairs": (lines) =>
    (function* () {
      yield* lines;
    })(),
};

describe("readCarriers: precedence, aliases, limits (testdata/carrier-cases.json)", () => {
  for (const [shape, build] of Object.entries(shapes)) {
    describe(shape, () => {
      it.each(cases.map((c) => [c.rule, c] as const))("%s", (_rule, c) => {
        const config = createCarrierConfig({
          ...(c.aliases === undefined ? {} : { aliases: c.aliases }),
          ...(c.limits === undefined ? {} : { limits: c.limits }),
        });
        const result = readCarriers(build(c.headers), config);
        expect(result.set.toString()).toBe(c.set);
        expect(result.source ?? null).toBe(c.source);
        expect(result.conflicts).toEqual(c.conflicts);
        expect(result.problems.map((p) => ({ carrier: p.carrier, code: p.code }))).toEqual(c.problems);
        // Every present carrier is reported, in precedence order, with its own problems.
        expect(result.carriers.flatMap((r) => r.problems)).toEqual(result.problems);
        if (c.source !== null) expect(result.carriers.find((r) => r.carrier === c.source)?.set).toBe(result.set);
      });
    });
  }
});

describe("readCarriers: reports and strict mode", () => {
  it("reports what each carrier said, raw values as received", () => {
    const result = readCarriers(
      { "x-detour": "pricing=v2", baggage: "a=1,detour=pricing%3Dv3;p", "x-override": "cart:v9" },
      createCarrierConfig({ aliases: [{ header: "x-override", format: "pairs" }] }),
    );
    expect(result.carriers.map((r) => [r.carrier, r.raw, r.set.toString()])).toEqual([
      ["x-detour", "pricing=v2", "pricing=v2"],
      ["baggage", "pricing%3Dv3", "pricing=v3"],
      ["x-override", "cart:v9", "cart=v9"],
    ]);
    expect(result.conflicts).toEqual(["baggage", "x-override"]);
  });

  it("strict mode throws a DetourError for any carrier's problem", () => {
    const strict = createCarrierConfig({ strict: true });
    expect(() => readCarriers({ "x-detour": "pricing=v2", baggage: "detour=bad" }, strict)).toThrow(DetourError);
    expect(readCarriers({ "x-detour": "pricing=v2" }, strict).set.toString()).toBe("pricing=v2");
  });

  it("never throws on odd inputs in lenient mode", () => {
    const odd: unknown[] = [
      {},
      { "x-detour": undefined, baggage: [] },
      { "x-detour": 42 },
      { "x-detour": [undefined, "a=1", 7] },
      [null, ["x-detour"], ["x-detour", 1], "x-detour=a=1", ["x-detour", "a=1", "extra"]],
      new Map([["X-Detour", "a=1"]]),
    ];
    for (const input of odd) expect(() => readCarriers(input as HeaderInput)).not.toThrow();
    expect(readCarriers(new Map([["X-Detour", "a=1"]])).set.toString()).toBe("a=1");
    expect(readCarriers({ "x-detour": [undefined, "a=1", 7] } as unknown as HeaderInput).set.toString()).toBe("a=1");
  });

  it("returns frozen results, shared between calls with the same config and carrier values", () => {
    const a = readCarriers({ "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2" });
    const b = readCarriers({ baggage: "detour=pricing%3Dv2", "X-Detour": "pricing=v2", accept: "*/*" });
    expect(b).toBe(a);
    for (const frozen of [a, a.carriers, a.problems, a.conflicts, a.carriers[0], a.carriers[0]?.problems]) {
      expect(Object.isFrozen(frozen)).toBe(true);
    }
    expect(() => (a.carriers as CarrierReport[]).push(a.carriers[0] as CarrierReport)).toThrow(TypeError);
  });

  it("keeps sharing when two readers with their own value lists alternate, as the propagator and the glue do", () => {
    const headers = { "x-detour": "pricing=v7", baggage: "detour=pricing%3Dv7" };
    const byHeaders = readCarriers(headers);
    const withToken = readCarrierValues(["pricing=v7", "detour=pricing%3Dv7", undefined]);
    expect(withToken).not.toBe(byHeaders);
    for (let i = 0; i < 3; i++) {
      expect(readCarriers(headers)).toBe(byHeaders);
      expect(readCarrierValues(["pricing=v7", "detour=pricing%3Dv7", undefined])).toBe(withToken);
    }
  });

  it("reads again when the config or a carrier value differs from the call before", () => {
    const values = { "x-detour": "a=1,b=2" };
    expect(readCarriers(values).set.toString()).toBe("a=1,b=2");
    const limited = readCarriers(values, createCarrierConfig({ limits: { maxEntries: 1 } }));
    expect(limited.set.isEmpty).toBe(true);
    expect(limited.problems.map((p) => p.code)).toEqual(["too-many-entries"]);
    expect(readCarriers({ "x-detour": "a=1,b=3" }).set.toString()).toBe("a=1,b=3");
    expect(readCarriers({ "x-detour": "a=1,b=3", baggage: "detour=c%3D3" }).conflicts).toEqual(["baggage"]);
    expect(readCarriers({ "x-detour": "a=1,b=3" }).conflicts).toEqual([]);
  });

  it("readCarrierValues reads values given in the config's header name order as readCarriers reads the headers", () => {
    const config = createCarrierConfig({ aliases: [{ header: "x-override", format: "pairs" }] });
    expect(config.headerNames).toEqual(["x-detour", "baggage", "x-override"]);
    const cases: (string | undefined)[][] = [
      ["pricing=v2", "detour=pricing%3Dv2", undefined],
      [undefined, undefined, "pricing:v3"],
      ["cart=pr-7", undefined, "pricing:v3"],
      ["pricing", "detour=x%ZZ", undefined],
      [undefined, undefined, undefined],
    ];
    for (const values of cases) {
      const headers = Object.fromEntries(config.headerNames.flatMap((name, i) => (values[i] === undefined ? [] : [[name, values[i]]])));
      expect(readCarrierValues(values, config)).toEqual(readCarriers(headers, config));
      // Entries past the config's names are not carriers.
      expect(readCarrierValues([...values, "pricing=v9"], config).set.toString()).toBe(readCarriers(headers, config).set.toString());
    }
    expect(readCarrierValues(["pricing=v2"]).set.toString()).toBe("pricing=v2");
  });

  it("readCarrierValues reads entries that are not strings as absent and refuses values that are not an array", () => {
    const odd = [7, "detour=pricing%3Dv2"] as unknown as string[];
    expect(readCarrierValues(odd)).toEqual(readCarriers({ baggage: "detour=pricing%3Dv2" }));
    expect(readCarrierValues([null, ["a=1"]] as unknown as string[]).set.isEmpty).toBe(true);
    for (const bad of [undefined, "pricing=v2", { 0: "pricing=v2", length: 1 }]) {
      expect(() => readCarrierValues(bad as unknown as string[])).toThrow(expect.objectContaining({ code: "invalid-values", message: expect.stringContaining("array") }));
    }
  });

  it("reports the problems of a repeated bad value on every call, and strict mode throws every time", () => {
    for (let i = 0; i < 2; i++) expect(readCarriers({ "x-detour": "pricing" }).problems).toHaveLength(1);
    const strict = createCarrierConfig({ strict: true });
    for (let i = 0; i < 2; i++) expect(() => readCarriers({ "x-detour": "pricing" }, strict)).toThrow(DetourError);
  });

  it("uses configured limits", () => {
    const result = readCarriers({ "x-detour": "a=1,b=2", baggage: "detour=c%3D3" }, createCarrierConfig({ limits: { maxEntries: 1 } }));
    expect(result.source).toBe("baggage");
    expect(result.problems.map((p) => p.code)).toEqual(["too-many-entries"]);
  });

  it("never throws because of configuration: unchecked options skip invalid aliases and out-of-range limits", () => {
    // What plain JavaScript can hand over without createCarrierConfig (TypeScript refuses it).
    const unchecked = (options: unknown) => options as CarrierConfig;
    const headers = { "x-detour-token": "pr-7", "x-override": "pricing:v2", "x-detour": "a=1,b=2" };
    for (const options of [
      { aliases: [{ header: "x-detour-token", format: "wildcard" }] },
      { aliases: [{ header: "bad name", format: "pairs" }, { baggage: "detour" }, null, 7] },
      { aliases: "x-override", limits: { maxEntries: 0, maxValueBytes: Number.NaN } },
      { limits: "many" },
      null,
      "strict",
    ]) {
      expect(() => readCarriers(headers, unchecked(options))).not.toThrow();
      expect(readCarriers(headers, unchecked(options)).set.toString()).toBe("a=1,b=2");
    }
    const mixed = unchecked({ aliases: [{ header: "x-detour-token", format: "wildcard" }, { header: "X-Override", format: "pairs" }], limits: { maxEntries: 1 } });
    const result = readCarriers({ "x-detour-token": "pr-7", "x-override": "pricing:v2" }, mixed);
    expect([result.source, result.set.toString()]).toEqual(["x-override", "pricing=v2"]);
  });
});
