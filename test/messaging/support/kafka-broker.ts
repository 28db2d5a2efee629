import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freePort } from "../../support/free-port.ts";
import { brokerDir, startBrokerProcess } from "./broker-process.ts";
import { installTool } from "./install-tool.ts";

const run = promisify(execFile);

export interface KafkaBroker {
  /** `127.0.0.1:<port>` of the PLAINTEXT listener. */
  readonly bootstrap: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** JVM flags for a small, quick-starting test broker (one core's worth of work, ~400 MB). */
const JVM_FLAGS = ["-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"];

/**
 * Starts a single-node Kafka (KRaft: broker and controller in one process) on loopback ports
 * chosen now, with its data in a temp dir: formatted with kafka.tools.StorageTool, run with
 * kafka.Kafka on the installed Java, ready at "Kafka Server started". stop() ends it by PID and
 * removes the dir.
 */
export async function startKafka(): Promise<KafkaBroker> {
  const home = await installTool("install-kafka");
  const classpath = `${home}/libs/*`;
  const dir = brokerDir("kafka");
  const [port, controllerPort] = [await freePort(), await freePort()];
  const properties = join(dir, "server.properties");
  writeFileSync(
    properties,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "inter.broker.listener.name=PLAINTEXT",
      `log.dirs=${join(dir, "data")}`,
      "num.partitions=1",
      // One node: every internal topic has one replica; fewer offsets partitions start faster.
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=4",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      // Tests join groups often: no initial delay, and short session timeouts allowed.
      "group.initial.rebalance.delay.ms=0",
      "group.min.session.timeout.ms=1000",
      // Topics are created by the tests and by detour (inboxes); nothing appears by accident.
      "auto.create.topics.enable=false",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "log4j2.properties"),
    [
      "rootLogger.level = warn",
      "rootLogger.appenderRef.out.ref = OUT",
      "appender.out.type = Console",
      "appender.out.name = OUT",
      "appender.out.layout.type = PatternLayout",
      "appender.out.layout.pattern = [%d] %p %m (%c)%n",
      "logger.started.name = kafka.server.KafkaRaftServer",
      "logger.started.level = info",
      "",
    ].join("\n"),
  );
  const log4j = `-Dlog4j2.configurationFile=${join(dir, "log4j2.properties")}`;
  // A Kafka cluster id is 16 random bytes in URL-safe base64 without padding (Uuid.randomUuid).
  const clusterId = randomBytes(16).toString("base64url");
  try {
    await run("java", [...JVM_FLAGS, log4j, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", properties], { timeout: 120_000 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`formatting Kafka storage failed: ${(error as Error).message}`);
  }
  let broker;
  try {
    broker = await startBrokerProcess("kafka", "java", [...JVM_FLAGS, log4j, "-cp", classpath, "kafka.Kafka", properties], {
      dir, ready: (output) => output.includes("Kafka Server started"),
      timeoutMs: 120_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    bootstrap: `127.0.0.1:${port}`,
    pid: broker.pid,
    async stop() {
      await broker.stop(15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
