import { OverrideSet } from "@detour/core";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load-config.js";
import type { TokenFinding } from "../trust/token-finding.js";
import { trustTableFromConfig } from "../trust/trust-table.js";
import type { HeaderPair } from "../header-pair.js";
import { routingTableFromConfig } from "./routing-table.js";
import { decideEdge, decideTokenHop } from "./trust-decision.js";

const document = {
  services: {
    frontend: { baseline: "v1", versions: { v1: {}, v2: {} } },
    pricing: { baseline: "v1", versions: { v1: {}, v2: {} } },
    cart: { baseline: "v1", miss: "reject", versions: { v1: {}, "pr-7": {} } },
  },
  aliases: [{ header: "x-override", format: "pairs" }, { baggage: "okteto-divert" }],
  edge: {
    service: "frontend",
    trustedCidrs: ["10.1.0.0/16", "::1/128"],
    trustedPrincipals: ["spiffe://corp/ci"],
  },
};

function tables(edge: Record<string, unknown> = {}) {
  // Tokens are verified before the decision; these tests hand it findings, so no keys are needed.
  const config = parseConfig({ ...document, edge: { ...document.edge, ...edge } });
  const table = routingTableFromConfig(config);
  return { table, trust: trustTableFromConfig(config, table, { baseDir: "/" }) };
}

function pairs(headers: Record<string, string | string[]>): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const [name, value] of Object.entries(headers)) for (const line of [value].flat()) out.push([name, line]);
  return out;
}

const ABSENT: TokenFinding = { status: "absent" };
const TOKEN = "eyJ.eyJ.sig";
function valid(ovr: string, source: "header" | "cookie" | "query" = "header"): TokenFinding {
  return {
    status: "valid",
    token: TOKEN,
    source,
    verified: { set: OverrideSet.fromEntries(ovr.split(",").map((e) => e.split("=") as [string, string])), expiresAt: 2e9, notBefore: undefined, issuedAt: undefined, subject: "alice", kid: "k1" },
  };
}

const MARKER: HeaderPair = ["x-detour-edge", "checked"];

