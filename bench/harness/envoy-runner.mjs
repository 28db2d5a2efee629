// Starts a real Envoy on loopback from a bootstrap object: admin and listeners on port 0, the
// bound ports read back from the admin API. Same flags for every scenario.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startChild } from "./child-processes.mjs";
import { makeTempDir, removeTempDir } from "./temp-dirs.mjs";

export async function startEnvoy(name, { envoyBin, bootstrap, concurrency, cpus, readyTimeoutMs = 30_000 }) {
  const dir = makeTempDir("detour-bench-envoy-");
  const configPath = join(dir, "envoy.yaml");
  const adminPath = join(dir, "admin-address");
  // YAML is a superset of JSON: the object is written as JSON.
  writeFileSync(configPath, typeof bootstrap === "string" ? bootstrap : JSON.stringify(bootstrap, null, 1));
  const args = ["-c", configPath, "--admin-address-path", adminPath, "--concurrency", String(concurrency), "--log-level", "warning", "--disable-hot-restart"];
  const proc = startChild(name, envoyBin, args, { cpus });
  const deadline = Date.now() + readyTimeoutMs;
  let adminUrl = "";
  let listeners;
  try {
    for (;;) {
      if (!proc.running) throw new Error(`${name}: envoy exited before it was ready:\n${proc.output().slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`${name}: envoy was not ready within ${readyTimeoutMs} ms:\n${proc.output().slice(-4000)}`);
      if (!adminUrl && existsSync(adminPath)) {
        const address = readFileSync(adminPath, "utf8").trim();
        if (address) adminUrl = `http://${address}`;
      }
      if (adminUrl && (await fetch(`${adminUrl}/ready`).then((r) => r.status === 200, () => false))) {
        const body = await (await fetch(`${adminUrl}/listeners?format=json`)).json();
        listeners = new Map((body.listener_statuses ?? []).map((l) => [l.name, l.local_address?.socket_address?.port_value ?? 0]));
        break;
      }
      await sleep(25);
    }
  } catch (error) {
    await proc.stop();
    removeTempDir(dir);
    throw error;
  }
  return {
    name,
    proc,
    pid: proc.pid,
    adminUrl,
    listenerPort(listener) {
      const port = listeners.get(listener);
      if (!port) throw new Error(`${name}: no listener '${listener}' (has: ${[...listeners.keys()].join(", ")})`);
      return port;
    },
    /** Counters and gauges from /stats?usedonly. */
    async stats() {
      const text = await (await fetch(`${adminUrl}/stats?usedonly`)).text();
      const stats = new Map();
      for (const line of text.split("\n")) {
        const match = /^(\S+): (\d+)$/.exec(line);
        if (match) stats.set(match[1], Number(match[2]));
      }
      return stats;
    },
    async stop() {
      await proc.stop();
      removeTempDir(dir);
    },
  };
}
