import type { Express } from "express";
import { listening, type MatrixServer } from "../../../otel/src/testing/matrix-rig.js";

/** Listens on 127.0.0.1:0 and returns the base URL and a close function. */
export function listen(app: Express): Promise<MatrixServer> {
  return listening(app.listen(0, "127.0.0.1"));
}

/** Reads a response's body as text. */
export async function text(response: Response): Promise<string> {
  return await response.text();
}
