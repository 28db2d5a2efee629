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

/** How to start the server: by default the workspace's built binary under this Node. */
export interface ExtProcCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Run through `sh -c` (a documented command line as printed). */
  readonly shell?: boolean;
}

/**
 * Starts `detour-ext-proc --config <path>` as a real child process and waits for its
 * "listening" log line, which names the ports it bound (the config may say port 0).
 * `options.command` starts another launcher of it instead (an installed bin, a documented
 * command line); its stdout must be the server's log.
 */
export async function startExtProcProcess(configPath: string, options: { timeoutMs?: number; command?: ExtProcCommand } = {}): Promise<ExtProcProcess> {
  const command = options.command ?? { file: process.execPath, args: [...EXT_PROC_NODE_FLAGS, EXT_PROC_BIN, "--config", configPath] };
  // A launcher (sh, npx) sits between us and the server: it runs in a process group of its own,
  // and signals go to the whole group, as a terminal's Ctrl-C would.
  const group = options.command !== undefined;
  const child = spawn(command.file, command.args, { cwd: command.cwd, env: { ...process.env, ...command.env }, shell: command.shell, detached: group, stdio: ["ignore", "pipe", "pipe"] });
  const send = (signal: NodeJS.Signals) => {
    if (!group || child.pid === undefined) child.kill(signal);
    else {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    }
  };
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
    send("SIGKILL");
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
      if (!gone) send(signal);
    },
    exited,
    async kill() {
      if (!gone) send("SIGKILL");
      await exited;
    },
  };
}

/** Runs the binary to completion (for configs that must be refused at start). */
export function runExtProcToExit(
  args: readonly string[],
  timeoutMs = 30_000,
  cwd?: string,
  launch: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...EXT_PROC_NODE_FLAGS, ...(launch.nodeArgs ?? []), EXT_PROC_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd, env: { ...process.env, ...launch.env } });
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
