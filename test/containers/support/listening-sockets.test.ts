import { spawn } from "node:child_process";
import { afterAll, expect, it } from "vitest";
import { waitFor } from "../../support/wait-for.js";
import { listeningSockets, nonLoopbackListeners } from "./listening-sockets.js";

// The loopback-only checks of the container suites are only as good as this reader of /proc.
const child = spawn(
  process.execPath,
  ["-e", 'const net = require("node:net"); for (const host of ["127.0.0.1", "0.0.0.0", "::1", "::"]) net.createServer().listen(0, host); setInterval(() => {}, 1e6);'],
  { stdio: "ignore" },
);
afterAll(() => {
  child.kill("SIGKILL");
});

it("reads a process's listening sockets and singles out those not on loopback", async () => {
  const sockets = await waitFor(() => {
    const found = listeningSockets([child.pid!]);
    return found.length === 4 ? found : undefined;
  }, { what: "four listening sockets" });
  expect(sockets.map((socket) => socket.address).sort()).toEqual(["0.0.0.0", "0:0:0:0:0:0:0:0", "0:0:0:0:0:0:0:1", "127.0.0.1"]);
  expect(nonLoopbackListeners([child.pid!]).map((line) => line.split(" ")[1]?.replace(/:\d+$/, "")).sort()).toEqual(["0.0.0.0", "0:0:0:0:0:0:0:0"]);
});
