// Every process the benchmark starts is registered here and killed when the harness exits:
// normally, on an error, or on SIGINT/SIGTERM/SIGHUP. Nothing outlives a run.
import { spawn } from "node:child_process";

const children = new Set();
let hooked = false;

function killAll(signal) {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}

function hookExit() {
  if (hooked) return;
  hooked = true;
  // 'exit' handlers must be synchronous: SIGKILL is the one signal that needs no follow-up.
  process.on("exit", () => killAll("SIGKILL"));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping all child processes\n`);
      killAll("SIGKILL");
      process.exit(130);
    });
  }
}

/**
 * Kills a child that overstayed and closes its pipes, so that its 'close' (which `exited` waits
 * for) comes even if a process it started still holds them.
 */
function forceEnd(child) {
  child.kill("SIGKILL");
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/**
 * Starts a registered child. `cpus` ("0", "1", "0-1") pins it with taskset. stdout/stderr are
 * kept (the tail) for error messages and line waits.
 */
export function startChild(name, command, args, { cpus, env, stdin = "ignore" } = {}) {
  hookExit();
  const [file, argv] = cpus === undefined ? [command, args] : ["taskset", ["-c", cpus, command, ...args]];
  const child = spawn(file, argv, { stdio: [stdin, "pipe", "pipe"], env: env === undefined ? process.env : { ...process.env, ...env } });
  children.add(child);
  let output = "";
  const listeners = new Set();
  const onData = (chunk) => {
    output = (output + chunk).slice(-40_000);
    for (const listener of listeners) listener(output);
  };
  child.stdout.setEncoding("utf8").on("data", onData);
  child.stderr.setEncoding("utf8").on("data", onData);
  const exited = new Promise((resolve) => {
    // 'close', not 'exit': only then has all of its output been read (a report printed just
    // before exiting can still be in the pipe at 'exit').
    child.once("close", (code, signal) => {
      children.delete(child);
      for (const listener of listeners) listener(output);
      resolve({ code, signal });
    });
    child.once("error", (error) => {
      children.delete(child);
      output += `\n${error.message}`;
      for (const listener of listeners) listener(output);
      resolve({ code: -1, signal: null });
    });
  });
  const handle = {
    name,
    child,
    get pid() {
      return child.pid;
    },
    exited,
    output: () => output,
    get running() {
      return child.exitCode === null && child.signalCode === null && children.has(child);
    },
    /** Resolves with the first match of `pattern` in the output; rejects on exit or timeout. */
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (text) => {
          const match = pattern.exec(text);
          if (match) {
            done();
            resolve(match);
          } else if (!handle.running) {
            done();
            reject(new Error(`${name} exited before it was ready:\n${text.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} was not ready within ${timeoutMs} ms:\n${output.slice(-3000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check(output);
      });
    },
    async stop() {
      if (!handle.running) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => forceEnd(child), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return handle;
}

/** Runs a command to completion (bounded by `timeoutMs`), resolving with its output. */
export async function runToEnd(name, command, args, { cpus, env, timeoutMs = 120_000 } = {}) {
  const handle = startChild(name, command, args, { cpus, env });
  const timer = setTimeout(() => forceEnd(handle.child), timeoutMs);
  const { code, signal } = await handle.exited;
  clearTimeout(timer);
  return { code, signal, output: handle.output() };
}

export async function stopAll() {
  await Promise.all([...children].map((child) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  })));
}
