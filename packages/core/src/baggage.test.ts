import { describe, expect, it } from "vitest";
import { loadCases } from "../testdata/load-cases.js";
import { baggageWithOverride, decodeBaggageValue, encodeBaggageValue, removeBaggageMembers, scanBaggage } from "./baggage.js";
import { BAGGAGE_MAX_BYTES, BAGGAGE_MAX_MEMBERS } from "./limits.js";
import { OverrideSet } from "./override-set.js";
import { parseOverrides } from "./parse-overrides.js";

interface BaggageCase {
  rule: string;
  baggage: string | null;
  set: string;
  expected: string | null;
}

const setOf = (text: string): OverrideSet => parseOverrides(text, { strict: true }).set;

describe("baggageWithOverride (testdata/baggage-cases.json)", () => {
  it.each(loadCases<BaggageCase>("baggage-cases.json").map((c) => [c.rule, c] as const))("%s", (_rule, c) => {
    expect(baggageWithOverride(c.baggage ?? undefined, setOf(c.set)) ?? null).toBe(c.expected);
  });

  it("writes what OpenTelemetry's W3CBaggagePropagator writes for the same value", () => {
    const set = setOf("pricing=v2,cart=pr-7,*=sandbox-3");
    expect(baggageWithOverride(undefined, set)).toBe(`detour=${encodeURIComponent(set.toString())}`);
  });
});

describe("removeBaggageMembers", () => {
  it.each([
    ["removes several keys", "a=1,okteto-divert=ns,b=2,sd-routing-key=k", ["okteto-divert", "sd-routing-key"], "a=1,b=2"],
    ["undefined stays undefined", undefined, ["a"], undefined],
    ["nothing left", "a=1", ["a"], undefined],
    ["no key given", "a=1 , b=2", [], "a=1 , b=2"],
    ["key mentioned only inside a value", "x=a,b=a", ["a"], "x=a,b=a"],
    ["properties go with their member", "a=1;p=2;q,b=2", ["a"], "b=2"],
  ] as const)("%s", (_rule, baggage, keys, expected) => {
    expect(removeBaggageMembers(baggage, keys)).toBe(expected);
  });
});

describe("decodeBaggageValue / encodeBaggageValue", () => {
  it.each([
    ["plain", "pricing", "pricing"],
    ["upper-case escapes", "a%3Db%2Cc", "a=b,c"],
    ["lower-case escapes", "a%3db%2cc", "a=b,c"],
    ["'+' is not a space", "a+b", "a+b"],
    ["UTF-8", "caf%C3%A9", "café"],
    ["invalid UTF-8 becomes U+FFFD", "a%FFb", "a\uFFFDb"],
    ["truncated UTF-8 becomes U+FFFD", "a%C3", "a\uFFFD"],
  ])("decodes %s", (_rule, raw, expected) => {
    expect(decodeBaggageValue(raw)).toBe(expected);
  });

  it.each(["%", "%4", "a%G1", "%%41", "a%2"])("rejects the bad escape in %j", (raw) => {
    expect(decodeBaggageValue(raw)).toBeUndefined();
  });

  it("encodes like encodeURIComponent", () => {
    expect(encodeBaggageValue("pricing=v2,*=sb")).toBe("pricing%3Dv2%2C*%3Dsb");
  });
});

describe("scanBaggage window (OpenTelemetry's limits)", () => {
  const filler = (n: number): string => Array.from({ length: n }, (_, i) => `m${i}=x`).join(",");

  it(`reads member ${BAGGAGE_MAX_MEMBERS} and reports member ${BAGGAGE_MAX_MEMBERS + 1}`, () => {
    expect(scanBaggage(`${filler(BAGGAGE_MAX_MEMBERS - 1)},detour=a`, ["detour"])).toEqual([{ kind: "value", raw: "a" }]);
    expect(scanBaggage(`${filler(BAGGAGE_MAX_MEMBERS)},detour=a`, ["detour"])).toEqual([{ kind: "beyond-limit" }]);
  });

  it(`reads a member ending at byte ${BAGGAGE_MAX_BYTES} and reports one ending after it`, () => {
    const head = `big=${"x".repeat(BAGGAGE_MAX_BYTES - 4 - 10)},`; // ',detour=a' ends exactly at the limit
    expect(head.length + "detour=a".length).toBeLessThanOrEqual(BAGGAGE_MAX_BYTES);
    expect(scanBaggage(`${head}detour=a`, ["detour"])[0]?.kind).toBe("value");
    expect(scanBaggage(`${head}xxxx,detour=a`, ["detour"])[0]?.kind).toBe("beyond-limit");
  });

  it("does not report a window overflow when our key is not a member past it", () => {
    expect(scanBaggage(`${filler(300)}`, ["detour"])).toEqual([{ kind: "absent" }]);
    expect(scanBaggage(`${filler(300)},note=detour,detours=1`, ["detour"])).toEqual([{ kind: "absent" }]);
    expect(scanBaggage(`${filler(300)},note=x, detour ;p`, ["detour"])).toEqual([{ kind: "beyond-limit" }]);
  });

  it("never throws on any member shape", () => {
    for (const baggage of ["", ",", ";", "=", "detour", "detour=", "detour;", "detour =;", "\u0000detour=\uffff", "detour==="]) {
      expect(() => scanBaggage(baggage, ["detour", "x"])).not.toThrow();
    }
    expect(scanBaggage("detour=", ["detour"])).toEqual([{ kind: "value", raw: "" }]);
  });
});

describe("OverrideSet.EMPTY on the write path", () => {
  it("keeps foreign baggage when there is nothing to write", () => {
    expect(baggageWithOverride("a=1", OverrideSet.EMPTY)).toBe("a=1");
  });
});
