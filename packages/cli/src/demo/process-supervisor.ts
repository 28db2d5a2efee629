import { spawn, type ChildProcess } from "node:child_process";
import { DetourError } from "@detour/core";

/** How long a child gets between SIGTERM and SIGKILL when the supervisor stops it. */
const STOP_GRACE_MS = 5_000;
/** How much of a child's output is kept for crash messages. */
const LOG_TAIL_CHARS = 8_000;

export interface SpawnSpec {
  /** Name used in messages, e.g. "pricing@v2", "ext-proc". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface SupervisedChild {
  readonly name: string;
  readonly pid: number;
  /** Recent stdout+stderr, for failure messages. */
  log(): string;
  /** Exit code, or the signal name, once the child has exited. */
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
}

/**
 * The reaper: a tiny detached Node process that holds the list of child process groups and
 * kills them when its stdin reaches EOF, which happens when the supervisor dies without
 * stopping them (kill -9, a crash of Node itself). Linux has no portable "die with parent" for
 * arbitrary binaries such as Envoy, so this is how no child outlives the demo.
 */
const REAPER_SCRIPT = `
const targets = new Set();
let buffer = "";
const killAll = (signal) => { for (const target of targets) { try { process.kill(target, signal); } catch {} } };
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffer += chunk;
  for (let end = buffer.indexOf("\\n"); end !== -1; end = buffer.indexOf("\\n")) {
    const line = buffer.slice(0, end);
    buffer = buffer.slice(end + 1);
    if (line === "done") process.exit(0);
    const match = /^([+-])(-?\\d+)$/.exec(line);
    if (match) match[1] === "+" ? targets.add(Number(match[2])) : targets.delete(Number(match[2]));
  }
});
process.stdin.on("end", () => {
  killAll("SIGTERM");
  setTimeout(() => { killAll("SIGKILL"); process.exit(0); }, 3000);
});
`;

/** A child that exited while the supervisor was not stopping it. */
export interface ChildCrash {
  readonly name: string;
  readonly pid: number;
  readonly exit: number | string;
  readonly log: string;
}

interface Entry extends SupervisedChild {
  signal(signal: NodeJS.Signals): void;
  /** For adopted children: their own stop, which may do more than signal (temp files). */
  readonly stop?: () => Promise<void>;
  readonly release: () => void;
}

/** A process started elsewhere (e.g. `startEnvoy`) that the supervisor should watch and stop. */
export interface AdoptedProcess {
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Starts and stops the demo's child processes as one unit. Each child runs in its own process
 * group (so a terminal's Ctrl-C reaches only the supervisor, which then stops the children in
 * order and does not mistake their exit for a crash) and is stopped as a group, so a child's own
 * children go too. A child that exits on its own is reported through `onCrash`.
 */
export class ProcessSupervisor {
  readonly #children: Entry[] = [];
  readonly #crashListeners: Array<(crash: ChildCrash) => void> = [];
  readonly #stoppedListeners: Array<() => void> = [];
  readonly #stopController = new AbortController();
  readonly #stopGraceMs: number;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  readonly #useReaper: boolean;
  #reaper: ChildProcess | undefined;

  /**
   * `reaper: true` starts a watchdog process that stops every child should this process die
   * without calling stopAll (see REAPER_SCRIPT).
   */
  constructor(options?: { stopGraceMs?: number; reaper?: boolean }) {
    this.#stopGraceMs = options?.stopGraceMs ?? STOP_GRACE_MS;
    this.#useReaper = options?.reaper ?? false;
  }

