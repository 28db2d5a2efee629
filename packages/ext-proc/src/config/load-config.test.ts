import { DetourError } from "@detour/core";
import { describe, expect, it } from "vitest";
import { detourConfigJsonSchema } from "./detour-config-schema.js";
import { parseConfig, parseConfigText } from "./load-config.js";

function problem(document: unknown): string {
  try {
    parseConfig(document, "detour.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(DetourError);
    expect((error as DetourError).code).toBe("invalid-config");
    return (error as Error).message;
  }
  throw new Error("config was accepted");
}

describe("detour.yaml schema", () => {
  it("fills in every default", () => {
    const config = parseConfig({ services: { pricing: { baseline: "v1", versions: { v1: {} } } } });
    expect(config).toEqual({
      services: { pricing: { baseline: "v1", miss: "fallback", hosts: [], versions: { v1: {} } } },
      workloads: {},
      routing: { clusterDomains: ["svc.cluster.local"] },
      aliases: [],
      limits: { maxEntries: 32, maxValueBytes: 1024 },
      server: { listen: "127.0.0.1:50051", metrics: "127.0.0.1:9464", logLevel: "info", shutdownGraceMs: 5000 },
    });
  });

  it("names the field and the problem", () => {
    expect(problem({ services: { pricing: { baseline: "v3", versions: { v1: {} } } } })).toMatch(/services\.pricing\.baseline: baseline 'v3' is not one of this service's versions \(v1\)/);
    expect(problem({ services: { pricing: { baseline: "v1", miss: "drop", versions: { v1: {} } } } })).toMatch(/services\.pricing\.miss:/);
    expect(problem({ services: { Pricing: { baseline: "v1", versions: { v1: {} } } } })).toMatch(/services\.Pricing.*DNS label/);
    expect(problem({ services: {}, workloads: { "cart/pr-7": { inject: "pricing" } } })).toMatch(/workloads\["cart\/pr-7"\]\.inject: .*has no '='/);
    expect(problem({ services: {}, workloads: { cart: {} } })).toMatch(/workloads\.cart.*service\/version/);
    expect(problem({ services: {}, server: { listen: "nope" } })).toMatch(/server\.listen: must be host:port/);
    expect(problem({ services: {}, server: { metrics: "127.0.0.1:99999" } })).toMatch(/server\.metrics: the port must be from 0 to 65535/);
    expect(problem({ services: {}, edge: { listen: "127.0.0.1:70000" } })).toMatch(/edge\.listen: the port must be from 0 to 65535/);
    expect(problem({ services: {}, server: { transport: "grpc-js" } })).toMatch(/server\.transport: Unrecognized key: "transport"/);
    expect(problem({ services: {}, limits: { maxEntries: 0 } })).toMatch(/limits\.maxEntries/);
    expect(problem({ services: { pricing: { baseline: "v1", versions: { v1: {} }, typo: 1 } } })).toMatch(/services\.pricing\.typo: Unrecognized key: "typo": remove it/);
    expect(problem({ services: {}, aliases: [{ header: "x-detour", format: "pairs" }] })).toMatch(/aliases\[0\]\.header/);
    expect(problem({})).toMatch(/services: /);
  });

  it("rejects a host claimed by two services", () => {
    expect(
      problem({
        services: {
          a: { baseline: "v1", hosts: ["shared.internal"], versions: { v1: {} } },
          b: { baseline: "v1", hosts: ["shared.internal"], versions: { v1: {} } },
        },
      }),
    ).toMatch(/services\.b\.hosts\[0\]: host 'shared.internal' already means service 'a'/);
  });

  it("reports YAML syntax errors with the line", () => {
    expect(() => parseConfigText("services:\n  pricing: [\n", "x.yaml")).toThrow(/^x\.yaml:\d+:\d+ .*: fix the YAML syntax there/);
  });

  it("exports a JSON Schema of the input form", () => {
    const schema = detourConfigJsonSchema();
    expect(schema.type).toBe("object");
    expect(Object.keys(schema.properties as object)).toEqual(expect.arrayContaining(["services", "workloads", "routing", "aliases", "limits", "server"]));
    expect(schema.required).toEqual(["services"]);
  });
});
