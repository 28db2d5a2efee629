import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import type { DetourConfig } from "@detour/ext-proc";
import { startExtProcProcess, type ExtProcProcess, type LogLine } from "../../support/ext-proc-process.js";
import { metricValue } from "../../support/prometheus-text.js";
import { trackChild } from "../../support/child-sweep.js";

/**
 * One ext_proc server binary on a fixed gRPC port (so Envoy's cluster finds it again after a
 * restart) that the suite kills, stops, resumes and restarts on purpose. Any exit the suite did
 * not ask for is a crash and is counted as one.
 */
export class ManagedExtProc {
  private current: ExtProcProcess | undefined;
  private readonly instances: ExtProcProcess[] = [];
  private intendedExit = false;
  private crashCount = 0;
  private readonly crashNotes: string[] = [];
  /** performance.now() when the running instance logged "listening" (its own report of readiness). */
  readyAt = 0;
  starts = 0;

  constructor(
    readonly name: string,
    readonly configPath: string,
    readonly grpcPort: number,
  ) {}

  /** Writes the config file (YAML of `config`, or raw text for config-fault tests). */
  writeConfig(config: DetourConfig | string): void {
    writeFileSync(this.configPath, typeof config === "string" ? config : stringify(config));
  }

  get process(): ExtProcProcess {
    if (this.current === undefined) throw new Error(`ext_proc server ${this.name} is not running`);
    return this.current;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Exits nobody asked for, with their exit code / signal and the end of stderr. */
  get crashes(): { count: number; notes: readonly string[] } {
    return { count: this.crashCount, notes: this.crashNotes };
  }

  async start(): Promise<void> {
    if (this.current !== undefined) throw new Error(`ext_proc server ${this.name} is already running`);
    const started = await startExtProcProcess(this.configPath, { timeoutMs: 60_000 });
    this.readyAt = performance.now();
    this.starts++;
    this.intendedExit = false;
    this.current = started;
    this.instances.push(started);
    const untrack = trackChild(started.pid);
    void started.exited.then((exit) => {
      untrack();
      if (this.current === started) this.current = undefined;
      if (!this.intendedExit) {
        this.crashCount++;
        this.crashNotes.push(`${this.name} exited unasked (code ${exit.code}, signal ${exit.signal}): ${started.stderr().slice(-2000)}`);
      }
    });
  }

  /** SIGKILL: the process gets no chance to clean up. */
  async kill(): Promise<void> {
    const running = this.current;
    if (running === undefined) return;
    this.intendedExit = true;
    await running.kill();
    this.current = undefined;
  }

  /** SIGTERM and wait for the exit; the exit code is returned (0 = graceful). */
  async terminate(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const running = this.process;
    this.intendedExit = true;
    running.signal("SIGTERM");
    const timer = setTimeout(() => running.signal("SIGKILL"), timeoutMs);
    const exit = await running.exited;
    clearTimeout(timer);
    this.current = undefined;
    return exit;
  }

  /** Log lines at warn level or above of every instance so far (pino: warn 40, error 50, fatal 60). */
  warnings(): LogLine[] {
    return this.instances.flatMap((instance) => instance.logs.filter((line) => line.level >= 40));
  }

  /** Log lines with this message of every instance so far. */
  logLines(message: string): LogLine[] {
    return this.instances.flatMap((instance) => instance.logs.filter((line) => line.msg === message));
  }

  pause(): void {
    this.process.signal("SIGSTOP");
  }

  resume(): void {
    this.process.signal("SIGCONT");
  }

  async metricsText(): Promise<string> {
    return this.process.metrics();
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricValue(await this.metricsText(), name, labels);
  }

  /** SIGKILL if still running (also when stopped: SIGKILL needs no SIGCONT). */
  async close(): Promise<void> {
    await this.kill();
  }
}
