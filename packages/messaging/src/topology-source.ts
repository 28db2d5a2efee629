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
 * The part every TopologySource shares: the latest topology, the listeners told of a change, and
 * the start-up waiters. A source feeds it with `offer`; a document equal to the current one is no
 * change.
 */
export class TopologyHolder {
  #topology: Topology | undefined;
  readonly #listeners = new Set<(topology: Topology) => void>();
  readonly #waiters = new Set<(topology: Topology) => void>();

  current(): Topology | undefined {
    return this.#topology;
  }

  /** Takes `next`; tells the waiters and listeners when it differs from the current topology. */
  offer(next: Topology): boolean {
    const changed = this.#topology === undefined || JSON.stringify(this.#topology.document) !== JSON.stringify(next.document);
    this.#topology = next;
    if (!changed) return false;
    for (const waiter of this.#waiters) waiter(next);
    this.#waiters.clear();
    for (const listener of this.#listeners) listener(next);
    return true;
  }

  /** Resolves with the first topology; rejects after `timeoutMs` with `unavailable()`. */
  ready(timeoutMs: number, unavailable: () => Error): Promise<Topology> {
    if (this.#topology !== undefined) return Promise.resolve(this.#topology);
    return new Promise<Topology>((resolve, reject) => {
      const deadline = setTimeout(() => {
        this.#waiters.delete(done);
        reject(unavailable());
      }, timeoutMs);
      const done = (value: Topology) => {
        clearTimeout(deadline);
        resolve(value);
      };
      this.#waiters.add(done);
    });
  }

  onChange(listener: (topology: Topology) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
  }
}

/**
 * A TopologySource whose topology changes only through `replace`. `stalenessMs` is 0: a change is
 * visible at once.
 */
export function fixedTopology(initial: Topology | TopologyDocument | unknown): FixedTopology {
  const holder = new TopologyHolder();
  holder.offer(toTopology(initial));
  return {
    current: () => holder.current(),
    ready: async () => holder.current()!,
    onChange: (listener) => holder.onChange(listener),
    stalenessMs: 0,
    close: () => holder.close(),
    replace: (next) => void holder.offer(toTopology(next)),
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
