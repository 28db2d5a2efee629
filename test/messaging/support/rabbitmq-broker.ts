import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../support/free-port.ts";
import { brokerDir, childPids, startBrokerProcess, stopPid } from "./broker-process.ts";
import { installTool } from "./install-tool.ts";

export interface RabbitMqBroker {
  /** `amqp://guest:guest@127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts RabbitMQ with the package's own rabbitmq-server script (never the system service):
 * node name, AMQP, distribution and epmd ports chosen now, every directory (mnesia, logs, config,
 * plugins, HOME with its Erlang cookie) under a temp dir, no plugins. Its own epmd is started
 * first, on its own port, so nothing is shared with other Erlang nodes. Ready at "Server startup
 * complete". stop() ends beam.smp, then epmd, by PID (rabbitmqctl cannot reach a node started
 * with this environment), then removes the dir.
 */
export async function startRabbitMq(): Promise<RabbitMqBroker> {
  // Its ports are picked free before RabbitMQ boots and binds them seconds later; in between, a
  // client's ephemeral port can take one (eaddrinuse): then start again on fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRabbitMqOnce();
    } catch (error) {
      if (attempt === 3 || !/eaddrinuse/i.test((error as Error).message)) throw error;
    }
  }
}

async function startRabbitMqOnce(): Promise<RabbitMqBroker> {
  const script = await installTool("install-rabbitmq");
  const dir = brokerDir("rabbitmq");
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  for (const sub of ["mnesia", "log", "home"]) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, "rabbitmq.conf"), ["log.console = true", "log.console.level = info", "log.file = false", ""].join("\n"));
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  const env = {
    ...process.env,
    HOME: join(dir, "home"),
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: `detour-${randomBytes(4).toString("hex")}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
  };
  let epmd;
  try {
    epmd = await startBrokerProcess("epmd", "epmd", ["-port", String(epmdPort), "-address", "127.0.0.1"], { env, dir, ready: () => true });
    await sleep(200);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let server;
  try {
    server = await startBrokerProcess("rabbitmq-server", script, [], { env, dir, ready: (output) => output.includes("Server startup complete"), timeoutMs: 120_000 });
  } catch (error) {
    await epmd.stop(2_000);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    pid: server.pid,
    async stop() {
      // The script waits on erl, which became beam.smp; ending beam.smp ends the script too.
      for (const pid of childPids(server.pid)) await stopPid(pid, 15_000);
      await server.stop(5_000);
      await epmd.stop(2_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
