import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { baggageWithOverride, decodeBaggageValue, removeBaggageMembers } from "./baggage.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { isValidService, isValidVersion } from "./override-grammar.js";
import { OverrideSet } from "./override-set.js";
import { parseEncodedOverrides } from "./parse-encoded-overrides.js";
import { EntrySyntax, parseCarrierValue, parseOverrides } from "./parse-overrides.js";
import { readCarriers } from "./read-carriers.js";
import { createCarrierConfig } from "./carrier-config.js";
import { writeCarriers } from "./write-carriers.js";

// Property tests over the codec. Fixed seed so a failure reproduces; fast-check prints the
// shrunk counterexample.
const params = { seed: 20261123, numRuns: 400 };

const service = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/) },
  { weight: 1, arbitrary: fc.constant("*") },
);
const version = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/);
const entries = fc.array(fc.tuple(service, version), { maxLength: 12 });
const overrideSet = entries.map((list) => OverrideSet.fromEntries(list));

/** Every set detour hands out obeys the grammar and the limits. */
function expectGrammarValid(set: OverrideSet, maxEntries = DEFAULT_LIMITS.maxEntries): void {
  expect(set.size).toBeLessThanOrEqual(maxEntries);
  const entries = set.entries();
  expect(entries.length).toBe(set.size);
  entries.forEach((entry, index) => {
    expect(isValidService(entry.service)).toBe(true);
    expect(entry.service).toBe(entry.service.toLowerCase());
    expect(isValidVersion(entry.version)).toBe(true);
    if (entry.service === "*") expect(index).toBe(entries.length - 1);
  });
  expect(new Set(entries.map((e) => e.service)).size).toBe(entries.length);
  const again = parseOverrides(set.toString());
  expect(again.problems).toEqual([]);
  expect(again.set.toString()).toBe(set.toString());
}

/** A W3C baggage list-member that is not ours: token key, baggage-octet value, optional properties. */
const tokenChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~");
const baggageOctet = fc.constantFrom(
  ...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).filter((c) => !'",;\\'.includes(c)),
);
const key = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 }).filter((k) => k !== "detour");
const value = fc.string({ unit: baggageOctet, maxLength: 16 });
const ows = fc.constantFrom("", " ", "\t", "  ");
const property = fc.oneof(key, fc.tuple(key, ows, ows, value).map(([k, a, b, v]) => `${k}${a}=${b}${v}`));
const foreignMember = fc
  .tuple(key, ows, ows, value, fc.array(fc.tuple(ows, ows, property), { maxLength: 2 }))
  .map(([k, a, b, v, props]) => `${k}${a}=${b}${v}${props.map(([x, y, p]) => `${x};${y}${p}`).join("")}`);
const foreignMembers = fc.array(foreignMember, { maxLength: 8 });

const members = (baggage: string | undefined): string[] =>
  (baggage ?? "")
    .split(",")
    .map((m) => m.replace(/^[ \t]+|[ \t]+$/g, ""))
    .filter((m) => m.length > 0);

