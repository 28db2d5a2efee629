// Developer tool for the Express glue's own cost (not part of `npm run bench`): the CPU one
// request spends in app.use(detour()), without sockets, wrk or the rest of Express, so a change of
// a few hundred nanoseconds shows. Each request is a real IncomingMessage and ServerResponse given
// the app's prototypes as Express does, with header values decoded from bytes per request (as
// the HTTP parser hands them over: fresh strings, no cached hashes), and one listener added after
// the middleware ran (requests of the hello-world app get one 'end' listener). Rounds alternate between detour()
// and a middleware that only calls next(), in one process; prints the median ns per request of
// each and their difference.
//   node bench/express/middleware-cpu.mjs [--light] [--no-override] [--rounds N] [--requests N]
// --light calls setupDetour({ outbound: "light" }) first (the light install), so contexts are real.
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { parseArgs } from "node:util";
import { pickMiddleware, pickSetup } from "./pick-middleware.mjs";
import { wholeNumberOption } from "../harness/cli-options.mjs";
import { median } from "../harness/statistics.mjs";

const { values } = parseArgs({
  options: {
    light: { type: "boolean", default: false },
    "no-override": { type: "boolean", default: false },
    rounds: { type: "string", default: "9" },
    requests: { type: "string", default: "100000" },
  },
});
const requests = wholeNumberOption(values, "requests");
const rounds = wholeNumberOption(values, "rounds");
if (values.light) {
  const picked = await pickSetup();
  if (picked.setupDetour === undefined) throw new Error(picked.reason);
  picked.setupDetour({ outbound: "light" });
}
const { default: express } = await import("express");
const picked = await pickMiddleware();
if (picked.middleware === undefined) throw new Error(picked.reason);

const app = express();
const socket = new Socket();
const lines = values["no-override"]
  ? [["host", "127.0.0.1"], ["accept", "text/plain"]]
  : [["host", "127.0.0.1"], ["accept", "text/plain"], ["x-detour", "pricing=v2"], ["baggage", "detour=pricing%3Dv2"]];
const encoded = lines.map(([name, value]) => [name, Buffer.from(value, "latin1")]);
const onEnd = () => {};
const next = () => {};

function oneRequest(middleware) {
  const req = new IncomingMessage(socket);
  const headers = {};
  for (const [name, bytes] of encoded) headers[name] = bytes.latin1Slice(0, bytes.length);
  req.headers = headers;
  req.method = "GET";
  req.url = "/hello";
  const res = new ServerResponse(req);
  Object.setPrototypeOf(req, app.request);
  Object.setPrototypeOf(res, app.response);
  middleware(req, res, next);
  req.on("end", onEnd);
}

const noop = (_req, _res, callNext) => callNext();
const variants = [
  { name: "next() only", middleware: noop, samples: [] },
  { name: picked.name, middleware: picked.middleware, samples: [] },
];
const run = (variant) => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) oneRequest(variant.middleware);
  return Number(process.hrtime.bigint() - start) / requests;
};
for (const variant of variants) run(variant);
for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) variant.samples.push(run(variant));
}
const [base, detour] = variants.map((variant) => median(variant.samples));
console.log(`node ${process.version}, ${values.light ? "light install" : "no setupDetour()"}, ${values["no-override"] ? "no override" : "override"} headers`);
for (const variant of variants) console.log(`${variant.name.padEnd(12)} ${median(variant.samples).toFixed(0).padStart(6)} ns/request`);
console.log(`middleware's own cost: ${(detour - base).toFixed(0)} ns/request`);
