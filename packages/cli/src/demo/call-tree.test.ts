import { describe, expect, it } from "vitest";
import { callNodeFromJson, compactTree, drawTree } from "./call-tree.js";

const baselines = new Map([
  ["frontend", "v1"],
  ["catalog", "v1"],
  ["pricing", "v1"],
  ["cart", "v1"],
]);

const answer = {
  service: "frontend",
  version: "v1",
  calls: [
    { service: "catalog", version: "v2", calls: [{ service: "pricing", version: "v2", calls: [] }] },
    { service: "cart", version: "v1", calls: [{ service: "pricing", version: "v2", calls: [] }] },
  ],
};

describe("call trees", () => {
  it("writes the compact notation used by the demo's expectations", () => {
    expect(compactTree(callNodeFromJson(answer))).toBe("frontend@v1(catalog@v2(pricing@v2),cart@v1(pricing@v2))");
    expect(compactTree(callNodeFromJson({ service: "frontend", version: "v1", calls: [{ service: "catalog", status: 503, error: "no v9" }] }))).toBe(
      "frontend@v1(catalog!503)",
    );
    expect(compactTree(callNodeFromJson({ service: "cart", error: "ECONNREFUSED" }))).toBe("cart!error");
  });

  it("turns anything that is not an answer into a failure node", () => {
    expect(callNodeFromJson("oops", "edge")).toEqual({ service: "edge", error: 'not an answer: "oops"' });
    expect(callNodeFromJson({ service: "pricing" })).toEqual({ service: "pricing", error: "answer names no version" });
  });

  it("draws one hop per line and marks the hops an override moved", () => {
    expect(drawTree(callNodeFromJson(answer), { baselines })).toEqual([
      "frontend@v1",
      "├─ catalog@v2  ← overridden",
      "│  └─ pricing@v2  ← overridden",
      "└─ cart@v1",
      "   └─ pricing@v2  ← overridden",
    ]);
  });

  it("explains a named version that missed and a failed call", () => {
    const missed = { service: "frontend", version: "v1", calls: [{ service: "pricing", version: "v1", calls: [] }, { service: "catalog", status: 503, error: "catalog has no version v9" }] };
    expect(drawTree(callNodeFromJson(missed), { baselines, requested: new Map([["pricing", "v3"]]) })).toEqual([
      "frontend@v1",
      "├─ pricing@v1  (asked v3: no such version, baseline served)",
      "└─ catalog  ✗ 503 catalog has no version v9",
    ]);
  });
});
