import { Readable } from "node:stream";

/** A stream of messages that can be closed (a client's message stream). */
export interface ClosableSource<T> extends AsyncIterable<T> {
  close(): Promise<void>;
}

/** The merged stream a stream-based detour consumer returns. */
export type PumpedStream<T> = Readable & AsyncIterable<T> & { close(): Promise<void> };

/**
 * Merges several message sources (the subscription, and the inboxes the baseline drains) into one
 * object-mode Readable, passing each message through `handle` first: it resolves the message to
 * hand on, or undefined when it was dealt with (forwarded). Each source is handled in order, one
 * message at a time, so a partition's order survives; pushing waits while the reader is behind.
 */
export class MessagePump<T> {
  readonly stream: PumpedStream<T>;
  readonly #sources = new Set<ClosableSource<T>>();
  #readable: (() => void)[] = [];
  #closed = false;

  constructor() {
    const wake = () => {
      const waiting = this.#readable;
      this.#readable = [];
      for (const resolve of waiting) resolve();
    };
    const readable = new Readable({ objectMode: true, read: wake });
    this.stream = Object.assign(readable, { close: () => this.close() }) as PumpedStream<T>;
  }

  /** Starts handing on `source`'s messages; an error of the source ends the merged stream with it. */
  add<S>(source: ClosableSource<S>, handle: (message: S) => Promise<T | undefined>): void {
    this.#sources.add(source as unknown as ClosableSource<T>);
    void (async () => {
      try {
        for await (const message of source) {
          const out = await handle(message);
          if (out === undefined || this.#closed) continue;
          if (!this.stream.push(out)) await new Promise<void>((resolve) => this.#readable.push(resolve));
        }
      } catch (error) {
        if (!this.#closed && this.#sources.has(source as unknown as ClosableSource<T>)) this.stream.destroy(error as Error);
      } finally {
        this.#sources.delete(source as unknown as ClosableSource<T>);
      }
    })();
  }

  /** Stops and closes one source (a finished drain); the merged stream goes on. */
  async remove(source: ClosableSource<unknown>): Promise<void> {
    this.#sources.delete(source as ClosableSource<T>);
    await source.close();
  }

  /** Closes every source and ends the merged stream. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const sources = [...this.#sources];
    this.#sources.clear();
    await Promise.all(sources.map((source) => source.close().catch(() => undefined)));
    this.stream.push(null);
    for (const resolve of this.#readable) resolve();
    this.#readable = [];
  }
}
