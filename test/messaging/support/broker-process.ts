import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "../../support/process-alive.js";

export interface BrokerProcess {
  readonly pid: number;
  /** stdout and stderr so far (the last 200 KB). */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a broker process and waits until `ready(output)` says so (a log line), failing with the
 * output when it exits first or `timeoutMs` passes. The caller stops it by PID (stop()).
 */
export async function startBrokerProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { ready: (output: string) => boolean; timeoutMs?: number; dir: string },
): Promise<BrokerProcess> {
  const child: ChildProcess = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid !== undefined) appendFileSync(join(options.dir, "pids"), `${child.pid}\n`);
  let output = "";
  const append = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-200_000));
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      gone = true;
      resolve({ code, signal });
    });
    child.once("error", (error) => {
      gone = true;
      append(Buffer.from(`\nspawn failed: ${error.message}\n`));
      resolve({ code: null, signal: null });
    });
  });
  const process: BrokerProcess = {
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    async stop(graceMs = 10_000) {
      if (gone) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!options.ready(output)) {
    if (gone) throw new Error(`${name} exited before it was ready:\n${output.slice(-4000)}`);
    if (Date.now() > deadline) {
      await process.stop(2_000);
      throw new Error(`${name} was not ready within ${options.timeoutMs ?? 60_000} ms:\n${output.slice(-4000)}`);
    }
    await sleep(100);
  }
  return process;
}

/** PIDs of the direct children of `pid` (Linux /proc), for brokers started through a wrapper script. */
export function childPids(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return tasks === "" ? [] : tasks.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** SIGTERM `pid`, SIGKILL after `graceMs`; resolves when it is gone. For processes we did not spawn ourselves. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isProcessAlive(pid)) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        return;
      }
    }
    await sleep(50);
  }
}

/** Temp dirs of the broker rigs: `detour-kafka-*`, `detour-rabbitmq-*`, `detour-nats-*`. */
const BROKER_DIR = /^detour-(kafka|rabbitmq|nats)-/;

/**
 * A temp dir for one broker, recording that this process owns it: a later run stops the processes
 * listed in it (startBrokerProcess records them) when its owner was killed before its afterAll
 * ran (reapOrphanedBrokers).
 */
export function brokerDir(kind: "kafka" | "rabbitmq" | "nats"): string {
  const dir = mkdtempSync(join(tmpdir(), `detour-${kind}-`));
  writeFileSync(join(dir, "owner"), String(process.pid));
  return dir;
}

/** SIGKILLs the recorded processes of broker dirs whose owner is gone, and removes the dirs. */
export function reapOrphanedBrokers(): number {
  let reaped = 0;
  for (const name of readdirSync(tmpdir())) {
    if (!BROKER_DIR.test(name)) continue;
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, "owner"), "utf8"));
    } catch {
      continue;
    }
    if (isProcessAlive(owner)) continue;
    let pids: number[] = [];
    try {
      pids = readFileSync(join(dir, "pids"), "utf8").split("\n").filter(Boolean).map(Number);
    } catch {
      // no process was started
    }
    for (const pid of pids) {
      for (const child of childPids(pid)) if (isProcessAlive(child)) process.kill(child, "SIGKILL");
      if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
    reaped++;
  }
  return reaped;
}
