import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startEnvoy, type EnvoyProcess } from "@detour/cli/envoy";
import { detourEnvoyYaml } from "../../packages/cli/src/envoy-config/detour-envoy-bootstrap.js";
import { signToken } from "../../packages/cli/src/token/sign-token.js";
import { generateKeys } from "../../packages/cli/src/token/generate-keys.js";
import { signingKeyFromFile } from "../../packages/cli/src/token/signing-key.js";
import { envoyBin } from "../support/envoy.js";
import { startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { runExtProcToExit, startExtProcProcess, type ExtProcProcess } from "../support/ext-proc-process.js";
import { AUDIENCE, writeSuiteKeys, type SuiteKeys } from "./edge-keys.js";
import { sendToListener } from "./edge-request.js";

const TOPOLOGY = fileURLToPath(new URL("./edge-topology.yaml", import.meta.url));

// The built detour-ext-proc binary with key files relative to its config, behind real Envoy:
// refusing a missing key at start, and a key rotation applied by SIGHUP.
describe("detour-ext-proc binary with edge trust", () => {
  let dir: string;
  let upstreams: Upstreams;
  let server: ExtProcProcess;
  let envoy: EnvoyProcess;
  let keys: SuiteKeys;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-edge-binary-"));
    copyFileSync(TOPOLOGY, join(dir, "detour.yaml"));
    keys = writeSuiteKeys(dir);
    upstreams = await startTopologyUpstreams(join(dir, "detour.yaml"));
    // info: the helper waits for the "listening" line, and the test reads refusals from the log.
    writeFileSync(join(dir, "detour.yaml"), stringify({ ...upstreams.config, server: { ...upstreams.config.server, logLevel: "info" } }));
    server = await startExtProcProcess(join(dir, "detour.yaml"));
    envoy = await startEnvoy({
      envoyBin: await envoyBin(),
      config: detourEnvoyYaml(upstreams.config, { sidecarPorts: {}, workloads: [], edgePort: 0, edgeAddress: "127.0.0.1", extProcAddress: `127.0.0.1:${server.grpcPort}` }),
      readyTimeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    await envoy?.stop();
    await server?.kill();
    await upstreams?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("exits non-zero naming a key file it cannot read", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, stringify({ ...upstreams.config, edge: { ...upstreams.config.edge, tokens: { keys: [{ publicKeyFile: "keys/missing.pub.pem" }] } } }));
    const result = await runExtProcToExit(["--config", bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot read public key file .*keys\/missing\.pub\.pem: ENOENT/);
  });

  it("admits a new kid after it joins the JWKS and SIGHUP reloads, while the old kid keeps working", async () => {
    const edge = envoy.listenerPort("edge");
    const generated = generateKeys({ dir: join(dir, "staged"), kid: "2025-07" });
    const token = await signToken({ set: "frontend=v2", ttlSeconds: 600, key: signingKeyFromFile(generated.privateKeyFile), audience: AUDIENCE });
    const before = await sendToListener(edge, { headers: { "x-detour-token": token } });
    expect(before.upstream?.version, before.text).toBe("v1");
    await server.waitForLog((line) => line.msg === "override refused" && JSON.stringify(line.reasons) === '["unknown-key"]', "the unknown kid to be refused");

    // Publish the new key next to the existing ones (what `detour keys generate --jwks` does), then reload.
    const rotated = generateKeys({ dir: join(dir, "keys"), kid: "2025-07", jwks: join(dir, "keys/jwks.json"), force: true });
    const fresh = await signToken({ set: "frontend=v2", ttlSeconds: 600, key: signingKeyFromFile(rotated.privateKeyFile), audience: AUDIENCE });
    const reloads = server.logs.filter((line) => line.msg === "config reloaded").length;
    server.signal("SIGHUP");
    await server.waitForLog(() => server.logs.filter((line) => line.msg === "config reloaded").length > reloads, "the reload after SIGHUP");

    const after = await sendToListener(edge, { headers: { "x-detour-token": fresh } });
    expect(after.upstream?.version, after.text).toBe("v2");
    expect(after.upstream?.headers["x-detour"]).toBe("frontend=v2");
    // The JWKS still lists 2025-05 and 2025-06: tokens minted before the rotation keep working until they expire.
    const old = await signToken({ set: "frontend=v2", ttlSeconds: 600, key: { key: keys.oldEd, alg: "EdDSA", impliedKid: undefined }, kid: "2025-05", audience: AUDIENCE });
    expect((await sendToListener(edge, { headers: { "x-detour-token": old } })).upstream?.version).toBe("v2");
    const logs = server.logs.map((line) => JSON.stringify(line)).join("\n");
    expect(logs).not.toContain(token.split(".")[2]!);
    expect(logs).not.toContain(fresh.split(".")[2]!);
  });
});
