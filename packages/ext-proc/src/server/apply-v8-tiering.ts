// Imported first by the server's entry point (bin.ts), so that the flag is set before any other
// module is evaluated: ES modules run in import order.
import { applyTieringFlag } from "./v8-tiering.js";

applyTieringFlag();
