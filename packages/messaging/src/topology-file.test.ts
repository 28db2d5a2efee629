import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createExtProcServer, loadConfigFile } from "@detour/ext-proc";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { topologyFromFile } from "./topology-file.js";
import type { TopologySource } from "./topology-source.js";

const REFERENCE = fileURLToPath(new URL("../../../envoy/topology.yaml", import.meta.url));

let source: TopologySource | undefined;
let dir: string | undefined;
afterEach(() => {
  source?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  source = undefined;
  dir = undefined;
});

describe("topologyFromFile", () => {
  it("reads detour.yaml into the same document the server publishes at GET /topology", async () => {
    const server = createExtProcServer({ ...loadConfigFile(REFERENCE), server: { ...loadConfigFile(REFERENCE).server, listen: "127.0.0.1:0", metrics: "127.0.0.1:0" } }, { logger: pino({ level: "silent" }) });
    const { metricsPort } = await server.start();
    try {
      const published = (await (await fetch(`http://127.0.0.1:${metricsPort}/topology`)).json()) as object;
      source = topologyFromFile(REFERENCE);
      expect((await source.ready()).document).toEqual(published);
    } finally {
      await server.stop({ graceMs: 100 });
    }
  });

  it("follows a replaced file within refreshMs and keeps the last good topology over a broken one", async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-topology-file-"));
    const path = join(dir, "detour.yaml");
    const write = (text: string) => {
      // Written aside and renamed over, as editors and Kubernetes ConfigMap updates do.
      writeFileSync(`${path}.new`, text);
      renameSync(`${path}.new`, path);
    };
    write("services:\n  ledger:\n    baseline: v1\n    versions: { v1: {}, pr-7: {} }\n");
    const warnings: string[] = [];
    source = topologyFromFile(path, { refreshMs: 20, logger: { debug() {}, info() {}, error() {}, warn: (_f: object, m: string) => warnings.push(m) } });
    expect([...(await source.ready()).service("ledger")!.versions]).toEqual(["v1", "pr-7"]);
    const changed = new Promise((resolve) => source!.onChange(resolve));
    write("services:\n  ledger:\n    baseline: v1\n    versions: { v1: {} }\n");
    await changed;
    expect([...source.current()!.service("ledger")!.versions]).toEqual(["v1"]);
    write("services: [not, a, map");
    for (let i = 0; i < 100 && warnings.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(warnings).toEqual(["detour: cannot read the topology file"]);
    expect([...source.current()!.service("ledger")!.versions]).toEqual(["v1"]);
  });

  it("fails ready() with topology-unavailable when the file is missing", async () => {
    source = topologyFromFile("/nonexistent/detour.yaml", { refreshMs: 20 });
    await expect(source.ready(100)).rejects.toMatchObject({ code: "topology-unavailable" });
  });
});
