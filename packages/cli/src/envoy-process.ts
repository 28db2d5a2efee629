import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DetourError } from "@detour/core";

export interface StartEnvoyOptions {
  /** Envoy bootstrap as YAML text. Its admin listener should bind 127.0.0.1 port 0. */
  config: string;
  envoyBin: string;
  /** Worker threads (`--concurrency`); 1 keeps tests deterministic on small machines. */
  concurrency?: number;
  logLevel?: "trace" | "debug" | "info" | "warning" | "error" | "critical" | "off";
  readyTimeoutMs?: number;
  /** Called with each chunk Envoy writes to stderr (its log). */
  onLog?: (chunk: string) => void;
  /**
   * Run Envoy in its own process group, so a terminal's Ctrl-C reaches only the parent, which
   * then stops Envoy itself (`detour demo` stops its children in order and must not mistake
   * Envoy's exit on that SIGINT for a crash).
   */
  detached?: boolean;
}

export interface EnvoyProcess {
  readonly pid: number;
  readonly adminUrl: string;
  /** Port a named listener bound to (listeners may use port 0). */
  listenerPort(name: string): number;
  /** Counter and gauge values from /stats, keyed by stat name. */
  stats(): Promise<Map<string, number>>;
  /** Recent stderr output, for failure messages. */
  log(): string;
  stop(): Promise<void>;
  readonly exited: Promise<number | null>;
}

interface ListenerStatus {
  name: string;
  local_address?: { socket_address?: { port_value?: number } };
}

/**
 * Starts a real Envoy with the given bootstrap, waits until its admin `/ready` says LIVE and
 * records the ports its listeners bound. Each instance gets its own temp dir and
 * `--base-id`, so several can run on one machine.
 */
export async function startEnvoy(options: StartEnvoyOptions): Promise<EnvoyProcess> {
  const dir = mkdtempSync(join(tmpdir(), "detour-envoy-"));
  const configPath = join(dir, "envoy.yaml");
  const adminPath = join(dir, "admin-address");
  writeFileSync(configPath, options.config);
  const args = [
    "-c", configPath,
    "--admin-address-path", adminPath,
    "--concurrency", String(options.concurrency ?? 1),
    "--log-level", options.logLevel ?? "warning",
    "--disable-hot-restart",
  ];
  const child = spawn(options.envoyBin, args, { stdio: ["ignore", "ignore", "pipe"], detached: options.detached ?? false });
  let logText = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    logText = (logText + chunk).slice(-20_000);
    options.onLog?.(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  let adminUrl = "";
  let listeners = new Map<string, number>();
  try {
    for (;;) {
      if (exitCode !== undefined) {
        throw new DetourError("envoy-exited", `envoy exited with code ${exitCode} before it was ready:\n${logText.slice(-4000)}`);
      }
      if (Date.now() > deadline) {
        throw new DetourError("envoy-not-ready", `envoy was not ready within ${options.readyTimeoutMs ?? 20_000} ms:\n${logText.slice(-4000)}`);
      }
      if (!adminUrl && existsSync(adminPath)) {
        const address = readFileSync(adminPath, "utf8").trim();
        if (address) adminUrl = `http://${address}`;
      }
      if (adminUrl) {
        const ready = await fetch(`${adminUrl}/ready`).then((r) => r.status === 200, () => false);
        if (ready) {
          const body = (await (await fetch(`${adminUrl}/listeners?format=json`)).json()) as { listener_statuses?: ListenerStatus[] };
          listeners = new Map((body.listener_statuses ?? []).map((l) => [l.name, l.local_address?.socket_address?.port_value ?? 0]));
          break;
        }
      }
      await sleep(25);
    }
  } catch (error) {
    await stopChild(child, exited);
    cleanup();
    throw error;
  }

  return {
    pid: child.pid ?? -1,
    adminUrl,
    exited,
    log: () => logText,
    listenerPort(name) {
      const port = listeners.get(name);
      if (!port) throw new DetourError("envoy-listener-unknown", `envoy has no listener named '${name}' (it has: ${[...listeners.keys()].join(", ")})`);
      return port;
    },
    async stats() {
      const text = await (await fetch(`${adminUrl}/stats?usedonly`)).text();
      const stats = new Map<string, number>();
      for (const line of text.split("\n")) {
        const match = /^(\S+): (\d+)$/.exec(line);
        if (match) stats.set(match[1]!, Number(match[2]));
      }
      return stats;
    },
    async stop() {
      await stopChild(child, exited);
      cleanup();
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface EnvoyValidation {
  ok: boolean;
  output: string;
}

/** Runs `envoy --mode validate`: the binary's own full check of a bootstrap, no listeners opened. */
export async function validateEnvoyConfig(envoyBin: string, config: string): Promise<EnvoyValidation> {
  const dir = mkdtempSync(join(tmpdir(), "detour-validate-"));
  const path = join(dir, "envoy.yaml");
  writeFileSync(path, config);
  try {
    return await new Promise<EnvoyValidation>((resolve) => {
      execFile(envoyBin, ["--mode", "validate", "-c", path, "--log-level", "error", "--disable-hot-restart"], { timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ ok: !error, output: `${stdout}${stderr}` });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
