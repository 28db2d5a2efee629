import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

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
