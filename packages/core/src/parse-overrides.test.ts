import { describe, expect, it } from "vitest";
import { DetourError } from "./detour-error.js";
import type { OverrideLimits } from "./limits.js";
import { parseOverrides } from "./parse-overrides.js";
import type { Problem } from "./problem.js";
import { loadCases } from "../testdata/load-cases.js";

interface ParseCase {
  rule: string;
  input: string | string[];
  limits?: Partial<OverrideLimits>;
  set: string;
  problems: { code: string }[];
}

const cases = loadCases<ParseCase>("parse-cases.json");

describe("parseOverrides: wire grammar (testdata/parse-cases.json)", () => {
  it.each(cases.map((c) => [c.rule, c] as const))("%s", (_rule, c) => {
    const result = parseOverrides(c.input, c.limits === undefined ? undefined : { limits: c.limits });
    expect(result.set.toString()).toBe(c.set);
    expect(result.problems.map((p) => p.code)).toEqual(c.problems.map((p) => p.code));
    for (const problem of result.problems) expect(problem.carrier).toBe("x-detour");
  });

  it.each(cases.filter((c) => c.problems.length > 0).map((c) => [c.rule, c] as const))(
    "strict mode throws on: %s",
    (_rule, c) => {
      let error: unknown;
      try {
        parseOverrides(c.input, { strict: true, ...(c.limits === undefined ? {} : { limits: c.limits }) });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DetourError);
      expect((error as DetourError).code).toBe(c.problems[0]?.code);
      expect(Array.isArray((error as DetourError).cause)).toBe(true);
    },
  );

  it.each(cases.filter((c) => c.problems.length === 0).map((c) => [c.rule, c] as const))(
    "strict mode accepts: %s",
    (_rule, c) => {
      expect(parseOverrides(c.input, { strict: true, ...(c.limits === undefined ? {} : { limits: c.limits }) }).set.toString()).toBe(c.set);
    },
  );
});

describe("parseOverrides: problems say what to do", () => {
  const messageOf = (input: string): Problem | undefined => parseOverrides(input).problems[0];

  it.each([
    ["pricing", "missing-equals", "x-detour entry 'pricing' has no '=': write service=version"],
    ["pri_cing=v2", "invalid-service", "x-detour entry 'pri_cing=v2' has an invalid service 'pri_cing': use '*' or a DNS label"],
    ["pricing=v 2", "invalid-version", "x-detour entry 'pricing=v 2' has an invalid version 'v 2': use 1-63 letters, digits"],
    [Array.from({ length: 33 }, (_, i) => `s${i}=v`).join(","), "too-many-entries", "x-detour has more than 32 entries: the whole value is ignored (never truncated); send at most 32 or raise limits.maxEntries"],
    [`a=${"v".repeat(60)},`.repeat(20), "value-too-long", "x-detour value is 1260 bytes, over the limit of 1024: the whole value is ignored (never truncated); shorten it or raise limits.maxValueBytes"],
  ])("%#: %s", (input, code, message) => {
    const problem = messageOf(input);
    expect(problem?.code).toBe(code);
    expect(problem?.message.startsWith(message)).toBe(true);
  });

  it("names the entry as received and the carrier", () => {
    expect(parseOverrides(" pricing ,cart=pr-7").problems).toEqual([
      { code: "missing-equals", message: "x-detour entry 'pricing' has no '=': write service=version", carrier: "x-detour", entry: "pricing" },
    ]);
  });

  it("uses the carrier name it is given", () => {
    const [problem] = parseOverrides("pricing", { carrier: "x-my-override" }).problems;
    expect(problem?.carrier).toBe("x-my-override");
    expect(problem?.message).toMatch(/^x-my-override entry/);
  });

  it("escapes and shortens hostile entries in messages", () => {
    const hostile = `pricing=\u0007\n${"x".repeat(500)}`;
    const [problem] = parseOverrides(hostile).problems;
    expect(problem?.message).not.toContain("\n");
    expect(problem?.message).not.toContain("\u0007");
    expect(problem?.message.length).toBeLessThan(400);
    expect(problem?.entry).toBe(hostile); // the raw entry stays available to code
  });

  it("strict mode reports how many more problems there were", () => {
    expect(() => parseOverrides("a,b,c", { strict: true })).toThrow(/\(and 2 more problems\)$/);
  });
});

describe("parseOverrides: inputs", () => {
  it("treats undefined and empty arrays as no override", () => {
    expect(parseOverrides(undefined).set.isEmpty).toBe(true);
    expect(parseOverrides([]).set.isEmpty).toBe(true);
  });

  it("returns the same immutable set for a repeated value (parse cache) without sharing problem lists", () => {
    const first = parseOverrides("pricing=v2,cart=pr-7");
    const second = parseOverrides("pricing=v2,cart=pr-7");
    expect(second.set).toBe(first.set);
    expect(second.problems).not.toBe(first.problems);
  });

  it("rejects unusable limits at configuration time", () => {
    expect(() => parseOverrides("a=1", { limits: { maxEntries: 0 } })).toThrow(DetourError);
    expect(() => parseOverrides("a=1", { limits: { maxValueBytes: Number.NaN } })).toThrow("limits.maxValueBytes must be an integer from 1 to 65536, got NaN");
    expect(() => parseOverrides("a=1", { limits: { maxEntries: 1001 } })).toThrow(/limits\.maxEntries must be an integer from 1 to 1000/);
  });
});
