import type { Server } from "node:http";
import { createRequire } from "node:module";
import { TOPOLOGY_PATH } from "@detour/core";
import type { Registry } from "prom-client";
import type { PublishedTopology } from "./topology-document.js";

/** The operations port's live topology status (`detour sandbox list` reads it). */
export const STATUS_PATH = "/status";

/**
 * node:http through `require`, not `import`: on Node 22 and 24 the ES module face of node:http
 * reads every export when it is imported, and its lazy getters (`WebSocket`, `MessageEvent`...)
 * load Node's bundled undici with web streams, assert, tls and readline, 75 internal modules in
 * all, for a server that only answers /metrics and health checks. Measured on the idle server,
 * Node 24: ~1 MiB less RSS (docs/operations.md, "Memory").
 */
const { createServer } = createRequire(import.meta.url)("node:http") as typeof import("node:http");

export interface HttpEndpointState {
  /** True once gRPC is bound (and the topology source, if any, has synced) and until shutdown starts. */
  ready(): boolean;
  /** The topology in use now (changes on reload and, with discovery, when the cluster changes). */
  topology(): PublishedTopology;
  /** Lines /readyz adds below its first line (a stale topology, conflicts). */
  readinessNotes?(): readonly string[];
  /** The body of GET /status (JSON): the topology's live state, with origins, expiry and counts. */
  status?(): unknown;
}

/**
 * The operations port: `/metrics` (Prometheus text), `/healthz` (the process answers: liveness),
 * `/readyz` (gRPC is serving and not draining: take traffic; notes such as a stale topology
 * follow on further lines without changing the status), `/topology` (the services, baselines
 * and versions in use, read-only JSON for message consumers; ETag / If-None-Match; it changes
 * only when routing changes) and `/status` (the same services with where each version comes
 * from, its pods and expiry, requested/applied counts and the topology source's health, for
 * `detour sandbox list`; topology-status.ts).
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
    } else if (path === TOPOLOGY_PATH) {
      const topology = state.topology();
      // Clients poll this; `no-cache` lets a cache keep it only if it revalidates every time.
      const headers = { etag: topology.etag, "cache-control": "no-cache" };
      if (etagMatches(request.headers["if-none-match"], topology.etag)) response.writeHead(304, headers).end();
      else response.writeHead(200, { ...headers, "content-type": "application/json" }).end(topology.body);
    } else if (path === STATUS_PATH && state.status !== undefined) {
      // Live counts: never cached.
      response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(`${JSON.stringify(state.status(), null, 2)}\n`);
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end(`not found: try /metrics, /healthz, /readyz, ${TOPOLOGY_PATH} or ${STATUS_PATH}\n`);
    }
  });
  server.keepAliveTimeout = 5_000;
  return server;
}

/** RFC 9110 §13.1.2: If-None-Match is `*` or a list of entity tags (weak comparison). */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  for (const candidate of header.split(",")) {
    const tag = candidate.trim();
    if (tag === "*" || tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}
