#!/usr/bin/env node
// How V8 collects a bare node:http2 server's per-stream objects (bench/README.md, "Server CPU per
// request"). A child process serves gRPC-shaped streams (a message in; headers, a message and
// trailers out; the client half-closes, as Envoy's ext_proc client does) under --trace-gc-nvp with
// detour's heap flags; this process drives it with `--concurrency` streams in flight. The server
// runs twice: as node:http2 makes it, and with its sessions' stream Map and Set replaced by
// detour's StreamTable (packages/ext-proc/src/server/session-stream-table.ts, the only detour code
// involved; needs `npm run build`). A third child allocates plain JavaScript objects with the same
// number in flight, as a control. Prints, for each, the young-generation collections, the bytes
// that survived one and how many were promoted to the old generation, and the full collections
// per 1000 streams (or per 1000 objects).
//   node bench/http2-gc.mjs [--streams N] [--concurrency N] [--node BIN]
import { spawn } from "node:child_process";
import { connect, createServer } from "node:http2";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { wholeNumberOption } from "./harness/cli-options.mjs";
import { median } from "./harness/statistics.mjs";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "40000" },
    concurrency: { type: "string", default: "32" },
    node: { type: "string", default: process.execPath },
    role: { type: "string" },
  },
});
const STREAMS = wholeNumberOption(values, "streams");
const CONCURRENCY = wholeNumberOption(values, "concurrency");
const HEAP_FLAGS = ["--max-semi-space-size=4", "--max-old-space-size=256"];

const STREAM_TABLE = fileURLToPath(new URL("../packages/ext-proc/dist/server/session-stream-table.js", import.meta.url));

if (values.role === "server" || values.role === "server-stream-table") {
  const server = createServer();
  if (values.role === "server-stream-table") {
    const { adoptStreamTables } = await import(STREAM_TABLE);
    server.on("session", (session) => {
      if (!adoptStreamTables(session)) throw new Error("adoptStreamTables refused this Node's http2 session");
    });
  }
  const message = Buffer.alloc(40, 1);
  server.on("stream", (stream) => {
    stream.on("error", () => {});
    stream.on("data", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.write(message);
    });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.on("end", () => stream.end());
  });
  server.listen(0, "127.0.0.1", () => process.stderr.write(`listening ${server.address().port}\n`));
  process.stdin.on("end", () => process.exit(0)).resume();
} else if (values.role === "control") {
  // The same number of object graphs of a stream's size (~14 KiB) alive at once, in plain JS.
  const inFlight = new Array(CONCURRENCY);
  const graph = (i) => {
    const parts = [];
    for (let k = 0; k < 60; k++) parts.push({ k, text: `part ${k} of ${i}`, list: [k, i, k + i] });
    return { i, headers: { ":path": `/p/${i}` }, parts };
  };
  let sink = 0;
  for (let i = 0; i < STREAMS; i++) {
    inFlight[i % CONCURRENCY] = graph(i);
    sink += inFlight[(i * 7) % CONCURRENCY]?.parts.length ?? 0;
  }
  process.stderr.write(`done ${sink}\n`);
} else {
  if (!existsSync(STREAM_TABLE)) {
    console.error("packages/ext-proc/dist is missing: run `npm run build` first");
    process.exit(1);
  }
  const report = (name, output, per) => {
    const scavenges = [...output.matchAll(/gc=s .*/g)].map(([line]) => ({
      survived: Number(/new_space_survived=(\d+)/.exec(line)?.[1] ?? 0),
      promoted: Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0),
    }));
    const full = (output.match(/gc=mc /g) ?? []).length;
    const steady = scavenges.slice(Math.floor(scavenges.length / 4));
    const kib = (bytes) => (bytes / 1024).toFixed(0);
    console.log(
      `${name.padEnd(28)} ${String(scavenges.length).padStart(4)} scavenges, survived ${kib(median(steady.map((s) => s.survived))).padStart(4)} KiB and promoted ${kib(median(steady.map((s) => s.promoted))).padStart(4)} KiB per scavenge (median), ` +
        `${((full * 1000) / per).toFixed(2)} mark-compacts per 1000`,
    );
  };
  const child = (role) => {
    const proc = spawn(values.node, [...HEAP_FLAGS, "--trace-gc-nvp", fileURLToPath(import.meta.url), "--role", role, "--streams", String(STREAMS), "--concurrency", String(CONCURRENCY)], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    proc.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    // A --node that cannot be started ends the run with its error instead of waiting forever.
    const exited = new Promise((resolve, reject) => {
      // 'close': its report is read after this, and at 'exit' it can still be in the pipe.
      proc.on("close", resolve);
      proc.on("error", (error) => reject(new Error(`cannot start ${values.node}: ${error.message}`)));
    });
    return { proc, output: () => output, exited };
  };

  /** Serves STREAMS streams from a server child of this role; resolves with the child's GC trace. */
  const serve = async (role) => {
    const server = child(role);
    const port = await new Promise((resolve, reject) => {
      server.proc.stderr.setEncoding("utf8").on("data", (chunk) => {
        const match = /listening (\d+)/.exec(chunk);
        if (match) resolve(Number(match[1]));
      });
      server.exited.then(() => reject(new Error(`the ${role} child exited before listening`)), reject);
    });
    const session = connect(`http://127.0.0.1:${port}`);
    const request = Buffer.alloc(300, 2);
    let started = 0;
    await new Promise((resolve, reject) => {
      let finished = 0;
      const next = () => {
        if (started === STREAMS) return;
        started++;
        const stream = session.request({ ":method": "POST", ":path": "/envoy.service.ext_proc.v3.ExternalProcessor/Process", "content-type": "application/grpc", te: "trailers" });
        stream.on("data", () => stream.end());
        stream.on("error", reject);
        stream.on("close", () => {
          if (++finished === STREAMS) resolve();
          else next();
        });
        stream.write(request);
      };
      for (let i = 0; i < CONCURRENCY; i++) next();
    });
    session.close();
    server.proc.stdin.end();
    await server.exited;
    return server.output();
  };
  const nodeTables = await serve("server");
  const streamTables = await serve("server-stream-table");
  const control = child("control");
  control.proc.stdin.end();
  await control.exited;

  console.log(`node ${values.node === process.execPath ? process.version : values.node}, ${STREAMS} streams, ${CONCURRENCY} in flight, ${HEAP_FLAGS.join(" ")}`);
  report("node:http2 server", nodeTables, STREAMS);
  report("  with detour's StreamTable", streamTables, STREAMS);
  report("plain JS objects (control)", control.output(), STREAMS);
}
