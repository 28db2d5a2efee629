// Hello-world Express app for the middleware overhead benchmark (bench/README.md):
//   node bench/express/hello-world.mjs [--middleware]
// Prints `listening <port>` once bound to 127.0.0.1 on a free port.
import express from "express";
import { pickMiddleware } from "./pick-middleware.mjs";

const app = express();
if (process.argv.includes("--middleware")) {
  const picked = await pickMiddleware();
  if (picked.middleware === undefined) {
    console.error(`hello-world: ${picked.reason}`);
    process.exit(3);
  }
  app.use(picked.middleware);
}
app.get("/hello", (_req, res) => {
  res.type("text/plain").send("hello\n");
});
const server = app.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
