import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXT_PROC_NODE_FLAGS } from "@detour/ext-proc";
import { EXT_PROC_BIN, runExtProcToExit, startExtProcProcess } from "../support/ext-proc-process.js";

const DENY = ["--import", fileURLToPath(new URL("../support/deny-module.mjs", import.meta.url))];
const ENV = { DETOUR_DENY_MODULES: "@kubernetes/client-node" };

// The Kubernetes client (and its HTTP stack, which needs Node >= 22.19) is loaded only by a
// server whose config has a kubernetes section. Proven by running the real binary with a loader
// hook that fails every import of it.
describe("detour-ext-proc loads @kubernetes/client-node only for a kubernetes section", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "detour-k8s-loading-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves without ever importing it when the section is absent", async () => {
    const path = join(dir, "static.yaml");
    writeFileSync(path, "services:\n  pricing: { baseline: v1, versions: { v1: {} } }\nserver: { listen: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n");
    const server = await startExtProcProcess(path, { command: { file: process.execPath, args: [...EXT_PROC_NODE_FLAGS, ...DENY, EXT_PROC_BIN, "--config", path], env: ENV } });
    try {
      const topology = (await (await fetch(`http://127.0.0.1:${server.metricsPort}/status`)).json()) as { source: string; services: { name: string }[] };
      expect(topology).toMatchObject({ source: "static", services: [{ name: "pricing" }] });
    } finally {
      server.signal("SIGTERM");
      expect((await server.exited).code).toBe(0);
    }
    expect(server.stderr()).not.toContain("denied by the test");
  });

  it("fails a server that imports a denied package (the hook works, so the first case can fail)", async () => {
    const path = join(dir, "static-denied.yaml");
    writeFileSync(path, "services: {}\nserver: { listen: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n");
    const result = await runExtProcToExit(["--config", path], 30_000, undefined, { nodeArgs: DENY, env: { DETOUR_DENY_MODULES: "prom-client" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("import of 'prom-client' denied by the test");
  });

  it("imports it for a kubernetes section, on a Node that can run it; says which Node it needs otherwise", async () => {
    const path = join(dir, "discovery.yaml");
    writeFileSync(path, "services: {}\nkubernetes: { namespaces: [shop], kubeconfig: nowhere.yaml }\nserver: { listen: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n");
    const result = await runExtProcToExit(["--config", path], 30_000, undefined, { nodeArgs: DENY, env: ENV });
    expect(result.code).toBe(1);
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    if (major > 22 || (major === 22 && minor >= 19)) expect(result.stderr).toContain("import of '@kubernetes/client-node' denied by the test");
    else expect(result.stderr).toContain(`the kubernetes section of the config needs Node >= 22.19 (the Kubernetes client's HTTP stack); this is Node ${process.versions.node}`);
  });
});
