import { describe, expect, it } from "vitest";
import { z } from "zod";
import { formatDocPath, parseYamlConfig } from "./yaml-config-file.js";

const schema = z
  .object({
    services: z.record(
      z.string(),
      z.object({ baseline: z.string(), versions: z.record(z.string(), z.object({ endpoint: z.string() }).strict()) }).strict(),
    ),
  })
  .strict();

function errorOf(text: string): string {
  try {
    parseYamlConfig(text, "detour.yaml", schema);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("parseYamlConfig", () => {
  it("returns the parsed value", () => {
    expect(parseYamlConfig("services:\n  a: { baseline: v1, versions: { v1: { endpoint: x } } }\n", "f", schema)).toEqual({
      services: { a: { baseline: "v1", versions: { v1: { endpoint: "x" } } } },
    });
  });

  it("names the file, line, column and document path of a wrong value", () => {
    const text = "services:\n  pricing:\n    baseline: 1\n    versions:\n      pr-7: { endpoint: 9 }\n";
    expect(errorOf(text).split("\n")).toEqual([
      "detour.yaml:3:15 services.pricing.baseline: Invalid input: expected string, received number",
      'detour.yaml:5:25 services.pricing.versions["pr-7"].endpoint: Invalid input: expected string, received number',
    ]);
  });

  it("points at an unknown key and says what to do", () => {
    expect(errorOf("services: {}\nservice: {}\n")).toBe(
      'detour.yaml:2:1 service: Unrecognized key: "service": remove it or check its spelling against the schema (detour schema prints it)',
    );
  });

  it("reports a missing key at its parent", () => {
    expect(errorOf("services:\n  cart:\n    versions: {}\n")).toMatch(/^detour.yaml:3:5 services.cart.baseline: missing \(.*\): add it$/);
  });

  it("reports YAML syntax errors with their position", () => {
    expect(errorOf("services:\n  a: [\n")).toMatch(/^detour.yaml:\d+:\d+ .*: fix the YAML syntax there/);
  });

  it("formats paths as a person writes them", () => {
    expect(formatDocPath(["aliases", 2, "header"])).toBe("aliases[2].header");
    expect(formatDocPath([])).toBe("(top level)");
  });
});
