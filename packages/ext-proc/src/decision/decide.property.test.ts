import { DetourError, isValidVersion } from "@detour/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load-config.js";
import type { HeaderPair } from "../header-pair.js";
import { trustTableFromConfig } from "../trust/trust-table.js";
import { NO_TOKEN } from "../trust/token-finding.js";
import { decide } from "./route-decision.js";
import { routingTableFromConfig } from "./routing-table.js";
import { decideEdge } from "./trust-decision.js";

// Random detour.yaml documents × random requests. A document either loads or is refused with a
// DetourError naming the field; one that loads compiles, and no request can make decide() (or the
// edge's decision built on it) throw. Fixed seed: a failure reproduces with its shrunk case.
const params = { seed: 20260509, numRuns: 300 };

/** Mostly what a config would hold, sometimes something it must refuse. */
const mostly = <T, U>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) => fc.oneof({ weight: 20, arbitrary: usual }, { weight: 1, arbitrary: odd });

/** Names a config might use: valid ones, detour's own, and hostile text. */
const name = mostly(
  fc.constantFrom("pricing", "cart", "catalog", "x-override", "virtual-cluster-name", "okteto-divert", "sd-routing-key"),
  fc.oneof(
    fc.constantFrom("x-detour", "X-Detour-Token", "x-detour-route", "x-detour-edge", "baggage", "detour", "Baggage"),
    fc.constantFrom("", " ", "a b", "é", "x:y", "Pricing", "-a", "a".repeat(64), "*", "__proto__", "constructor"),
    fc.string({ maxLength: 10 }),
  ),
);
const version = mostly(fc.constantFrom("v1", "v2", "pr-7", "sandbox.3", "V2"), fc.oneof(fc.constantFrom("", ".v1", "v 1", "v".repeat(64), "é"), fc.string({ maxLength: 8 })));
const overrideText = mostly(
  fc.constantFrom("*=pr-7", "pricing=v2", "pricing=v2,*=sandbox.3", "", "*=pr-7,cart=v1"),
  fc.oneof(fc.constantFrom("pricing", "a=b=c"), fc.string({ unit: fc.constantFrom(..."pricng=v2,*:- ."), maxLength: 30 })),
);
const oddLimit = fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.constantFrom(1.5, "32"));

const service = fc
  .tuple(fc.uniqueArray(version, { minLength: 1, maxLength: 3 }), version, mostly(fc.constant(true), fc.constant(false)))
  .map(([versions, other, own]) => ({
    baseline: own ? versions[0] : other,
    versions: Object.fromEntries(versions.map((v) => [v, {}])),
  }))
  .chain((spec) =>
    fc.record(
      {
        baseline: fc.constant(spec.baseline),
        versions: fc.constant(spec.versions),
        miss: mostly(fc.constantFrom("fallback", "reject"), fc.constant("drop")),
        hosts: fc.array(mostly(fc.constantFrom("prices.internal", "PRICES.internal", "cart-api"), name), { maxLength: 2 }),
      },
      { requiredKeys: ["baseline", "versions"] },
    ),
  );

const document = fc.record(
  {
    services: fc.dictionary(name, service, { minKeys: 1, maxKeys: 4 }),
    workloads: fc.dictionary(
      mostly(fc.constantFrom("cart/pr-7", "pricing/v1", "catalog/v2"), fc.tuple(name, version).map(([s, v]) => `${s}/${v}`)),
      fc.record({ inject: overrideText }, { requiredKeys: [] }),
      { maxKeys: 3 },
    ),
    aliases: fc.array(
      mostly(
        fc.oneof(fc.record({ header: name, format: fc.constantFrom("pairs", "wildcard") }), fc.record({ baggage: name })),
        fc.constantFrom({ header: "x-override" }, { header: "x-o", format: "csv" }, { baggage: "k", header: "h" }, "x-override", null),
      ),
      { maxLength: 3 },
    ),
    limits: fc.record(
      { maxEntries: mostly(fc.constantFrom(1, 2, 32, 1000), oddLimit), maxValueBytes: mostly(fc.constantFrom(1, 16, 1024, 65_536), oddLimit) },
      { requiredKeys: [] },
    ),
    routing: fc.record({ clusterDomains: fc.array(fc.constantFrom("svc.cluster.local", "shop.example", ".local."), { maxLength: 2 }) }),
    edge: fc.record({ trustedCidrs: fc.array(fc.constantFrom("127.0.0.0/8", "::1/128", "10.0.0.0/8"), { maxLength: 2 }) }),
  },
  { requiredKeys: ["services"] },
);

/** Header values a hostile or careless client sends. */
const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("pricing=v2", "*=pr-7", "cart=pr-7,*=v2", "pricing:v2", "pr-7", "detour=pricing%3Dv2", "okteto-divert=pr-7") },
  fc.constantFrom("detour=%zz", "detour", "v2", "a=1,".repeat(40)),
  fc.string({ unit: fc.constantFrom(..."pricng=v2,*:;%3D- .\t\u0000é"), maxLength: 80 }),
  fc.string({ maxLength: 30 }),
  fc.nat({ max: 70_000 }).map((n) => `pricing=${"v".repeat(n % 3000)}`),
  fc.array(fc.constantFrom("a=1", "x=y", "detour=b%3D2"), { maxLength: 200 }).map((members) => members.join(",")),
);
const headerName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom("x-detour", "baggage", "x-detour-route", "x-override", "virtual-cluster-name", "x-detour-token", "cookie") },
  { weight: 1, arbitrary: name.map((n) => n.toLowerCase()) },
);
const request = fc.record({
  authority: fc.option(
    mostly(
      fc.constantFrom("pricing", "pricing:8080", "cart", "catalog:80", "PRICES.internal:80", "cart.shop.svc.cluster.local"),
      fc.oneof(fc.constantFrom("[::1]:80", ":", "", "."), fc.string({ maxLength: 20 })),
    ),
    { nil: undefined },
  ),
  headers: fc.array(fc.tuple(headerName, value), { maxLength: 8 }),
  workload: fc.option(fc.constantFrom("cart/pr-7", "pricing/v1", "nobody/v1", ""), { nil: undefined }),
});

describe("configs that load × random requests", () => {
  it("decide() and the edge decision never throw, and only route to versions the topology has", () => {
    let loaded = 0;
    let routed = 0;
    fc.assert(
      fc.property(document, fc.array(request, { minLength: 1, maxLength: 6 }), (doc, requests) => {
        let config;
        try {
          config = parseConfig(doc, "detour.yaml");
        } catch (error) {
          expect(error).toBeInstanceOf(DetourError);
          expect((error as DetourError).code).toBe("invalid-config");
          return;
        }
        loaded++;
        const table = routingTableFromConfig(config);
        const trust = trustTableFromConfig(config, table, { baseDir: "." });
        for (const { authority, headers, workload } of requests) {
          const pairs: HeaderPair[] = headers;
          const decision = decide({ authority, headers: pairs, workload }, table);
          if (decision.route !== undefined) {
            routed++;
            expect(isValidVersion(decision.route)).toBe(true);
            expect(table.services.get(decision.service as string)?.versions.has(decision.route)).toBe(true);
          }
          decideEdge({ authority, headers: pairs, sourceAddress: "127.0.0.1:5000" }, table, trust, NO_TOKEN);
          decideEdge({ authority, headers: pairs, sourceAddress: undefined }, table, trust, NO_TOKEN);
        }
      }),
      params,
    );
    // The generators must reach configs that load and requests that route, or this proves little.
    expect(loaded).toBeGreaterThan(params.numRuns / 10);
    expect(routed).toBeGreaterThan(10);
  });
});
