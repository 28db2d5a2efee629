import { describe, expect, it } from "vitest";
import { aliasName, formatAlias, type AliasSpec } from "./aliases.js";
import { createCarrierConfig } from "./carrier-config.js";
import { parseOverrides } from "./parse-overrides.js";
import { readCarriers } from "./read-carriers.js";

const setOf = (text: string) => parseOverrides(text, { strict: true }).set;
const XO: AliasSpec = { header: "X-Override", format: "pairs" };
const VCN: AliasSpec = { header: "virtual-cluster-name", format: "wildcard" };
const OKTETO: AliasSpec = { baggage: "okteto-divert" };

describe("aliasName", () => {
  it.each([
    [XO, "x-override"],
    [VCN, "virtual-cluster-name"],
    [OKTETO, "baggage:okteto-divert"],
    [{ baggage: "sd-routing-key" }, "baggage:sd-routing-key"],
  ] as const)("%j -> %s", (spec, name) => {
    expect(aliasName(spec)).toBe(name);
  });
});

describe("formatAlias", () => {
  it.each([
    [XO, "pricing=v2,cart=pr-7,*=sb", "pricing:v2,cart:pr-7,*:sb"],
    [XO, "", undefined],
    [VCN, "*=sandbox-3", "sandbox-3"],
    [VCN, "pricing=v2", undefined],
    [VCN, "pricing=v2,*=sb", undefined],
    [OKTETO, "*=ns-1", "ns-1"],
    [OKTETO, "pricing=v2", undefined],
    [OKTETO, "", undefined],
  ] as const)("%j with %j -> %j", (spec, text, expected) => {
    expect(formatAlias(spec, setOf(text))).toBe(expected);
  });

  it.each([
    [XO, "pricing=v2,cart=pr-7,*=sb"],
    [VCN, "*=sandbox-3"],
    [OKTETO, "*=ns-1"],
  ] as const)("reads back what it writes: %j", (spec, text) => {
    const value = formatAlias(spec, setOf(text)) as string;
    const headers = "baggage" in spec ? { baggage: `${spec.baggage}=${value}` } : { [spec.header]: value };
    const result = readCarriers(headers, createCarrierConfig({ aliases: [spec] }));
    expect(result.source).toBe(aliasName(spec));
    expect(result.set.toString()).toBe(text);
  });
});
