import { ServerInterceptingCall, status as GrpcStatus, type Metadata, type ServerInterceptingCallInterface } from "@grpc/grpc-js";

/** grpc-js's listener type for `start` (not exported by name from the package root). */
type CallListener = Parameters<ServerInterceptingCallInterface["start"]>[0];

/** The handler shape for a bidi method served by BidiCall (process-stream.ts's ProcessCall subset). */
export type BidiHandler = (call: BidiCall) => void;

type Listener = (...args: never[]) => void;

const noop = (): void => undefined;

/**
 * A bidi-streaming call served straight on grpc-js's call layer (`ServerInterceptingCallInterface`:
 * start / startRead / sendMessage / sendStatus) instead of through the object-mode `Duplex` grpc-js
 * wraps around every call. Envoy opens one ext_proc stream per HTTP request, so that per-call
 * `Duplex` (construction, readable buffering, push/emit, writable callbacks) was a large share of
 * the server's CPU per request; grpc-js still does everything on the wire (HTTP/2, framing,
 * metadata, deadlines, compression refusal, status trailers).
 *
 * It has the part of `ServerDuplexStream` the Process handler uses: `metadata`, `cancelled`,
 * `write`, `end`, and the events `data`, `end` (client half-close), `cancelled` and `close` (the
 * call is over, however it ended). Messages are read one at a time, as grpc-js's own stream does.
 */
export class BidiCall {
  readonly metadata: Metadata;
  cancelled = false;
  readonly #call: ServerInterceptingCallInterface;
  #onData: ((message: unknown) => void) | undefined;
  #onEnd: (() => void) | undefined;
  #onCancelled: (() => void) | undefined;
  #onClose: (() => void) | undefined;
  #ended = false;

  constructor(call: ServerInterceptingCallInterface, metadata: Metadata) {
    this.#call = call;
    this.metadata = metadata;
  }

  /** Registers the one listener of `event` the Process handler needs (a second one replaces it). */
  on(event: string, listener: Listener): this {
    const callback = listener as (...args: unknown[]) => void;
    if (event === "data") this.#onData = callback;
    else if (event === "end") this.#onEnd = callback;
    else if (event === "cancelled") this.#onCancelled = callback;
    else if (event === "close") this.#onClose = callback;
    // "finish" and "error" never fire here: the end of a call always comes as "cancelled" + "close".
    return this;
  }

  /** Sends one message; false once the call is over (grpc-js drops writes to a finished call). */
  write(message: Buffer): boolean {
    if (this.#ended || this.cancelled) return false;
    this.#call.sendMessage(message, noop);
    return true;
  }

  /** Ends the call with status OK (trailers after any message already written). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#call.sendStatus({ code: GrpcStatus.OK, details: "OK" });
  }

  /** @internal a received message; the next one is read once this one was handled, so order holds. */
  received(message: unknown): void {
    try {
      this.#onData?.(message);
    } finally {
      this.#call.startRead();
    }
  }

  /** @internal the client half-closed (Envoy's graceful close). */
  halfClosed(): void {
    this.#onEnd?.();
  }

  /**
   * @internal grpc-js reports the end of every call here: a client reset, a lost connection, a
   * deadline, or the status having been sent (its own stream emits "cancelled" for all of them).
   */
  over(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#onCancelled?.();
    this.#onClose?.();
  }
}

/**
 * A grpc-js server interceptor that serves the given bidi methods with BidiCall. The handler
 * grpc-js registered for the path never runs for these calls: this call's `start` does not pass
 * grpc-js's listener on, so no `Duplex` is made.
 */
export function bidiCallInterceptor(handlers: ReadonlyMap<string, BidiHandler>) {
  return (method: { readonly path: string }, call: ServerInterceptingCallInterface): ServerInterceptingCall => {
    const handler = handlers.get(method.path);
    if (handler === undefined) return call as ServerInterceptingCall;
    // grpc-js only uses the interceptor's result through ServerInterceptingCallInterface.
    return new DirectBidiCall(call, handler) as unknown as ServerInterceptingCall;
  };
}

/** The call grpc-js sees for an intercepted method: everything delegates; start runs BidiCall. */
class DirectBidiCall implements ServerInterceptingCallInterface {
  readonly #call: ServerInterceptingCallInterface;
  readonly #handler: BidiHandler;

  constructor(call: ServerInterceptingCallInterface, handler: BidiHandler) {
    this.#call = call;
    this.#handler = handler;
  }

  start(): void {
    const call = this.#call;
    const handler = this.#handler;
    let bidi: BidiCall | undefined;
    const listener: CallListener = {
      onReceiveMetadata(metadata) {
        bidi = new BidiCall(call, metadata);
        try {
          handler(bidi);
        } catch {
          // As grpc-js answers a handler that throws (a later end() finds the call over).
          call.sendStatus({ code: GrpcStatus.UNKNOWN, details: "Unknown error" });
          return;
        }
        call.startRead();
      },
      onReceiveMessage: (message: unknown) => bidi?.received(message),
      onReceiveHalfClose: () => bidi?.halfClosed(),
      onCancel: () => bidi?.over(),
    };
    call.start(listener);
  }
  sendMetadata(metadata: Metadata): void {
    this.#call.sendMetadata(metadata);
  }
  sendMessage(message: unknown, callback: () => void): void {
    this.#call.sendMessage(message, callback);
  }
  sendStatus(status: Parameters<ServerInterceptingCallInterface["sendStatus"]>[0]): void {
    this.#call.sendStatus(status);
  }
  startRead(): void {
    this.#call.startRead();
  }
  getPeer() {
    return this.#call.getPeer();
  }
  getDeadline() {
    return this.#call.getDeadline();
  }
  getHost() {
    return this.#call.getHost();
  }
  getAuthContext() {
    return this.#call.getAuthContext();
  }
  getConnectionInfo() {
    return this.#call.getConnectionInfo();
  }
  getMetricsRecorder() {
    return this.#call.getMetricsRecorder();
  }
}
