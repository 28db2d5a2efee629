import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, MAX_CACHED_VALUES } from "./limits.js";
import { CacheKind, cachedOverrideSet } from "./override-cache.js";
import { parseOverrides } from "./parse-overrides.js";
import { readCarriers } from "./read-carriers.js";

describe("parse cache", () => {
  it("keeps the encoded and plain readings of the same text apart", () => {
    // As a baggage member, "a%3D1" is a=1; as x-detour it is an entry without '='.
    expect(readCarriers({ baggage: "detour=a%3D1" }).set.toString()).toBe("a=1");
    const plain = readCarriers({ "x-detour": "a%3D1" });
    expect(plain.set.isEmpty).toBe(true);
    expect(plain.problems.map((p) => p.code)).toEqual(["missing-equals"]);
  });

  it("only remembers values that parsed without problems", () => {
    parseOverrides("pricing=v2,bad");
    expect(cachedOverrideSet(DEFAULT_LIMITS, CacheKind.Plain, "pricing=v2,bad")).toBeUndefined();
    expect(parseOverrides("pricing=v2,bad").problems).toHaveLength(1);
  });

  it("is keyed by limits: a value cached under roomy limits is still over tighter ones", () => {
    expect(parseOverrides("a=1,b=2").problems).toEqual([]);
    expect(parseOverrides("a=1,b=2", { limits: { maxEntries: 1 } }).problems.map((p) => p.code)).toEqual(["too-many-entries"]);
  });

  it(`holds at most ${MAX_CACHED_VALUES} values per kind`, () => {
    for (let i = 0; i < MAX_CACHED_VALUES * 2 + 3; i++) parseOverrides(`svc=v${i}`);
    let remembered = 0;
    for (let i = 0; i < MAX_CACHED_VALUES * 2 + 3; i++) {
      if (cachedOverrideSet(DEFAULT_LIMITS, CacheKind.Plain, `svc=v${i}`) !== undefined) remembered++;
    }
    expect(remembered).toBeGreaterThan(0);
    expect(remembered).toBeLessThanOrEqual(MAX_CACHED_VALUES);
  });
});
