import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { EXT_PROC_NODE_FLAGS, parseHostPort } from "@detour/ext-proc";
import { waitFor } from "./wait-for.js";

/** The built server binary; `npm test` builds first (`npm run build`). */
export const EXT_PROC_BIN = fileURLToPath(new URL("../../packages/ext-proc/dist/bin.js", import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface ExtProcProcess {
  readonly pid: number;
  readonly grpcPort: number;
  readonly metricsPort: number;
  /** Structured (pino) log lines written so far. */
  readonly logs: LogLine[];
  stderr(): string;
  /** Prometheus text from /metrics. */
  metrics(): Promise<string>;
  waitForLog(predicate: (line: LogLine) => boolean, what: string): Promise<LogLine>;
  signal(signal: NodeJS.Signals): void;
  /** Exit code and signal, once exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL unless already gone. */
  kill(): Promise<void>;
}

/**
 * Starts `detour-ext-proc --config <path>` as a real child process and waits for its
 * "listening" log line, which names the ports it bound (the config may say port 0).
 */
export async function startExtProcProcess(configPath: string, options: { timeoutMs?: number; nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ExtProcProcess> {
  const child = spawn(process.execPath, [...EXT_PROC_NODE_FLAGS, ...(options.nodeArgs ?? []), EXT_PROC_BIN, "--config", configPath], {
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
  });
  const logs: LogLine[] = [];
  let stderr = "";
  let partial = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 0, msg: line });
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));

  const waitForLog = (predicate: (line: LogLine) => boolean, what: string) =>
    waitFor(
      () => {
        const found = logs.find(predicate);
        if (found) return found;
        if (gone) throw new Error(`ext-proc exited; stderr: ${stderr}`);
        return undefined;
      },
      { what, timeoutMs: options.timeoutMs ?? 30_000 },
    );
  let listening: LogLine;
  try {
    listening = await waitForLog((line) => line.msg === "detour ext_proc server listening", "ext-proc to listen");
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\nstderr: ${stderr}\nstdout: ${logs.map((l) => JSON.stringify(l)).join("\n")}`);
  }
  const port = (address: unknown) => parseHostPort(String(address))?.port ?? -1;
  const metricsPort = port(listening.metrics);
  return {
    pid: child.pid ?? -1,
    grpcPort: port(listening.grpc),
    metricsPort,
    logs,
    stderr: () => stderr,
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    waitForLog,
    signal: (signal) => {
      if (!gone) child.kill(signal);
    },
    exited,
    async kill() {
      if (!gone) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Runs the binary to completion (for configs that must be refused at start). */
export function runExtProcToExit(
  args: readonly string[],
  timeoutMs = 30_000,
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...EXT_PROC_NODE_FLAGS, ...(options.nodeArgs ?? []), EXT_PROC_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`detour-ext-proc ${args.join(" ")} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
