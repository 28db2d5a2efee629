import Fastify from "fastify";
import type { MatrixServer, StartServer } from "../../../otel/src/testing/matrix-rig.js";
import { detourPlugin } from "../index.js";

/** A Fastify service answering the matrix's /case requests, with an async preHandler in the chain. */
export const startMatrixService: StartServer = async (handle): Promise<MatrixServer> => {
  const app = Fastify();
  await app.register(detourPlugin);
  app.addHook("preHandler", async () => {
    await new Promise((resolve) => setImmediate(resolve));
  });
  app.get("/case", async (request) => ({ ...(await handle(request.url)), requestDetour: request.detour.toString() }));
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
};
