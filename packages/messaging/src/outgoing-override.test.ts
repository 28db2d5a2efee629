import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { OverrideSet, parseOverrides } from "@detour/core";
import { setOverrides } from "@detour/otel";
import { describe, expect, it } from "vitest";
import { injectOverride } from "./outgoing-override.js";

const ctx = (text: string) => setOverrides(ROOT_CONTEXT, parseOverrides(text, { strict: true }).set);

describe("injectOverride", () => {
  it("writes x-detour and the baggage member, keeping the message's other baggage members", () => {
    const headers: Record<string, unknown> = { Baggage: Buffer.from("tenant=acme"), other: Buffer.from("x") };
    expect(injectOverride(headers, undefined, ctx("ledger=v2,*=pr-7"))).toBe(true);
    expect(headers).toEqual({ "x-detour": "ledger=v2,*=pr-7", baggage: "detour=ledger%3Dv2%2C*%3Dpr-7,tenant=acme", other: Buffer.from("x") });
  });

  it("replaces a stale override the message carried with the context's", () => {
    const headers: Record<string, unknown> = { "X-Detour": "ledger=v9", baggage: "detour=ledger%3Dv9" };
    injectOverride(headers, undefined, ctx("ledger=v2"));
    expect(headers).toEqual({ "x-detour": "ledger=v2", baggage: "detour=ledger%3Dv2" });
  });

  it("merges a workload's injection under the context's entries, as a sidecar does", () => {
    const headers: Record<string, unknown> = {};
    injectOverride(headers, OverrideSet.fromEntries([["*", "pr-7"]]), ctx("pricing=v2"));
    expect(headers["x-detour"]).toBe("pricing=v2,*=pr-7");
    const jobHeaders: Record<string, unknown> = {};
    injectOverride(jobHeaders, OverrideSet.fromEntries([["*", "pr-7"]]), ROOT_CONTEXT);
    expect(jobHeaders["x-detour"]).toBe("*=pr-7");
  });

  it("leaves the headers alone when there is nothing to carry", () => {
    const headers: Record<string, unknown> = { "x-detour": "ledger=v2" };
    expect(context.with(ROOT_CONTEXT, () => injectOverride(headers))).toBe(false);
    expect(headers).toEqual({ "x-detour": "ledger=v2" });
  });
});