describe("codec properties", () => {
  it("parse(format(x)) == x for every valid set", () => {
    fc.assert(
      fc.property(overrideSet, (set) => {
        const parsed = parseOverrides(set.toString());
        expect(parsed.problems).toEqual([]);
        expect(parsed.set.equals(set)).toBe(true);
        expect(parsed.set.toString()).toBe(set.toString());
      }),
      params,
    );
  });

  it("OWS, letter case of services and empty elements do not change the result", () => {
    fc.assert(
      fc.property(entries, fc.array(fc.tuple(ows, ows, ows, ows, fc.boolean()), { minLength: 12, maxLength: 12 }), (list, noise) => {
        const canonical = OverrideSet.fromEntries(list);
        const noisy = list
          .map(([s, v], i) => {
            const [a, b, c, d, upper] = noise[i] ?? ["", "", "", "", false];
            return `${a}${upper ? s.toUpperCase() : s}${b}=${c}${v}${d}`;
          })
          .join(noise[0]?.[4] ? ", ," : ",");
        const parsed = parseOverrides(noisy);
        expect(parsed.problems).toEqual([]);
        expect(parsed.set.toString()).toBe(canonical.toString());
      }),
      params,
    );
  });

  it("arbitrary strings never throw in lenient mode and give grammar-valid sets", () => {
    const anyText = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(..."ab-Z9=,;:% \t*._"), maxLength: 120 }),
    );
    fc.assert(
      fc.property(anyText, (text) => {
        const parsed = parseOverrides(text);
        expectGrammarValid(parsed.set);
        for (const problem of parsed.problems) expect(problem.message.length).toBeGreaterThan(0);
        const read = readCarriers(
          [
            ["x-detour", text],
            ["baggage", text],
            ["baggage", `detour=${text}`],
            ["x-override", text],
            ["virtual-cluster-name", text],
          ],
          createCarrierConfig({ aliases: [{ header: "x-override", format: "pairs" }, { header: "virtual-cluster-name", format: "wildcard" }, { baggage: "okteto-divert" }] }),
        );
        expectGrammarValid(read.set);
        for (const report of read.carriers) expectGrammarValid(report.set);
      }),
      params,
    );
  });

  it("writeCarriers then readCarriers round-trips and keeps every other baggage member", () => {
    fc.assert(
      fc.property(overrideSet, foreignMembers, fc.constantFrom(",", ", ", " ,\t"), (set, others, separator) => {
        const incoming = others.length === 0 ? undefined : others.join(separator);
        const headers: Record<string, string> = incoming === undefined ? {} : { baggage: incoming };
        writeCarriers(headers, set);
        const read = readCarriers(headers);
        expect(read.set.equals(set)).toBe(true);
        expect(read.problems).toEqual([]);
        expect(read.conflicts).toEqual([]);
        // Only the baggage member (no x-detour) must carry it too, as for an OTel-only hop.
        expect(readCarriers({ baggage: headers.baggage }).set.equals(set)).toBe(true);
        // Every foreign member is still there, byte-for-byte and in order.
        expect(members(removeBaggageMembers(headers.baggage, ["detour"]))).toEqual(members(incoming));
        // And clearing removes exactly what was added.
        writeCarriers(headers, OverrideSet.EMPTY);
        expect(members(headers.baggage)).toEqual(members(incoming));
        expect(headers["x-detour"]).toBeUndefined();
      }),
      params,
    );
  });

  it("baggageWithOverride is idempotent and its member decodes to the canonical text", () => {
    fc.assert(
      fc.property(overrideSet, foreignMembers, (set, others) => {
        const once = baggageWithOverride(others.join(","), set);
        expect(baggageWithOverride(once, set)).toBe(once);
        if (!set.isEmpty) {
          const first = members(once)[0] ?? "";
          expect(first.startsWith("detour=")).toBe(true);
          expect(decodeBaggageValue(first.slice("detour=".length))).toBe(set.toString());
        }
      }),
      params,
    );
  });

  it("the in-place fast path agrees with decoding then parsing", () => {
    const encodedish = fc.oneof(
      overrideSet.map((set) => encodeURIComponent(set.toString())),
      entries.map((list) => list.map(([s, v]) => `${s}%3d${v}`).join("%2c")),
      entries.map((list) => list.map(([s, v]) => `${s}=${v}`).join("%2C")),
      fc.string({ unit: fc.constantFrom(..."a9Z-*=%3Dd2Cc._ "), maxLength: 60 }),
    );
    fc.assert(
      fc.property(encodedish, (raw) => {
        const fast = parseEncodedOverrides(raw, DEFAULT_LIMITS);
        if (fast === undefined) return;
        const decoded = decodeBaggageValue(raw);
        expect(decoded).toBeDefined();
        const general = parseCarrierValue(decoded as string, "baggage", EntrySyntax.Equals, DEFAULT_LIMITS);
        expect(general.problems).toEqual([]);
        expect(fast.equals(general.set)).toBe(true);
        expect(fast.toString()).toBe(general.set.toString());
        // Whatever encoding the fast path remembered must be the standard one.
        expect(baggageWithOverride(undefined, fast)).toBe(`detour=${encodeURIComponent(fast.toString())}`);
      }),
      { ...params, numRuns: 1000 },
    );
  });

  it("withDefaults: the request wins per service, defaults fill the rest", () => {
    fc.assert(
      fc.property(overrideSet, overrideSet, fc.array(service, { maxLength: 6 }), (request, defaults, probes) => {
        const merged = request.withDefaults(defaults);
        expectGrammarValid(merged, 64);
        for (const probe of [...probes, ...request.entries().map((e) => e.service), ...defaults.entries().map((e) => e.service)]) {
          if (probe === "*") continue;
          expect(merged.versionFor(probe)).toBe(request.versionFor(probe) ?? defaults.versionFor(probe));
        }
      }),
      params,
    );
  });
});
