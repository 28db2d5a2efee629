import { describe, expect, it } from "vitest";
import { OverrideSet, parseOverrides, readCarriers, writeCarriers } from "./index.js";

describe("codec smoke", () => {
  it("parses, reads and writes the canonical carriers", () => {
    const { set, problems } = parseOverrides("Pricing=v2, cart=pr-7, *=sb, bad");
    expect(set.toString()).toBe("pricing=v2,cart=pr-7,*=sb");
    expect(problems.map((p) => p.code)).toEqual(["missing-equals"]);
    const headers: Record<string, string> = { baggage: "a=1;p" };
    writeCarriers(headers, set);
    expect(headers).toEqual({ baggage: "detour=pricing%3Dv2%2Ccart%3Dpr-7%2C*%3Dsb,a=1;p", "x-detour": "pricing=v2,cart=pr-7,*=sb" });
    const read = readCarriers(headers);
    expect(read.source).toBe("x-detour");
    expect(read.set.equals(set)).toBe(true);
    expect(read.conflicts).toEqual([]);
    writeCarriers(headers, OverrideSet.EMPTY);
    expect(headers).toEqual({ baggage: "a=1;p" });
  });
});
