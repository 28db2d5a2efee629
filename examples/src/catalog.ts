// catalog (Fastify): GET /items asks pricing for a quote through this workload's sidecar.
import "./detour-setup.js";
import { detourPlugin } from "@detour/fastify";
import Fastify from "fastify";
import { callPeer } from "./call-peer.js";
import { exitOnSignal } from "./graceful-exit.js";
import { serviceSettings } from "./service-settings.js";
import { createSidecarDispatcher } from "./sidecar-dispatcher.js";

const { service, version, host, port, sidecar } = serviceSettings("catalog");
if (!sidecar) throw new Error(`${service} calls pricing: set SIDECAR to its sidecar listener (host:port)`);
const peers = createSidecarDispatcher(sidecar);

const app = Fastify();
await app.register(detourPlugin);
app.get("/healthz", async () => ({ service, version, ok: true }));
app.get("/items", async () => {
  const calls = [await callPeer(peers, "pricing", "/quote")];
  return { service, version, calls };
});

await app.listen({ host, port });
const address = app.server.address();
console.log(`${service}@${version} listening on ${host}:${typeof address === "object" && address ? address.port : port}`);
exitOnSignal(async () => {
  await app.close();
  await peers.close();
});
