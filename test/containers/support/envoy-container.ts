import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { parseHostPort } from "@detour/ext-proc";
import { setTimeout as sleep } from "node:timers/promises";
import { offlineImages } from "./offline-images.js";

export interface EnvoyContainer {
  readonly container: StartedTestContainer;
  readonly adminPort: number;
  /** The port a named listener bound (the generated config lets them pick free ports). */
  listenerPort(name: string): number;
  stats(): Promise<Map<string, number>>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Envoy as a container of the official image name (the offline stand-in here), host network,
 * with a generated bootstrap bind-mounted at /work/envoy.yaml. Admin and listeners bind
 * 127.0.0.1 port 0; Envoy writes its admin address to a file in the mounted folder and the
 * listener ports are read from the admin API, all on loopback.
 */
export async function startEnvoyContainer(bootstrapYaml: string, workDir: string): Promise<EnvoyContainer> {
  writeFileSync(join(workDir, "envoy.yaml"), bootstrapYaml);
  const addressFile = join(workDir, "admin-address");
  let output = "";
  let exited = false;
  const container = await new GenericContainer(offlineImages().envoy)
    .withNetworkMode("host")
    .withBindMounts([{ source: workDir, target: "/work", mode: "rw" }])
    // Arguments only: the image's entrypoint prepends `envoy`, like the official one.
    .withCommand(["-c", "/work/envoy.yaml", "--admin-address-path", "/work/admin-address", "--log-level", "warn"])
    .withLogConsumer((stream) => {
      stream.on("data", (chunk: Buffer | string) => (output = (output + chunk.toString()).slice(-200_000)));
      stream.on("end", () => (exited = true));
    })
    // With host networking there are no mapped ports to wait for, and Envoy at warn level logs
    // nothing when healthy: readiness is read from the admin API below.
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(60_000)
    .start()
    .catch((error: unknown) => {
      throw new Error(`Envoy container did not start: ${(error as Error).message}\noutput:\n${output}`, { cause: error });
    });

  // Fails fast with Envoy's own words when it exits (a config it rejects), else polls.
  const until = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = await check().catch(() => undefined);
      if (value !== undefined) return value;
      if (exited) throw new Error(`Envoy container exited while waiting for ${what}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`timed out after 60 s waiting for ${what}; Envoy output:\n${output}`);
      await sleep(100);
    }
  };
  const adminPort = await until(`its admin address in ${addressFile}`, async () => {
    if (!existsSync(addressFile)) return undefined;
    const text = readFileSync(addressFile, "utf8").trim();
    return text === "" ? undefined : parseHostPort(text)?.port;
  });
  const admin = (path: string) => fetch(`http://127.0.0.1:${adminPort}${path}`);
  await until("/ready to say LIVE", async () => ((await (await admin("/ready")).text()).trim() === "LIVE" ? true : undefined));

  const listeners = (await (await admin("/listeners?format=json")).json()) as {
    listener_statuses?: { name: string; local_address?: { socket_address?: { port_value?: number } } }[];
  };
  const ports = new Map<string, number>();
  for (const status of listeners.listener_statuses ?? []) {
    const port = status.local_address?.socket_address?.port_value;
    if (port !== undefined) ports.set(status.name, port);
  }
  return {
    container,
    adminPort,
    listenerPort(name) {
      const port = ports.get(name);
      if (port === undefined) throw new Error(`Envoy has no listener '${name}' (has: ${[...ports.keys()].join(", ")})`);
      return port;
    },
    async stats() {
      const text = await (await admin("/stats?format=json")).text();
      const stats = new Map<string, number>();
      for (const stat of (JSON.parse(text) as { stats: { name?: string; value?: number }[] }).stats) {
        if (stat.name !== undefined && typeof stat.value === "number") stats.set(stat.name, stat.value);
      }
      return stats;
    },
    output: () => output,
    stop: async () => {
      await container.stop({ timeout: 10_000 });
    },
  };
}
