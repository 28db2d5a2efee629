// Plain node:http service, no framework: instrumentation-http extracts with the global propagator.
import { setup } from "./testing/detour-first.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import http from "node:http";
import { expect, test } from "vitest";
import { describePropagationMatrix } from "./testing/matrix-rig.js";

test("setupDetour installed everything in a process without an SDK", () => {
  expect(setup).toMatchObject({ mode: "installed", outbound: "opentelemetry" });
  expect(setup.contextManager).toBe("installed");
  expect(setup.instrumentations).toEqual(["http", "undici"]);
  expect((http.request as { __wrapped?: boolean }).__wrapped).toBe(true);
});

describePropagationMatrix("node:http", async (handle) => {
  const server = createServer((req, res) => {
    handle(req.url ?? "/").then(
      (answer) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
});
