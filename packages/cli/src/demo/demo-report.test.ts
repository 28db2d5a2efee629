import { describe, expect, it } from "vitest";
import { curlLine, shellQuote } from "./curl-line.js";
import { formatOutcomes } from "./demo-report.js";

const baselines = new Map([
  ["frontend", "v1"],
  ["catalog", "v1"],
  ["pricing", "v1"],
  ["cart", "v1"],
]);

describe("demo report", () => {
  it("quotes header flags for a shell", () => {
    expect(shellQuote("x-detour: *=pr-7")).toBe("'x-detour: *=pr-7'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(curlLine("http://127.0.0.1:10000/", { "x-detour": "pricing=v2" })).toBe("curl -s -H 'x-detour: pricing=v2' http://127.0.0.1:10000/");
  });

  it("prints each request's curl line, its tree and the verdict", () => {
    const text = formatOutcomes(
      [
        {
          name: "pricing=v3 (miss)",
          headers: { "x-detour": "pricing=v3" },
          expected: "frontend@v1(pricing@v1)",
          actual: "frontend@v1(pricing@v1)",
          ok: true,
          tree: { service: "frontend", version: "v1", calls: [{ service: "pricing", version: "v1", calls: [] }] },
        },
        {
          name: "job",
          headers: {},
          expected: "cart@pr-7(pricing@v1)",
          actual: "cart@pr-7(pricing!503)",
          ok: false,
          tree: { service: "cart", version: "pr-7", calls: [{ service: "pricing", status: 503, error: "detour: no v9" }] },
        },
      ],
      { baselines, edgeUrl: "http://127.0.0.1:10000/", jobUrls: new Map([["job", "http://127.0.0.1:9402/jobs/refresh-prices"]]) },
    );
    expect(text).toBe(
      [
        "1. pricing=v3 (miss)",
        "   $ curl -s -H 'x-detour: pricing=v3' http://127.0.0.1:10000/",
        "   frontend@v1",
        "   └─ pricing@v1  (asked v3: no such version, baseline served)",
        "   ✓ as expected",
        "",
        "2. job",
        "   $ curl -s http://127.0.0.1:9402/jobs/refresh-prices",
        "   cart@pr-7",
        "   └─ pricing  ✗ 503 detour: no v9",
        "   ✗ expected cart@pr-7(pricing@v1)",
        "     but got  cart@pr-7(pricing!503)",
        "",
        "1 of 2 call trees are NOT as expected.",
        "",
      ].join("\n"),
    );
  });
});
