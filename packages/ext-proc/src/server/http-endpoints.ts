import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface HttpEndpointState {
  /** True once gRPC is bound (and the topology source, if any, has synced) and until shutdown starts. */
  ready(): boolean;
  /** Lines /readyz adds below its first line (a stale topology, conflicts). */
  readinessNotes?(): readonly string[];
  /** The body of GET /topology (JSON). */
  topology?(): unknown;
}

/**
 * The operations port: `/metrics` (Prometheus text), `/healthz` (the process answers: liveness),
 * `/readyz` (gRPC is serving and not draining: take traffic; notes such as a stale topology
 * follow on further lines without changing the status) and `/topology` (the routing table's
 * services and versions as JSON, topology-status.ts).
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
      const notes = state.readinessNotes?.() ?? [];
      const body = [ready ? "ready" : "not ready", ...notes].join("\n");
      response.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(`${body}\n`);
    } else if (path === "/topology" && state.topology !== undefined) {
      response.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify(state.topology(), null, 2)}\n`);
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz, /readyz or /topology\n");
    }
  });
  server.keepAliveTimeout = 5_000;
  return server;
}
