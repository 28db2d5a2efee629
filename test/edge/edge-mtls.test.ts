import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startEnvoy, type EnvoyProcess } from "@detour/cli/envoy";
import { createExtProcServer, type ExtProcServer } from "@detour/ext-proc";
import { detourEnvoyBootstrap } from "../../packages/cli/src/envoy-config/detour-envoy-bootstrap.js";
import { envoyBin } from "../support/envoy.js";
import { startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { writeSuiteKeys } from "./edge-keys.js";

const TOPOLOGY = fileURLToPath(new URL("./edge-topology.yaml", import.meta.url));

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A CA, a server certificate for 127.0.0.1 and client certificates with SPIFFE URI SANs (openssl). */
function writeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=detour test CA");
  const issue = (name: string, san: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
  };
  issue("edge", "DNS:shop.example.com,IP:127.0.0.1");
  issue("ci", "URI:spiffe://corp/ci");
  issue("other", "URI:spiffe://corp/other");
}

interface Answer {
  status: number;
  upstream: { version: string; headers: Record<string, string | undefined> } | undefined;
}

function mtlsGet(port: number, dir: string, client: string | undefined, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        agent: false,
        servername: "shop.example.com",
        ca: readFileSync(join(dir, "ca.pem")),
        ...(client === undefined ? {} : { cert: readFileSync(join(dir, `${client}.pem`)), key: readFileSync(join(dir, `${client}.key`)) }),
        headers: { ...headers, host: "shop.example.com" },
        timeout: 20_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, upstream: res.headers["content-type"]?.includes("json") ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

// edge.trustedPrincipals through real Envoy terminating mTLS: the generated edge sets
// forward_client_cert_details SANITIZE_SET + set_current_client_cert_details; this test only
// adds the TLS transport socket the generator leaves to the operator (docs/security.md).
describe.skipIf(!hasOpenssl())("edge trust by mTLS principal (real Envoy, real TLS)", () => {
  let dir: string;
  let upstreams: Upstreams;
  let server: ExtProcServer;
  let envoy: EnvoyProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-edge-mtls-"));
    copyFileSync(TOPOLOGY, join(dir, "detour.yaml"));
    writeSuiteKeys(dir);
    writeCertificates(dir);
    upstreams = await startTopologyUpstreams(join(dir, "detour.yaml"));
    const config = { ...upstreams.config, edge: { ...upstreams.config.edge!, trustedCidrs: [], trustedPrincipals: ["spiffe://corp/ci"] } };
    server = createExtProcServer(config, { logger: pino({ level: "silent" }), baseDir: dir });
    const { grpcPort } = await server.start();
    const bootstrap = detourEnvoyBootstrap(config, { sidecarPorts: {}, workloads: [], edgePort: 0, edgeAddress: "127.0.0.1", extProcAddress: `127.0.0.1:${grpcPort}` });
    const edge = (bootstrap.static_resources as { listeners: Array<{ name: string; filter_chains: Array<Record<string, unknown>> }> }).listeners.find((l) => l.name === "edge")!;
    edge.filter_chains[0]!.transport_socket = {
      name: "envoy.transport_sockets.tls",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        require_client_certificate: true,
        common_tls_context: {
          tls_certificates: [{ certificate_chain: { filename: join(dir, "edge.pem") }, private_key: { filename: join(dir, "edge.key") } }],
          validation_context: { trusted_ca: { filename: join(dir, "ca.pem") } },
        },
      },
    };
    envoy = await startEnvoy({ envoyBin: await envoyBin(), config: stringify(bootstrap), readyTimeoutMs: 60_000 });
  });

  afterAll(async () => {
    await envoy?.stop();
    await server?.stop({ graceMs: 500 });
    await upstreams?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("admits plain x-detour from the trusted principal", async () => {
    const answer = await mtlsGet(envoy.listenerPort("edge"), dir, "ci", { "x-detour": "frontend=v2,pricing=v2" });
    expect(answer.upstream?.version).toBe("v2");
    expect(answer.upstream?.headers["x-detour"]).toBe("frontend=v2,pricing=v2");
    expect(answer.upstream?.headers["x-forwarded-client-cert"]).toContain("URI=spiffe://corp/ci");
  });

  it("strips it from another principal, even one that forges x-forwarded-client-cert", async () => {
    for (const headers of [{}, { "x-forwarded-client-cert": "By=spiffe://edge;URI=spiffe://corp/ci" }] as Record<string, string>[]) {
      const answer = await mtlsGet(envoy.listenerPort("edge"), dir, "other", { "x-detour": "frontend=v2", baggage: "detour=frontend%3Dv2,k=v", ...headers });
      expect(answer.upstream?.version).toBe("v1");
      expect(answer.upstream?.headers["x-detour"]).toBeUndefined();
      expect(answer.upstream?.headers.baggage).toBe("k=v");
      expect(answer.upstream?.headers["x-forwarded-client-cert"]).not.toContain("spiffe://corp/ci");
    }
  });
});
