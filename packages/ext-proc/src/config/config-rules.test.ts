import { DetourError } from "@detour/core";
import { describe, expect, it } from "vitest";
import { decide } from "../decision/route-decision.js";
import { routingTableFromConfig } from "../decision/routing-table.js";
import { parseConfig } from "./load-config.js";

const services = { pricing: { baseline: "v1", versions: { v1: {}, v2: {} } } };

function refusal(document: unknown): DetourError {
  try {
    parseConfig(document, "detour.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(DetourError);
    return error as DetourError;
  }
  throw new Error("config was accepted");
}

describe("detour.yaml refuses at load what the wire format reserves", () => {
  it.each(["x-detour", "X-Detour-Token", "x-detour-route", "x-detour-edge", "baggage"])("alias header %s", (header) => {
    const error = refusal({ services, aliases: [{ header, format: "wildcard" }] });
    expect(error.message).toContain(`aliases[0].header: '${header}' is one of detour's own headers`);
  });

  it("alias baggage member detour", () => {
    expect(refusal({ services, aliases: [{ baggage: "detour" }] }).message).toContain("aliases[0].baggage: 'detour' is detour's own baggage member");
  });

  it("an alias header that is not a header name", () => {
    expect(refusal({ services, aliases: [{ header: "x override", format: "pairs" }] }).message).toMatch(/aliases\[0\]\.header: must be a header name/);
  });

  it("limits outside their range", () => {
    expect(refusal({ services, limits: { maxEntries: 0 } }).message).toMatch(/limits\.maxEntries/);
    expect(refusal({ services, limits: { maxValueBytes: 70_000 } }).message).toMatch(/limits\.maxValueBytes/);
  });
});

describe("a config that loads never makes decide() throw", () => {
  it("with every alias the schema accepts", () => {
    const table = routingTableFromConfig(
      parseConfig({ services, aliases: [{ header: "X-Override", format: "pairs" }, { header: "virtual-cluster-name", format: "wildcard" }, { baggage: "okteto-divert" }] }),
    );
    const decision = decide({ authority: "pricing", headers: [["x-override", "pricing:v2"]] }, table);
    expect(decision.route).toBe("v2");
  });
});
