import { spawn } from "node:child_process";
import { delimiter, dirname } from "node:path";

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

/**
 * Runs a command to completion in its own process group, killed (group and all) after
 * `timeoutMs`. `nodeBin` puts that Node first on PATH, so `npm` (#!/usr/bin/env node) and every
 * `node` it starts run on it.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; nodeBin?: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<CommandResult> {
  const env = { ...process.env, ...options.env };
  if (options.nodeBin !== undefined) env.PATH = `${dirname(options.nodeBin)}${delimiter}${env.PATH ?? ""}`;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-200_000)));
    child.stdin.end(options.input ?? "");
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}
