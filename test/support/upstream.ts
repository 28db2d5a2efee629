import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface UpstreamHit {
  service: string;
  version: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface Upstream {
  readonly service: string;
  readonly version: string;
  readonly port: number;
  readonly hits: UpstreamHit[];
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for one version of a service: it answers JSON naming itself
 * and echoing the request headers, and records every hit so tests can check what arrived.
 */
export async function startUpstream(service: string, version: string): Promise<Upstream> {
  const hits: UpstreamHit[] = [];
  const server: Server = createServer((req, res) => {
    const hit: UpstreamHit = { service, version, method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers };
    hits.push(hit);
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(hit));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    service,
    version,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
