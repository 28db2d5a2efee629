import type { ServerHttp2Session } from "node:http2";
import { isMap, isSet } from "node:util/types";

/**
 * Keeps node:http2's per-session stream bookkeeping out of the old generation.
 *
 * A node:http2 session tracks its streams in a `Map` (stream id → stream) and a `Set` (streams
 * not yet given an id), each gaining and losing one entry per stream. V8 stores a Map or Set in
 * an ordered hash table that it rebuilds as deleted entries pile up; the table it leaves behind
 * keeps its entries and a link to the new table, for iterators still walking it. Every table
 * alive at a full collection moves to the old generation, and a young-generation collection
 * keeps whatever an old object points to, dead or not. So from the first rebuild after a full
 * collection, each left-behind table keeps the next one alive until the next full collection,
 * and with them every stream that was in them: on the override path, where Envoy opens one
 * stream per request, all of a stream's objects (its Duplex state, header objects, closures)
 * reach the old generation, and the server pays for them with mark-compacts that stall the
 * main thread (`node bench/http2-gc.mjs`; bench/README.md, "Server CPU per request").
 *
 * `StreamTable` has the part of the Map and Set interface node:http2 uses (Node 20, 22 and 24:
 * `size`, `get`, `has`, `set`, `add`, `delete`, `forEach`, iteration) on two dense arrays whose
 * freed slots are cleared at once, so no object it drops stays referenced from the table. A
 * numeric key (a stream id) is found through an index object holding only small integers; any
 * other key (a pending stream, of which a server session has at most one at a time, for the
 * length of a constructor) by a scan. Unlike a Map, `forEach` and the iterators visit the
 * entries present when they start, also those deleted on the way: node:http2 iterates only to
 * close or destroy every stream, which does nothing to a stream already closed.
 */
export class StreamTable<K, V> {
  readonly #keys: K[] = [];
  readonly #values: V[] = [];
  /** Stream id → position in the arrays (small integers only: no reference to keep alive). */
  readonly #positions: Record<number, number> = Object.create(null) as Record<number, number>;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(key: K): boolean {
    return this.#positionOf(key) >= 0;
  }

  get(key: K): V | undefined {
    const position = this.#positionOf(key);
    return position >= 0 ? this.#values[position] : undefined;
  }

  set(key: K, value: V): this {
    const position = this.#positionOf(key);
    if (position >= 0) {
      this.#values[position] = value;
      return this;
    }
    this.#keys[this.#size] = key;
    this.#values[this.#size] = value;
    if (typeof key === "number") this.#positions[key] = this.#size;
    this.#size++;
    return this;
  }

  /** The Set side: node:http2 keeps pending streams as `add(stream)`. */
  add(key: K & V): this {
    return this.set(key, key);
  }

  delete(key: K): boolean {
    const position = this.#positionOf(key);
    if (position < 0) return false;
    const last = this.#size - 1;
    if (typeof key === "number") delete this.#positions[key];
    if (position !== last) {
      const moved = this.#keys[last] as K;
      this.#keys[position] = moved;
      this.#values[position] = this.#values[last] as V;
      if (typeof moved === "number") this.#positions[moved] = position;
    }
    // Cleared, not shortened: the arrays keep their capacity and hold nothing that was dropped.
    this.#keys[last] = undefined as K;
    this.#values[last] = undefined as V;
    this.#size = last;
    return true;
  }

  clear(): void {
    for (let i = this.#size - 1; i >= 0; i--) this.delete(this.#keys[i] as K);
  }

  forEach(callback: (value: V, key: K, table: this) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  entries(): IterableIterator<[K, V]> {
    const entries: [K, V][] = [];
    for (let i = 0; i < this.#size; i++) entries.push([this.#keys[i] as K, this.#values[i] as V]);
    return entries[Symbol.iterator]();
  }

  keys(): IterableIterator<K> {
    return this.#keys.slice(0, this.#size)[Symbol.iterator]();
  }

  values(): IterableIterator<V> {
    return this.#values.slice(0, this.#size)[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  #positionOf(key: K): number {
    if (typeof key === "number") return this.#positions[key] ?? -1;
    for (let i = 0; i < this.#size; i++) if (this.#keys[i] === key) return i;
    return -1;
  }
}

/** The two collections of node:http2's private session state that StreamTable replaces. */
interface SessionStreamState {
  streams: unknown;
  pendingStreams: unknown;
}

function sessionStreamState(session: ServerHttp2Session): SessionStreamState | undefined {
  const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === "state");
  const state: unknown = key === undefined ? undefined : (session as unknown as Record<symbol, unknown>)[key];
  if (typeof state !== "object" || state === null || !("streams" in state) || !("pendingStreams" in state)) return undefined;
  return state as SessionStreamState;
}

/**
 * Gives a new session StreamTables in place of node:http2's stream Map and Set (see
 * StreamTable). Call it from the server's "session" event, before the session has a stream.
 * Returns false, and leaves the session as it is, when its private state is not the shape this
 * was written against (another Node line, or a session that already has streams): the session
 * then works as node:http2 made it, with more garbage collection per stream.
 */
export function adoptStreamTables(session: ServerHttp2Session): boolean {
  const state = sessionStreamState(session);
  if (state === undefined) return false;
  const { streams, pendingStreams } = state;
  // node:http2's own SafeMap and SafeSet: a Map and a Set without Map.prototype in their chain.
  if (!isMap(streams) || !isSet(pendingStreams) || streams.size !== 0 || pendingStreams.size !== 0) return false;
  state.streams = new StreamTable<number, unknown>();
  state.pendingStreams = new StreamTable<unknown, unknown>();
  return true;
}
