import { readFile, stat } from "node:fs/promises";
import { Topology, topologyDocumentFromConfig } from "@detour/core";
import { parse } from "yaml";
import { DEFAULT_TOPOLOGY_REFRESH_MS, DEFAULT_TOPOLOGY_START_TIMEOUT_MS } from "./constants.js";
import { diagLogger, type MessagingLogger } from "./messaging-logger.js";
import { TopologyHolder, topologyUnavailable, type TopologySource } from "./topology-source.js";

export interface TopologyFileOptions {
  /** How often the file's modification time is checked (ms); default 2000. */
  readonly refreshMs?: number;
  readonly logger?: MessagingLogger;
}

/**
 * The topology of a detour.yaml the consumer can read itself (the file the ext_proc server runs
 * on, mounted next to the consumer): the same document the server publishes at GET /topology.
 * The file is checked every `refreshMs` and re-read when it changed (a rename, as a Kubernetes
 * ConfigMap update does, counts); a change is visible within `refreshMs`. A file that cannot be
 * read or is not a valid topology is logged and the last good topology stays.
 */
export function topologyFromFile(path: string, options: TopologyFileOptions = {}): TopologySource {
  const refreshMs = options.refreshMs ?? DEFAULT_TOPOLOGY_REFRESH_MS;
  const logger = options.logger ?? diagLogger;
  const holder = new TopologyHolder();
  let seen: string | undefined;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function check(): Promise<void> {
    try {
      const info = await stat(path);
      const version = `${info.ino}:${info.mtimeMs}:${info.size}`;
      if (version === seen) return;
      const next = Topology.fromDocument(topologyDocumentFromConfig(parse(await readFile(path, "utf8"))));
      seen = version;
      lastError = undefined;
      holder.offer(next);
    } catch (error) {
      const message = (error as Error).message;
      if (message !== lastError) logger.warn({ path, error: message, keeping: holder.current() === undefined ? "none" : "last good topology" }, "detour: cannot read the topology file");
      lastError = message;
    }
  }

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => void check().then(schedule), refreshMs);
    timer.unref();
  };
  void check().then(schedule);

  return {
    current: () => holder.current(),
    ready: (timeoutMs = DEFAULT_TOPOLOGY_START_TIMEOUT_MS) => holder.ready(timeoutMs, () => topologyUnavailable(`topology file ${path}`, timeoutMs, lastError)),
    onChange: (listener) => holder.onChange(listener),
    stalenessMs: refreshMs,
    close() {
      closed = true;
      clearTimeout(timer);
      holder.close();
    },
  };
}
