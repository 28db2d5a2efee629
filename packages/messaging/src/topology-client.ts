import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { DetourError, Topology, TOPOLOGY_PATH } from "@detour/core";
import { DEFAULT_TOPOLOGY_REFRESH_MS, DEFAULT_TOPOLOGY_START_TIMEOUT_MS, DEFAULT_TOPOLOGY_TIMEOUT_MS } from "./constants.js";
import { diagLogger, type MessagingLogger } from "./messaging-logger.js";
import { TopologyHolder, topologyUnavailable, type TopologySource } from "./topology-source.js";

export interface TopologyClientOptions {
  /**
   * The ext_proc server's metrics address (`server.metrics` in detour.yaml), e.g.
   * `http://detour-ext-proc:9464`; `/topology` is added when the URL has no path.
   */
  readonly url: string;
  /** Poll interval (ms); default 2000. */
  readonly refreshMs?: number;
  /** Timeout of one request (ms); default 1000. */
  readonly timeoutMs?: number;
  readonly logger?: MessagingLogger;
}

export interface TopologyClient extends TopologySource {
  /** When the last poll succeeded (a 200 or a 304), epoch ms; undefined before the first. */
  readonly lastSuccessAt: number | undefined;
  /** Polls now instead of at the next interval; resolves when that poll is done. */
  refresh(): Promise<void>;
}

/**
 * Polls the ext_proc server's GET /topology (ETag / If-None-Match: an unchanged topology costs a
 * 304) and keeps the last good document. A change on the server is visible to `current()` within
 * `refreshMs + timeoutMs` (the staleness bound) while the server is reachable. When it is not, the
 * last good topology stays in use and the outage is logged once; an invalid document is logged and
 * ignored. The poll timer does not keep the process alive.
 */
export function createTopologyClient(options: TopologyClientOptions): TopologyClient {
  const url = topologyUrl(options.url);
  const refreshMs = positive(options.refreshMs ?? DEFAULT_TOPOLOGY_REFRESH_MS, "refreshMs");
  const timeoutMs = positive(options.timeoutMs ?? DEFAULT_TOPOLOGY_TIMEOUT_MS, "timeoutMs");
  const logger = options.logger ?? diagLogger;
  const holder = new TopologyHolder();
  let etag: string | undefined;
  let lastSuccessAt: number | undefined;
  let lastError: string | undefined;
  let failing = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  async function pollOnce(): Promise<void> {
    try {
      const headers: Record<string, string> = { accept: "application/json" };
      if (etag !== undefined && holder.current() !== undefined) headers["if-none-match"] = etag;
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      if (response.status === 304) {
        await response.body?.cancel();
      } else if (response.status === 200) {
        const body: unknown = await response.json();
        const next = Topology.fromDocument(body);
        etag = response.headers.get("etag") ?? undefined;
        if (holder.offer(next)) logger.debug({ url, services: next.serviceNames().length }, "detour: topology updated");
      } else {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status}`);
      }
      lastSuccessAt = Date.now();
      if (failing) logger.info({ url }, "detour: topology reachable again");
      failing = false;
      lastError = undefined;
    } catch (error) {
      lastError = error instanceof DetourError ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
      if (!failing) {
        failing = true;
        logger.warn({ url, error: lastError, keeping: holder.current() === undefined ? "none" : "last good topology" }, "detour: cannot read the topology");
      }
    }
  }

  function poll(): Promise<void> {
    // One request at a time; the poll runs outside any request's context (it must not carry an override).
    inFlight ??= context.with(ROOT_CONTEXT, pollOnce).finally(() => (inFlight = undefined));
    return inFlight;
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => void poll().then(schedule), refreshMs);
    timer.unref();
  }

  void poll().then(schedule);

  return {
    current: () => holder.current(),
    ready: (readyTimeoutMs = DEFAULT_TOPOLOGY_START_TIMEOUT_MS) => holder.ready(readyTimeoutMs, () => topologyUnavailable(`topology ${url}`, readyTimeoutMs, lastError)),
    onChange: (listener) => holder.onChange(listener),
    stalenessMs: refreshMs + timeoutMs,
    get lastSuccessAt() {
      return lastSuccessAt;
    },
    refresh: () => poll(),
    close() {
      closed = true;
      clearTimeout(timer);
      holder.close();
    },
  };
}

function topologyUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DetourError("invalid-options", `createTopologyClient: url ${JSON.stringify(text)} is not a URL: write http://host:9464 (the server's metrics address)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DetourError("invalid-options", `createTopologyClient: url must be http or https, got ${url.protocol}`);
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = TOPOLOGY_PATH;
  return url.toString();
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DetourError("invalid-options", `createTopologyClient: ${name} must be a positive integer (ms), got ${String(value)}`);
  }
  return value;
}
