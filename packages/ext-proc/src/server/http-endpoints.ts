import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { Registry } from "prom-client";

/**
 * node:http through `require`, not `import`: on Node 22 and 24 the ES module face of node:http
 * reads every export when it is imported, and its lazy getters (`WebSocket`, `MessageEvent`...)
 * load Node's bundled undici with web streams, assert, tls and readline, 75 internal modules in
 * all, for a server that only answers /metrics and health checks. Measured on the idle server,
 * Node 24: ~1 MiB less RSS (docs/operations.md, "Memory").
 */
const { createServer } = createRequire(import.meta.url)("node:http") as typeof import("node:http");

export interface HttpEndpointState {
  /** True once gRPC is bound and until shutdown starts. */
  ready(): boolean;
}

/**
 * The operations port: `/metrics` (Prometheus text), `/healthz` (the process answers: liveness)
 * and `/readyz` (gRPC is serving and not draining: take traffic).
 */
export function createHttpEndpoints(registry: Registry, state: HttpEndpointState): Server {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(error)}\n`),
      );
    } else if (path === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const ready = state.ready();
      response.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "ready\n" : "not ready\n");
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz or /readyz\n");
    }
  });
  server.keepAliveTimeout = 5_000;
  return server;
}
