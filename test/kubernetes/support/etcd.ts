import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../support/free-port.js";
import { waitFor } from "../../support/wait-for.js";
import { startToolProcess, type ToolProcess } from "./tool-process.js";

export interface Etcd {
  /** The client URL kube-apiserver's --etcd-servers takes. */
  readonly url: string;
  readonly process: ToolProcess;
  /** Milliseconds from spawn to a healthy /health. */
  readonly readyMs: number;
}

/**
 * One etcd member on loopback ports chosen now, its data in `dir`. `--unsafe-no-fsync`: a test
 * store that dies with the test needs no durability, and fsync is most of etcd's write latency.
 */
export async function startEtcd(bin: string, dir: string): Promise<Etcd> {
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const dataDir = join(dir, "etcd");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const started = performance.now();
  const etcd = startToolProcess("etcd", bin, [
    "--name=rig",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=rig=${peerUrl}`,
    "--unsafe-no-fsync",
    "--logger=zap",
    "--log-level=warn",
  ]);
  try {
    await waitFor(
      async () => {
        if (etcd.exited()) throw new Error("etcd exited");
        const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2_000) });
        const body = (await response.json()) as { health?: string };
        return body.health === "true";
      },
      { what: "etcd to report healthy", timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    await etcd.stop();
    throw new Error(`${(error as Error).message}\netcd output:\n${etcd.output()}`);
  }
  return { url: clientUrl, process: etcd, readyMs: performance.now() - started };
}
