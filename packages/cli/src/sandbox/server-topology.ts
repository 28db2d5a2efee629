import { DetourError } from "@detour/core";
import type { TopologyStatus } from "@detour/ext-proc/kubernetes";

/** Where `detour sandbox` finds a server's operations port unless told (the server's default `server.metrics`). */
export const DEFAULT_SERVER_URL = "http://127.0.0.1:9464";

/** How long a status request may take: the server answers from memory. */
const STATUS_TIMEOUT_MS = 5_000;

/**
 * GET /status of a detour-ext-proc server (its operations port). Throws DetourError with what
 * to check when the server cannot be reached or is not a detour server.
 */
export async function fetchServerTopology(serverUrl: string): Promise<TopologyStatus> {
  let url: URL;
  try {
    url = new URL("/status", serverUrl);
  } catch {
    throw new DetourError("usage-server", `--server ${serverUrl} is not a URL: write http://host:port of the server's operations port (server.metrics)`);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
  } catch (error) {
    throw new DetourError(
      "server-unreachable",
      `cannot reach ${url.href} (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}): pass --server with the server's operations port, e.g. after kubectl port-forward svc/detour-ext-proc 9464`,
    );
  }
  if (!response.ok) throw new DetourError("server-status", `${url.href} answered ${response.status}: is this a detour-ext-proc operations port?`);
  const status = (await response.json()) as TopologyStatus;
  if (!Array.isArray(status?.services)) throw new DetourError("server-status", `${url.href} did not answer a detour topology: is this a detour-ext-proc operations port?`);
  return status;
}
