// cart (Express): GET /cart asks pricing for the cart total. Pull-request builds (versions
// `pr-*`) also run a background job that calls pricing every few seconds with no incoming
// request, the case header propagation alone cannot cover: the workload's sidecar injects its
// override (detour.yaml: `workloads: cart/pr-7: { inject: "*=pr-7" }`).
import "./detour-setup.js";
import { detour } from "@detour/express";
import express from "express";
import type { Answer } from "./answer.js";
import { callPeer } from "./call-peer.js";
import { exitOnSignal } from "./graceful-exit.js";
import { serviceSettings } from "./service-settings.js";
import { createSidecarDispatcher } from "./sidecar-dispatcher.js";

const { service, version, host, port, sidecar } = serviceSettings("cart");
if (!sidecar) throw new Error(`${service} calls pricing: set SIDECAR to its sidecar listener (host:port)`);
const peers = createSidecarDispatcher(sidecar);

/** The job under review in this pull request: refresh cart prices in the background. */
const JOB_INTERVAL_MS = Number(process.env.JOB_INTERVAL_MS ?? 3_000);
const runsJob = version.startsWith("pr-") && JOB_INTERVAL_MS > 0;
let lastJob: (Answer & { ranAt: string }) | undefined;

async function refreshPrices(): Promise<void> {
  const calls = [await callPeer(peers, "pricing", "/quote")];
  lastJob = { service, version, calls, ranAt: new Date().toISOString() };
}

const app = express();
app.use(detour());
app.get("/healthz", (_req, res) => {
  res.json({ service, version, ok: true });
});
app.get("/cart", async (_req, res) => {
  const calls = [await callPeer(peers, "pricing", "/quote")];
  res.json({ service, version, calls });
});
// What the background job saw last time it ran (404 until it has run, or when it does not run).
app.get("/jobs/refresh-prices", (_req, res) => {
  if (lastJob) res.json(lastJob);
  else res.status(404).json({ service, version, error: runsJob ? "the job has not run yet" : "this version runs no job" });
});

const server = app.listen(port, host, () => {
  const address = server.address();
  console.log(`${service}@${version} listening on ${host}:${typeof address === "object" && address ? address.port : port}`);
});
let job: NodeJS.Timeout | undefined;
if (runsJob) {
  // First run right away so the demo has a result to show; later runs never overlap.
  const loop = async () => {
    await refreshPrices();
    job = setTimeout(loop, JOB_INTERVAL_MS);
  };
  job = setTimeout(loop, 0);
}
exitOnSignal(async () => {
  clearTimeout(job);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await peers.close();
});