describe("decideEdge", () => {
  const { table, trust } = tables();
  const edge = (headers: Record<string, string | string[]>, finding: TokenFinding = ABSENT, source = "203.0.113.9:5555") =>
    decideEdge({ authority: "shop.example.com", headers: pairs(headers), sourceAddress: source }, table, trust, finding);

  it("marks every answered request, even one without any carrier", () => {
    const decision = edge({});
    expect(decision.setHeaders).toEqual([MARKER]);
    expect(decision.clearRouteCache).toBe(true);
    expect(decision.trust).toMatchObject({ via: undefined, rejections: [] });
  });

  it("removes untrusted baggage members and keeps the rest byte-for-byte", () => {
    const decision = edge({ baggage: ["userId=42;p=1", "detour=pricing%3Dv2,okteto-divert=pr-7, trace=a%20b"], "x-override": "pricing:v2" });
    expect(decision.setHeaders).toEqual([["baggage", "userId=42;p=1,trace=a%20b"], MARKER]);
    expect(decision.removeHeaders).toEqual(["x-override"]);
    expect(decision.route).toBeUndefined();
    expect(decision.trust.rejections).toEqual(["untrusted-carrier"]);
    expect(edge({ baggage: "detour =pricing%3Dv2" }).removeHeaders).toEqual(["baggage"]);
  });

  it("turns a valid token into canonical carriers for the hops behind, and routes the edge service", () => {
    const decision = edge({ "x-detour": "pricing=v9", baggage: "detour=cart%3Dpr-7,userId=42" }, valid("frontend=v2,pricing=v2", "cookie"));
    expect(decision.setHeaders).toEqual([
      ["x-detour", "frontend=v2,pricing=v2"],
      ["baggage", "detour=frontend%3Dv2%2Cpricing%3Dv2,userId=42"],
      ["x-detour-token", TOKEN],
      ["x-detour-route", "v2"],
      MARKER,
    ]);
    expect(decision.route).toBe("v2");
    expect(decision.trust).toMatchObject({ via: "token", tokenSource: "cookie", subject: "alice", kid: "k1", rejections: [] });
  });

  it("drops a bad token and its override, or answers 401 on a strict edge", () => {
    const bad: TokenFinding = { status: "rejected", reason: "expired", source: "header" };
    const decision = edge({ "x-detour-token": "whatever", baggage: "detour=pricing%3Dv2" }, bad);
    expect(decision.removeHeaders).toEqual(["baggage", "x-detour-token"]);
    expect(decision.trust.rejections).toEqual(["expired", "untrusted-carrier"]);
    const strict = tables({ onInvalid: "reject" });
    const rejected = decideEdge({ authority: "x", headers: pairs({ "x-detour-token": "whatever" }), sourceAddress: undefined }, strict.table, strict.trust, bad);
    expect(rejected.reject).toEqual({ status: 401, body: expect.stringMatching(/^detour: override token rejected \(expired\)/), details: "detour_token_rejected" });
    expect(rejected.reject!.body).not.toContain("whatever");
  });

  it("honours plain carriers from trusted source ranges and principals like a sidecar", () => {
    const fromCidr = edge({ "x-detour": "frontend=v2", "x-detour-token": "junk" }, { status: "rejected", reason: "malformed", source: "header" }, "10.1.2.3:4000");
    expect(fromCidr.route).toBe("v2");
    expect(fromCidr.setHeaders).toContainEqual(MARKER);
    expect(fromCidr.removeHeaders).toContain("x-detour-token");
    expect(fromCidr.trust).toMatchObject({ via: "cidr", rejections: ["malformed"] });
    expect(edge({ "x-detour": "pricing=v2" }, ABSENT, "[::1]:4000").trust.via).toBe("cidr");
    expect(edge({ "x-detour": "pricing=v2" }, ABSENT, "[::ffff:10.1.0.9]:4000").trust.via).toBe("cidr");
    expect(edge({ "x-detour": "pricing=v2" }, ABSENT, "10.2.0.1:4000").trust.via).toBeUndefined();
    const ci = edge({ "x-detour": "pricing=v2", "x-forwarded-client-cert": "Hash=1;URI=spiffe://corp/ci" });
    expect(ci.trust.via).toBe("principal");
    expect(ci.set.toString()).toBe("pricing=v2");
    expect(edge({ "x-detour": "pricing=v2", "x-forwarded-client-cert": "Hash=1;URI=spiffe://corp/other" }).removeHeaders).toEqual(["x-detour"]);
  });
});

describe("decideTokenHop", () => {
  const config = parseConfig({ ...document, workloads: { "frontend/v1": {}, "cart/pr-7": { inject: "*=pr-7" } } });
  const table = routingTableFromConfig(config);
  const trust = trustTableFromConfig(config, table, { baseDir: "/" });
  const hop = (authority: string, headers: Record<string, string | string[]>, finding: TokenFinding, workload = "frontend/v1") =>
    decideTokenHop({ authority, headers: pairs(headers), workload }, table, trust, finding);

  it("ignores plain carriers without a token", () => {
    const decision = hop("pricing", { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2,k=v" }, ABSENT);
    expect(decision.route).toBeUndefined();
    expect(decision.removeHeaders).toEqual(["x-detour"]);
    expect(decision.setHeaders).toEqual([["baggage", "k=v"]]);
    expect(decision.trust.rejections).toEqual(["missing-token"]);
  });

  it("routes by the token's override and rewrites plain carriers to it", () => {
    const decision = hop("pricing", { "x-detour": "pricing=v1", "x-detour-token": TOKEN }, valid("pricing=v2"));
    expect(decision.route).toBe("v2");
    expect(decision.setHeaders).toEqual([["x-detour", "pricing=v2"], ["baggage", "detour=pricing%3Dv2"], ["x-detour-route", "v2"]]);
    expect(decision.clearRouteCache).toBe(true);
  });

  it("still applies the workload's own injection, and its miss policy", () => {
    expect(hop("cart", {}, ABSENT, "cart/pr-7").route).toBe("pr-7");
    expect(hop("cart", { "x-detour-token": TOKEN }, valid("cart=v9")).reject?.status).toBe(503);
  });
});
