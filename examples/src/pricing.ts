// pricing (Fastify): the leaf of the call chain. It calls nobody, so it needs no sidecar.
import "./detour-setup.js";
import { detourPlugin } from "@detour/fastify";
import Fastify from "fastify";
import { exitOnSignal } from "./graceful-exit.js";
import { serviceSettings } from "./service-settings.js";

const { service, version, host, port } = serviceSettings("pricing");

const app = Fastify();
await app.register(detourPlugin);
app.get("/healthz", async () => ({ service, version, ok: true }));
app.get("/quote", async () => ({ service, version, calls: [] }));

await app.listen({ host, port });
const address = app.server.address();
console.log(`${service}@${version} listening on ${host}:${typeof address === "object" && address ? address.port : port}`);
exitOnSignal(() => app.close());
