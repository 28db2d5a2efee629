import { describe, expect, it } from "vitest";
import { callIdentity, type CallMetadata } from "./process-call.js";

const metadata = (values: Record<string, unknown>): CallMetadata => ({ get: (key) => (key in values ? [values[key]] : []) });

describe("callIdentity", () => {
  it("reads the workload and the edge role from the stream metadata", () => {
    expect(callIdentity(metadata({ "x-detour-workload": "cart/pr-7", "x-detour-role": "edge" }))).toEqual({ workload: "cart/pr-7", role: "edge" });
  });

  it("treats a missing, empty or binary value as absent and any other role as outbound", () => {
    expect(callIdentity(metadata({}))).toEqual({ workload: undefined, role: "outbound" });
    expect(callIdentity(metadata({ "x-detour-workload": "", "x-detour-role": "sidecar" }))).toEqual({ workload: undefined, role: "outbound" });
    expect(callIdentity(metadata({ "x-detour-workload": Buffer.from("cart/v1") }))).toEqual({ workload: undefined, role: "outbound" });
  });
});
