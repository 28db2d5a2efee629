import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { DetourError } from "./detour-error.js";
import { OverrideSet } from "./override-set.js";
import { parseOverrides } from "./parse-overrides.js";

const setOf = (text: string): OverrideSet => parseOverrides(text, { strict: true }).set;

describe("OverrideSet", () => {
  it("EMPTY is empty", () => {
    expect(OverrideSet.EMPTY.isEmpty).toBe(true);
    expect(OverrideSet.EMPTY.size).toBe(0);
    expect(OverrideSet.EMPTY.toString()).toBe("");
    expect(OverrideSet.EMPTY.entries()).toEqual([]);
    expect(OverrideSet.EMPTY.versionFor("pricing")).toBeUndefined();
  });

  it("versionFor: named beats wildcard, wildcard covers the rest", () => {
    const set = setOf("*=sb-1,pricing=v2");
    expect(set.versionFor("pricing")).toBe("v2");
    expect(set.versionFor("cart")).toBe("sb-1");
    expect(set.wildcard).toBe("sb-1");
    expect(setOf("pricing=v2").versionFor("cart")).toBeUndefined();
  });

  it("versionFor matches service names case-insensitively", () => {
    expect(setOf("pricing=v2").versionFor("Pricing")).toBe("v2");
  });

  it("entries(): canonical order, frozen", () => {
    const set = setOf("*=sb,pricing=v1,cart=pr-7,pricing=v2");
    expect(set.entries()).toEqual([
      { service: "pricing", version: "v2" },
      { service: "cart", version: "pr-7" },
      { service: "*", version: "sb" },
    ]);
    expect(Object.isFrozen(set.entries())).toBe(true);
    expect(Object.isFrozen(set.entries()[0])).toBe(true);
    expect([...set].map((e) => e.service)).toEqual(["pricing", "cart", "*"]);
    expect(set.size).toBe(3);
  });

  it("toString, toJSON and inspect show the canonical text", () => {
    const set = setOf(" Cart = pr-7 , *=sb");
    expect(set.toString()).toBe("cart=pr-7,*=sb");
    expect(JSON.stringify({ set })).toBe('{"set":"cart=pr-7,*=sb"}');
    expect(inspect(set)).toBe("OverrideSet(cart=pr-7,*=sb)");
  });

  describe("fromEntries", () => {
    it("accepts entries and pairs, lower-cases services, later duplicate wins", () => {
      const set = OverrideSet.fromEntries([{ service: "Pricing", version: "v1" }, ["cart", "pr-7"], ["pricing", "v2"], ["*", "sb"]]);
      expect(set.toString()).toBe("pricing=v2,cart=pr-7,*=sb");
    });

    it("returns EMPTY for no entries", () => {
      expect(OverrideSet.fromEntries([])).toBe(OverrideSet.EMPTY);
    });

    it.each([
      [["pri cing", "v1"], "invalid-service"],
      [["", "v1"], "invalid-service"],
      [["pricing", ""], "invalid-version"],
      [["pricing", "v 1"], "invalid-version"],
      [[42, "v1"], "invalid-service"],
    ])("throws DetourError for %j", (pair, code) => {
      let error: unknown;
      try {
        OverrideSet.fromEntries([pair as unknown as [string, string]]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DetourError);
      expect((error as DetourError).code).toBe(code);
      expect((error as DetourError).message).toMatch(/: use /);
    });
  });

  describe("withDefaults (workload injection)", () => {
    const services = ["pricing", "cart", "catalog", "frontend"];
    const table: [string, string, string][] = [
      // request, defaults, expected
      ["", "*=pr-7", "*=pr-7"],
      ["pricing=v2", "", "pricing=v2"],
      ["pricing=v2", "*=pr-7", "pricing=v2,*=pr-7"],
      ["pricing=v2", "pricing=v9,cart=pr-7", "pricing=v2,cart=pr-7"],
      ["*=sb", "pricing=v9", "*=sb"], // the request's wildcard already answers every service
      ["pricing=v2,*=sb", "cart=pr-7,*=x", "pricing=v2,*=sb"],
    ];
    it.each(table)("%j under %j -> %j", (request, defaults, expected) => {
      const merged = setOf(request).withDefaults(setOf(defaults));
      expect(merged.toString()).toBe(expected);
      for (const service of services) {
        expect(merged.versionFor(service)).toBe(setOf(request).versionFor(service) ?? setOf(defaults).versionFor(service));
      }
    });

    it("returns an operand when nothing changes", () => {
      const request = setOf("pricing=v2");
      expect(request.withDefaults(OverrideSet.EMPTY)).toBe(request);
      expect(request.withDefaults(setOf("pricing=v9"))).toBe(request);
      const defaults = setOf("*=pr-7");
      expect(OverrideSet.EMPTY.withDefaults(defaults)).toBe(defaults);
    });
  });

  it("equals ignores order, not content", () => {
    expect(setOf("a=1,b=2").equals(setOf("b=2,a=1"))).toBe(true);
    expect(setOf("a=1,*=x").equals(setOf("*=x,a=1"))).toBe(true);
    expect(setOf("a=1").equals(setOf("a=2"))).toBe(false);
    expect(setOf("a=1").equals(setOf("a=1,b=2"))).toBe(false);
    expect(setOf("a=1").equals(setOf("a=1,*=x"))).toBe(false);
    expect(setOf("a=1,b=2").equals(setOf("a=1,c=2"))).toBe(false);
    expect(OverrideSet.EMPTY.equals(setOf(""))).toBe(true);
  });
});
