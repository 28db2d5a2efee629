import type { AddressInfo } from "node:net";
import express from "express";
import type { MatrixServer, StartServer } from "../../../otel/src/testing/matrix-rig.js";
import { detour } from "../index.js";

/** An Express service answering the matrix's /case requests through a router. */
export const startMatrixService: StartServer = async (handle): Promise<MatrixServer> => {
  const app = express();
  app.use(detour());
  const router = express.Router();
  router.get("/case", async (req, res) => {
    const answer = await handle(req.originalUrl);
    res.json({ ...answer, requestDetour: req.detour?.toString() });
  });
  app.use(router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
