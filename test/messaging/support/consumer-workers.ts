import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../support/wait-for.js";
import type { BrokerEndpoints } from "./clients/client-harness.js";

const WORKER = fileURLToPath(new URL("../fixtures/consumer-worker.mjs", import.meta.url));

export interface WorkerConfig {
  readonly client: string;
  readonly brokers: BrokerEndpoints;
  readonly destination: string;
  readonly group: string;
  readonly workload: string;
  readonly topologyUrl: string;
  readonly refreshMs: number;
  readonly reconcileMs: number;
  readonly sessionTimeoutMs: number;
  /** JetStream inbox consumers' ack_wait. */
  readonly ackWaitMs: number;
}

/** One report of a message handled: by which workload, and when the suite heard of it (epoch ms). */
export interface Handling {
  readonly workload: string;
  readonly at: number;
}

/** Who handled which message: message id -> handlings, in the order they were reported. */
export type HandledLog = Map<string, Handling[]>;

export interface ConsumerWorker {
  readonly pid: number;
  readonly workload: string;
  readonly role: string;
  /** Messages this worker handled so far. */
  readonly count: number;
  status(): Promise<{ inboxes: string[]; draining: string[] }>;
  /** Graceful stop (the consumer leaves its group), then the process exits. */
  stop(): Promise<void>;
  /** SIGKILL, like a crashed pod: no goodbye to the broker. */
  kill(): Promise<void>;
}

/**
 * Starts fixtures/consumer-worker.mjs as a child process on this Node (the built packages) and
 * records every message it handles into `log`. Resolves once it consumes.
 */
export async function startWorker(config: WorkerConfig, log: HandledLog): Promise<ConsumerWorker> {
  const child: ChildProcess = fork(WORKER, [JSON.stringify(config)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let role: string | undefined;
  let count = 0;
  let failed: string | undefined;
  let statusWaiter: ((status: { inboxes: string[]; draining: string[] }) => void) | undefined;
  const exited = new Promise<void>((resolve) => child.once("exit", (code, signal) => {
    if (role === undefined) failed = `worker ${config.workload} exited (${code ?? signal}) before it was ready`;
    resolve();
  }));
  child.on("message", (message: { t: string; role?: string; items?: [string, string][]; inboxes?: string[]; draining?: string[] }) => {
    if (message.t === "ready") role = message.role;
    else if (message.t === "done") {
      const at = Date.now();
      for (const [id] of message.items ?? []) {
        count++;
        const handling = { workload: config.workload, at };
        const list = log.get(id);
        if (list === undefined) log.set(id, [handling]);
        else list.push(handling);
      }
    } else if (message.t === "status") statusWaiter?.({ inboxes: message.inboxes ?? [], draining: message.draining ?? [] });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    await Promise.race([
      waitFor(() => role, { what: `worker ${config.workload} to consume`, timeoutMs: 90_000 }),
      exited.then(() => {
        throw new Error(failed ?? `worker ${config.workload} exited`);
      }),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  }
  return {
    pid: child.pid ?? -1,
    workload: config.workload,
    role: role!,
    get count() {
      return count;
    },
    status: () =>
      new Promise((resolve) => {
        statusWaiter = resolve;
        child.send({ t: "status" });
      }),
    async stop() {
      if (!alive()) return;
      child.send({ t: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (alive()) child.kill("SIGKILL");
      await exited;
    },
  };
}
