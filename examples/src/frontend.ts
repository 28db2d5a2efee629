// frontend (Express): the service behind the edge. GET / asks catalog for items and cart for
// the cart, through this workload's sidecar, and answers with both answers.
import "./detour-setup.js";
import { detour } from "@detour/express";
import express from "express";
import { callPeer } from "./call-peer.js";
import { exitOnSignal } from "./graceful-exit.js";
import { serviceSettings } from "./service-settings.js";
import { createSidecarDispatcher } from "./sidecar-dispatcher.js";

const { service, version, host, port, sidecar } = serviceSettings("frontend");
if (!sidecar) throw new Error(`${service} calls catalog and cart: set SIDECAR to its sidecar listener (host:port)`);
const peers = createSidecarDispatcher(sidecar);

const app = express();
app.use(detour());
app.get("/healthz", (_req, res) => {
  res.json({ service, version, ok: true });
});
app.get("/", async (_req, res) => {
  const calls = await Promise.all([callPeer(peers, "catalog", "/items"), callPeer(peers, "cart", "/cart")]);
  res.json({ service, version, calls });
});

const server = app.listen(port, host, () => {
  const address = server.address();
  console.log(`${service}@${version} listening on ${host}:${typeof address === "object" && address ? address.port : port}`);
});
exitOnSignal(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await peers.close();
});
