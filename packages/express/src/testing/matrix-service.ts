import express from "express";
import { listening, type MatrixServer, type StartServer } from "../../../otel/src/testing/matrix-rig.js";
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
  return listening(app.listen(0, "127.0.0.1"));
};
