import { DetourError, Topology, type TopologyDocument } from "@detour/core";

/**
 * Where consumers learn the live versions of each service: the one place that decides which
 * version processes a message. Implemented by createTopologyClient (the ext_proc server's
 * GET /topology) and fixedTopology (a document held in memory).
 */
export interface TopologySource {
  /** The latest topology, undefined until the first one is known. */
  current(): Topology | undefined;
  /** Resolves with the first topology; rejects with DetourError "topology-unavailable" after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<Topology>;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: (topology: Topology) => void): () => void;
  /**
   * Upper bound (ms) on how long a change at the source takes to reach `current()` while the
   * source is reachable. Consumers wait at least this long before they treat an inbox as drained.
   */
  readonly stalenessMs: number;
  close(): void;
}

/** A topology held in memory: for tests, scripts, and applications that read detour.yaml themselves. */
export interface FixedTopology extends TopologySource {
  /** Swaps in a new topology (validated; throws DetourError "invalid-topology" and keeps the old one). */
  replace(next: Topology | TopologyDocument | unknown): void;
}

/**
 * A TopologySource whose topology changes only through `replace`. `stalenessMs` is 0: a change is
 * visible at once.
 */
export function fixedTopology(initial: Topology | TopologyDocument | unknown): FixedTopology {
  let topology = toTopology(initial);
  const listeners = new Set<(topology: Topology) => void>();
  return {
    current: () => topology,
    ready: async () => topology,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stalenessMs: 0,
    close() {
      listeners.clear();
    },
    replace(next) {
      topology = toTopology(next);
      for (const listener of listeners) listener(topology);
    },
  };
}

function toTopology(value: unknown): Topology {
  return value instanceof Topology ? value : Topology.fromDocument(value);
}

/** The error a consumer start fails with when no topology arrived in time. */
export function topologyUnavailable(where: string, timeoutMs: number, reason: string | undefined): DetourError {
  return new DetourError(
    "topology-unavailable",
    `${where}: no topology within ${timeoutMs} ms${reason === undefined ? "" : ` (${reason})`}: check that the detour ext_proc server's metrics address is reachable, or pass fixedTopology(...)`,
  );
}
