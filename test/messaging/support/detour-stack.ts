import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EnvoyProcess } from "@detour/cli/envoy";
import { createExtProcServer, type DetourConfig, type ExtProcServer } from "@detour/ext-proc";
import { pino } from "pino";
import { signToken } from "../../../packages/cli/src/token/sign-token.js";
import { startSidecars, startTopologyUpstreams, type Upstreams } from "../../support/detour-rig.js";

/** The suite's topology (messaging-topology.yaml). */
export const MESSAGING_TOPOLOGY = fileURLToPath(new URL("../messaging-topology.yaml", import.meta.url));
const AUDIENCE = "detour-messaging-suite";
const KID = "suite-1";

export interface DetourStack {
  readonly config: DetourConfig;
  /** The ext_proc server's metrics address: its GET /topology is what the consumers read. */
  readonly metricsUrl: string;
  /** Calls `service` through `workload`'s sidecar listener and answers the version that served it. */
  callThroughSidecar(workload: string, service: string): Promise<string>;
  /** A token for `set` the suite's sidecars accept (as the edge would forward it). */
  token(set: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real data path a message handler's outbound call takes: one small upstream per service
 * version, the real ext_proc server (in-process) with the suite's topology and token key, and real
 * Envoy with an outbound listener per workload.
 */
export async function startDetourStack(): Promise<DetourStack> {
  const dir = mkdtempSync(join(tmpdir(), "detour-messaging-stack-"));
  let upstreams: Upstreams | undefined;
  let server: ExtProcServer | undefined;
  let envoy: EnvoyProcess | undefined;
  const close = async () => {
    await envoy?.stop();
    await server?.stop({ graceMs: 500 });
    await upstreams?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    copyFileSync(MESSAGING_TOPOLOGY, join(dir, "detour.yaml"));
    const key: KeyObject = writeKey(dir);
    upstreams = await startTopologyUpstreams(join(dir, "detour.yaml"));
    server = createExtProcServer(upstreams.config, { baseDir: dir, logger: pino({ level: "silent" }) });
    const addresses = await server.start();
    envoy = await startSidecars(upstreams.config, addresses.grpcPort);
    const sidecars = envoy;
    return {
      config: upstreams.config,
      metricsUrl: `http://127.0.0.1:${addresses.metricsPort}`,
      callThroughSidecar: (workload, service) => versionServing(sidecars.listenerPort(`outbound:${workload}`), service),
      token: (set) => signToken({ set, ttlSeconds: 600, key: { key, alg: "EdDSA", impliedKid: undefined }, kid: KID, audience: AUDIENCE }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function writeKey(dir: string): KeyObject {
  const pair = generateKeyPairSync("ed25519");
  mkdirSync(join(dir, "keys"));
  writeFileSync(join(dir, "keys", `${KID}.pub.pem`), pair.publicKey.export({ format: "pem", type: "spki" }));
  return pair.privateKey;
}

/**
 * One GET through a sidecar listener with the peer's name as Host (what a transparent sidecar
 * sees). node:http, so @opentelemetry/instrumentation-http (setupDetour) injects the active
 * override. Answers the version of the upstream that served it.
 */
function versionServing(port: number, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host: service }, agent: false, timeout: 20_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        try {
          resolve((JSON.parse(text) as { version: string }).version);
        } catch {
          reject(new Error(`${service} through the sidecar answered ${res.statusCode}: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`call to ${service} through the sidecar timed out`)));
    req.on("error", reject);
    req.end();
  });
}
