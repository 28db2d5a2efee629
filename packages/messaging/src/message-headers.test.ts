import { describe, expect, it } from "vitest";
import { headerText, pickHeaderEntries, pickHeaders } from "./message-headers.js";

describe("message headers", () => {
  it("reads text from every shape a broker client hands over, and nothing else", () => {
    expect(headerText("a")).toBe("a");
    expect(headerText(Buffer.from("é"))).toBe("é");
    expect(headerText(new Uint8Array([0x61, 0x62]))).toBe("ab");
    expect(headerText(7)).toBe("7");
    expect(headerText(["a", Buffer.from("b"), null])).toBe("a,b");
    expect(headerText({ toString: () => "x" })).toBeUndefined();
    expect(headerText(undefined)).toBeUndefined();
  });

  it("picks only the names asked for, case-insensitively, joining repeated keys", () => {
    const names = ["x-detour", "baggage"];
    expect(pickHeaders({ "X-Detour": Buffer.from("ledger=v2"), baggage: ["a=1", Buffer.from("b=2")], other: "x" }, names)).toEqual({
      "x-detour": "ledger=v2",
      baggage: "a=1,b=2",
    });
    expect(pickHeaders(undefined, names)).toEqual({});
    const entries = new Map<unknown, unknown>([
      [Buffer.from("BAGGAGE"), Buffer.from("detour=ledger%3Dv2")],
      ["x-detour", "ledger=v2"],
      [Buffer.from("other"), Buffer.from("y")],
    ]);
    expect(pickHeaderEntries(entries, names)).toEqual({ "x-detour": "ledger=v2", baggage: "detour=ledger%3Dv2" });
  });
});
