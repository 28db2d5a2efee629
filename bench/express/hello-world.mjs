// Hello-world Express app for the middleware overhead benchmark (bench/README.md):
//   node bench/express/hello-world.mjs [--setup [--no-incoming-spans] | --light] [--middleware]
// --setup calls setupDetour({ outbound: "opentelemetry" }) from the built @detour/otel first: it
// registers the AsyncLocalStorage context manager, the propagator and OpenTelemetry's
// instrumentation-http and -undici, so the middleware's context work is real (without a context
// manager context.with/bind are no-ops). --light calls setupDetour({ outbound: "light" }), the
// light install (what setupDetour() does without an OpenTelemetry SDK): the same context manager
// and propagator, outbound headers on Node's diagnostics channels, no instrumentation.
// Prints `listening <port>` once bound to 127.0.0.1 on a free port.
import { pickMiddleware, pickSetup } from "./pick-middleware.mjs";

const light = process.argv.includes("--light");
if (light || process.argv.includes("--setup")) {
  const picked = await pickSetup();
  if (picked.setupDetour === undefined) {
    console.error(`hello-world: ${picked.reason}`);
    process.exit(3);
  }
  // --no-incoming-spans: instrumentation-http for outbound calls only; the middleware then reads
  // the incoming request alone.
  const http = process.argv.includes("--no-incoming-spans") ? { http: { disableIncomingRequestInstrumentation: true } } : {};
  const setup = picked.setupDetour(light ? { outbound: "light" } : { outbound: "opentelemetry", ...http });
  if (setup.outbound !== (light ? "light" : "opentelemetry")) {
    console.error(`hello-world: this @detour/otel has no ${light ? "light install" : "outbound option"}`);
    process.exit(3);
  }
}
// Loaded after setupDetour(), the order the docs give (instrumentations patch on load).
const { default: express } = await import("express");

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
const inject = process.argv.indexOf("--inject");
if (inject === -1) {
  const server = app.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
} else {
  // Developer mode (bench/express/compare.mjs --inject): no sockets and no load generator, so
  // the number hardly moves with other load on the machine. Requests go through a real
  // http.Server's 'request' event (where instrumentation-http hooks in) with light-my-request's
  // mock req/res; prints the process CPU µs per request of the timed batches.
  const { createServer } = await import("node:http");
  const { default: lightInject } = await import("light-my-request");
  const server = createServer(app);
  const dispatch = (req, res) => server.emit("request", req, res);
  const headers = process.argv.includes("--no-override") ? {} : { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2" };
  const batch = Number(process.argv[inject + 1] ?? 20000);
  const run = async (n) => {
    for (let i = 0; i < n; i++) {
      const response = await lightInject(dispatch, { method: "GET", url: "/hello", headers });
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    }
  };
  await run(batch / 2);
  const samples = [];
  for (let round = 0; round < 5; round++) {
    const before = process.cpuUsage();
    await run(batch);
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / batch);
  }
  console.log(`inject ${JSON.stringify(samples)}`);
}
