import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readDemoRequests } from "./demo-requests.js";

describe("examples/demo-requests.yaml", () => {
  it("is valid and covers the cases the demo promises", () => {
    const file = fileURLToPath(new URL("../../../../examples/demo-requests.yaml", import.meta.url));
    const { requests, jobs } = readDemoRequests(file);
    const headers = requests.map((request) => request.headers);
    expect(headers).toContainEqual({});
    expect(headers).toContainEqual({ "x-detour": "pricing=v2" });
    expect(headers).toContainEqual({ "x-detour": "catalog=v2,pricing=v2" });
    expect(headers).toContainEqual({ "x-detour": "*=pr-7" });
    expect(headers.some((h) => h.baggage !== undefined && h["x-detour"] === undefined)).toBe(true);
    expect(requests.some((request) => request.expect.includes("!503"))).toBe(true);
    expect(jobs.map((job) => job.workload)).toEqual(["cart/pr-7"]);
  });
});
