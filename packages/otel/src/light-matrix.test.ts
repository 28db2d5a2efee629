// Plain node:http service in a light install: setupDetour() without an SDK, outbound headers on
// Node's diagnostics channels (or wrapped request/get where Node has no created channel), and the
// server reads each request with createRequestScope, as the README shows for plain node:http.
import { setup } from "./testing/light-first.js";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { expect, test } from "vitest";
import { createRequestScope, type DetourLogger } from "./request-scope.js";
import { describePropagationMatrix } from "./testing/matrix-rig.js";

test("setupDetour chose the light install and loaded no OpenTelemetry instrumentation", () => {
  expect(setup).toMatchObject({ mode: "installed", outbound: "light", contextManager: "installed", instrumentations: ["http", "undici"] });
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  expect(loaded.filter((file) => /@opentelemetry[\\/]instrumentation/.test(file))).toEqual([]);
});

const quiet: DetourLogger = { debug: () => {}, warn: () => {} };

describePropagationMatrix("node:http (light install)", async (handle) => {
  const scope = createRequestScope(undefined, "light matrix");
  const server = createServer((req, res) => {
    const incoming = scope.open(req, res, quiet);
    scope.run(incoming, () => {
      handle(req.url ?? "/").then(
        (answer) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
});
