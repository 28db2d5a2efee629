import { PassThrough } from "node:stream";
import type { CliIo } from "../cli-io.js";
import { runCli } from "../cli-program.js";

/** What one in-process `detour` run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `detour <args>` in this process (the tests' way to call the CLI), with `stdin` as its input. */
export async function runCliInProcess(args: readonly string[], options: { cwd: string; stdin?: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const input = new PassThrough();
  input.end(options.stdin ?? "");
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: input,
    env: options.env ?? {},
    cwd: options.cwd,
  };
  return { code: await runCli(args, io), stdout, stderr };
}
