import { spawn } from "node:child_process";
import { trackChild } from "../../support/child-sweep.js";

/** How long a tool gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
/** Output kept for error messages: the tail is where a failing start explains itself. */
const OUTPUT_TAIL_CHARS = 16_000;

export interface ToolProcess {
  readonly name: string;
  readonly pid: number;
  /** Whether the process has exited. */
  exited(): boolean;
  /** The last lines it wrote (stdout and stderr interleaved). */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
}

/**
 * Starts a long-running tool (etcd, kube-apiserver) as a child process whose output is kept in
 * a bounded buffer, registered for the exit-time sweep so it never outlives the test process.
 */
export function startToolProcess(name: string, bin: string, args: readonly string[]): ToolProcess {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  let gone = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      gone = true;
      resolve();
    }),
  );
  child.once("error", (error) => {
    keep(`\n${name}: ${error.message}\n`);
    gone = true;
  });
  const untrack = child.pid === undefined ? () => undefined : trackChild(child.pid);
  void exit.then(untrack);
  return {
    name,
    pid: child.pid ?? -1,
    exited: () => gone,
    output: () => output,
    async stop() {
      if (gone || child.pid === undefined) return;
      process.kill(child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (!gone && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      }, STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    },
  };
}
