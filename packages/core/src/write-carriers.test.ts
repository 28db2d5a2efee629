import { describe, expect, it } from "vitest";
import { OverrideSet } from "./override-set.js";
import { parseOverrides } from "./parse-overrides.js";
import { readCarriers } from "./read-carriers.js";
import { writeCarriers } from "./write-carriers.js";

const set = parseOverrides("pricing=v2,*=sb-1", { strict: true }).set;

describe("writeCarriers", () => {
  it("sets x-detour and the baggage member on a plain object", () => {
    const headers: Record<string, string> = { host: "pricing" };
    writeCarriers(headers, set);
    expect(headers).toEqual({ host: "pricing", "x-detour": "pricing=v2,*=sb-1", baggage: "detour=pricing%3Dv2%2C*%3Dsb-1" });
  });

  it("keeps other baggage members and properties byte-for-byte", () => {
    const headers: Record<string, string> = { baggage: "userId=alice;p=1,detour=old, tenant=acme;ttl=60" };
    writeCarriers(headers, set);
    expect(headers.baggage).toBe("detour=pricing%3Dv2%2C*%3Dsb-1,userId=alice;p=1,tenant=acme;ttl=60");
  });

  it("matches names case-insensitively, joins repeated baggage lines and rewrites in lower case", () => {
    const headers: Record<string, string | string[]> = { "X-Detour": "cart=v1", Baggage: ["a=1", "detour=x"], "BAGGAGE": "b=2" };
    writeCarriers(headers, set);
    expect(headers).toEqual({ "x-detour": "pricing=v2,*=sb-1", baggage: "detour=pricing%3Dv2%2C*%3Dsb-1,a=1,b=2" });
  });

  it("an empty set removes x-detour and our member, keeping the rest", () => {
    const headers: Record<string, string> = { "x-detour": "pricing=v2", baggage: "a=1,detour=pricing%3Dv2" };
    writeCarriers(headers, OverrideSet.EMPTY);
    expect(headers).toEqual({ baggage: "a=1" });
    const only: Record<string, string> = { "X-Detour": "pricing=v2", baggage: "detour=pricing%3Dv2" };
    writeCarriers(only, OverrideSet.EMPTY);
    expect(only).toEqual({});
  });

  it("works on WHATWG Headers", () => {
    const headers = new Headers({ baggage: "a=1", "x-detour": "old=v1" });
    writeCarriers(headers, set);
    expect(headers.get("x-detour")).toBe("pricing=v2,*=sb-1");
    expect(headers.get("baggage")).toBe("detour=pricing%3Dv2%2C*%3Dsb-1,a=1");
    writeCarriers(headers, OverrideSet.EMPTY);
    expect(headers.has("x-detour")).toBe(false);
    expect(headers.get("baggage")).toBe("a=1");
    const bare = new Headers();
    writeCarriers(bare, OverrideSet.EMPTY);
    expect([...bare]).toEqual([]);
  });

  it("leaves alias carriers alone", () => {
    const headers: Record<string, string> = { "x-override": "cart:v1", baggage: "okteto-divert=ns" };
    writeCarriers(headers, set);
    expect(headers["x-override"]).toBe("cart:v1");
    expect(headers.baggage).toBe("detour=pricing%3Dv2%2C*%3Dsb-1,okteto-divert=ns");
  });

  it("round-trips through readCarriers", () => {
    const headers: Record<string, string> = { baggage: "k=v;p" };
    writeCarriers(headers, set);
    const read = readCarriers(headers);
    expect(read.set.equals(set)).toBe(true);
    expect(read.source).toBe("x-detour");
    expect(read.conflicts).toEqual([]);
    expect(read.carriers.map((c) => c.carrier)).toEqual(["x-detour", "baggage"]);
  });
});