  #reap(line: string): void {
    if (!this.#useReaper) return;
    if (this.#reaper === undefined) {
      this.#reaper = spawn(process.execPath, ["-e", REAPER_SCRIPT], { stdio: ["pipe", "ignore", "ignore"], detached: true });
      this.#reaper.on("error", () => {});
      this.#reaper.stdin?.on("error", () => {});
      // Neither the reaper nor its pipe may keep this process alive.
      this.#reaper.unref();
      (this.#reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    }
    this.#reaper.stdin?.write(`${line}\n`);
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Aborts when stopAll starts, so whoever waits on a child can give up at once. */
  get stopSignal(): AbortSignal {
    return this.#stopController.signal;
  }

  children(): readonly SupervisedChild[] {
    return this.#children;
  }

  /** Pid of the reaper process, when one runs. */
  get reaperPid(): number | undefined {
    return this.#reaper?.pid;
  }

  /** Registers a listener for children that exit on their own (not during stopAll). */
  onCrash(listener: (crash: ChildCrash) => void): void {
    this.#crashListeners.push(listener);
  }

  /** Registers cleanup that runs once every child has stopped (temp dirs, lock files). */
  onStopped(listener: () => void): void {
    this.#stoppedListeners.push(listener);
  }

  spawn(spec: SpawnSpec): SupervisedChild {
    if (this.#stopping) throw new DetourError("supervisor-stopping", `cannot start ${spec.name}: the demo is stopping`);
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      // stdin stays an open pipe: a Node child can watch it and exit when the supervisor dies
      // without a chance to clean up (SIGKILL), see examples/src/graceful-exit.ts.
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let tail = "";
    const append = (chunk: string) => {
      tail = (tail + chunk).slice(-LOG_TAIL_CHARS);
    };
    child.stdout?.setEncoding("utf8").on("data", append);
    child.stderr?.setEncoding("utf8").on("data", append);
    child.stdin?.on("error", () => {}); // EPIPE when the child is gone: nothing to do
    let running = child.pid !== undefined;
    const exited = new Promise<number | string>((resolve) => {
      child.once("error", (error) => {
        append(`\n${error.message}\n`);
        running = false;
        resolve(`spawn error: ${error.message}`);
      });
      child.once("exit", (code, signal) => {
        running = false;
        resolve(code ?? signal ?? "unknown");
      });
    });
    const pid = child.pid ?? -1;
    const entry: Entry = {
      name: spec.name,
      pid,
      exited,
      log: () => tail,
      isRunning: () => running,
      signal: (signal) => signalGroup(pid, signal),
      release: () => child.stdin?.destroy(),
    };
    this.#track(entry);
    if (pid > 0) this.#reap(`+-${pid}`);
    return entry;
  }

  /** Watches a process someone else started: its exit counts as a crash, stopAll stops it. */
  adopt(name: string, adopted: AdoptedProcess & { readonly processGroup?: boolean }): SupervisedChild {
    let running = true;
    const exited = adopted.exited.then((code) => {
      running = false;
      return code ?? "signal";
    });
    const entry: Entry = {
      name,
      pid: adopted.pid,
      exited,
      log: () => adopted.log(),
      isRunning: () => running,
      signal: (signal) => {
        try {
          process.kill(adopted.pid, signal);
        } catch {
          // already gone
        }
      },
      stop: () => adopted.stop(),
      release: () => {},
    };
    this.#track(entry);
    if (adopted.pid > 0) this.#reap(adopted.processGroup ? `+-${adopted.pid}` : `+${adopted.pid}`);
    return entry;
  }

  #track(entry: Entry): void {
    this.#children.push(entry);
    void entry.exited.then((exit) => {
      if (this.#stopping) return;
      const crash: ChildCrash = { name: entry.name, pid: entry.pid, exit, log: entry.log() };
      for (const listener of this.#crashListeners) listener(crash);
    });
  }

  /**
   * Stops every child: SIGTERM to each process group in reverse start order (clients before the
   * servers they call), SIGKILL after a grace period. Safe to call more than once.
   */
  stopAll(): Promise<void> {
    this.#stopping = true;
    if (!this.#stopController.signal.aborted) this.#stopController.abort(new DetourError("demo-stopping", "the demo is stopping"));
    this.#stopped ??= this.#stopEvery();
    return this.#stopped;
  }

  async #stopEvery(): Promise<void> {
    const running = [...this.#children].reverse().filter((child) => child.isRunning());
    const adopted = running.filter((child) => child.stop !== undefined);
    const own = running.filter((child) => child.stop === undefined);
    for (const child of own) child.signal("SIGTERM");
    const timer = setTimeout(() => {
      for (const child of own) if (child.isRunning()) child.signal("SIGKILL");
    }, this.#stopGraceMs);
    await Promise.all([...own.map((child) => child.exited), ...adopted.map((child) => child.stop!())]);
    clearTimeout(timer);
    // A leader is gone; anything it left in its group goes too.
    for (const child of own) child.signal("SIGKILL");
    for (const child of this.#children) child.release();
    if (this.#reaper !== undefined) {
      this.#reaper.stdin?.end("done\n");
      this.#reaper = undefined;
    }
    for (const listener of this.#stoppedListeners) {
      try {
        listener();
      } catch {
        // cleanup is best effort; the children are what matters
      }
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
