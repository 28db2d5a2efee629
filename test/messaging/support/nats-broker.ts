import { rmSync } from "node:fs";
import { freePort } from "../../support/free-port.ts";
import { brokerDir, startBrokerProcess } from "./broker-process.ts";
import { installTool } from "./install-tool.ts";

export interface NatsBroker {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts nats-server with JetStream on a loopback port chosen now, its store in a temp dir; ready
 * at "Server is ready". stop() ends it by PID and removes the dir.
 */
export async function startNats(): Promise<NatsBroker> {
  const bin = await installTool("install-nats");
  const dir = brokerDir("nats");
  const port = await freePort();
  let server;
  try {
    server = await startBrokerProcess("nats-server", bin, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir, "-m", "0"], {
      dir, ready: (output) => output.includes("Server is ready"),
      timeoutMs: 30_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: server.pid,
    async stop() {
      await server.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
