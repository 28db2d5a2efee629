import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { stringify } from "yaml";
import { parseHostPort, type DetourConfig } from "@detour/ext-proc";
import { offlineImages, REPO_ROOT } from "./offline-images.js";

export interface ExtProcContainer {
  readonly container: StartedTestContainer;
  readonly grpcPort: number;
  readonly metricsPort: number;
  /** Everything the server wrote so far (pino JSON lines). */
  output(): string;
  stop(): Promise<void>;
}

const LISTENING = "detour ext_proc server listening";

/**
 * The ext_proc server as a container: the Node image with the repository (built: `npm run
 * build`) bind-mounted read-only at /app, `node packages/ext-proc/dist/bin.js --config ...`,
 * host network. The config should listen on 127.0.0.1 port 0; the ports it bound are read from
 * its "listening" log line, as for the native process.
 */
export async function startExtProcContainer(config: DetourConfig, workDir: string): Promise<ExtProcContainer> {
  // The ports are read from the info-level "listening" line, so the level is at least info.
  const level = ["fatal", "error", "warn", "silent"].includes(config.server.logLevel) ? "info" : config.server.logLevel;
  writeFileSync(join(workDir, "detour.yaml"), stringify({ ...config, server: { ...config.server, logLevel: level } }));
  let output = "";
  const container = await new GenericContainer(offlineImages().node)
    .withNetworkMode("host")
    .withBindMounts([
      { source: REPO_ROOT, target: "/app", mode: "ro" },
      { source: workDir, target: "/work", mode: "ro" },
    ])
    .withWorkingDir("/app")
    .withCommand(["node", "packages/ext-proc/dist/bin.js", "--config", "/work/detour.yaml"])
    .withLogConsumer((stream) => stream.on("data", (chunk: Buffer | string) => (output = (output + chunk.toString()).slice(-200_000))))
    .withWaitStrategy(Wait.forLogMessage(LISTENING))
    .withStartupTimeout(60_000)
    .start()
    .catch((error: unknown) => {
      throw new Error(`ext_proc container did not start: ${(error as Error).message}\noutput:\n${output}`, { cause: error });
    });

  // The log consumer may lag the wait strategy by a chunk: read the line from the container's own log.
  const logs = await readLogs(container);
  const line = logs.split("\n").find((text) => text.includes(LISTENING));
  if (line === undefined) throw new Error(`ext_proc container logged no '${LISTENING}' line:\n${logs}`);
  const listening = JSON.parse(line) as { grpc: string; metrics: string };
  const port = (address: string) => parseHostPort(address)?.port ?? -1;
  return {
    container,
    grpcPort: port(listening.grpc),
    metricsPort: port(listening.metrics),
    output: () => output,
    stop: async () => {
      await container.stop({ timeout: 10_000 });
    },
  };
}

/** The container's log so far (stdout and stderr), without following it. */
export async function readLogs(container: StartedTestContainer): Promise<string> {
  const stream = await container.logs();
  return new Promise((resolve) => {
    let text = "";
    const timer = setTimeout(() => {
      stream.destroy();
      resolve(text);
    }, 500);
    stream.on("data", (chunk: Buffer | string) => (text += chunk.toString()));
    stream.on("end", () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}
