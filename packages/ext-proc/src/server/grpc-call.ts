import type { IncomingHttpHeaders, ServerHttp2Stream, ServerStreamResponseOptions } from "node:http2";

/** gRPC status codes the server sends (grpc/grpc doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  NOT_FOUND: 5,
  INTERNAL: 13,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
} as const;

/**
 * Largest request message accepted, as grpc-js's default receive limit. ext_proc request headers
 * are a few KiB (Envoy caps a request's headers at 60 KiB by default).
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Response headers of every call. */
const RESPONSE_HEADERS = Object.freeze({ ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": "identity" });

/**
 * `sendDate: false` leaves out the `date` header nobody reads, which Node would add to every
 * response. Node 20-24 honour it in `respond` (their HTTP/2 compatibility API's
 * `response.sendDate` is built on it); @types/node does not list it.
 */
export function respondOptions(options: ServerStreamResponseOptions): ServerStreamResponseOptions {
  return { ...options, sendDate: false } as ServerStreamResponseOptions;
}

const RESPOND_OPTIONS = Object.freeze(respondOptions({ waitForTrailers: true }));
const TRAILERS_ONLY_OPTIONS = Object.freeze(respondOptions({ endStream: true }));
const OK_TRAILERS = Object.freeze({ "grpc-status": "0" });

/** An error a handler reports (the shape of grpc-js's `ServiceError`). */
export interface GrpcCallError {
  code?: number;
  details?: string;
  message?: string;
}

/** Call metadata: the request's HTTP/2 headers, read like grpc-js's `Metadata.get`. */
export class HeaderMetadata {
  readonly #headers: IncomingHttpHeaders;

  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers;
  }

  get(key: string): string[] {
    const value = this.#headers[key];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
}

/**
 * A status message as `grpc-message` carries it: percent-encoded UTF-8, where only `%` and bytes
 * outside printable ASCII are escaped (grpc/grpc doc/PROTOCOL-HTTP2.md).
 */
export function grpcMessage(text: string): string {
  let encoded = "";
  for (const byte of Buffer.from(text, "utf8")) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

type Listener = (...args: never[]) => void;

/**
 * One gRPC call on one HTTP/2 stream, with the part of grpc-js's server call surface detour's
 * handlers use: `metadata`, `request` (unary and server-streaming), `cancelled`, `write`, `end`,
 * and one listener each for `data` (a message), `end` (the client half-closed), `cancelled` and
 * `close` (the call is over, however it ended; `cancelled` fires first). Envoy opens one ext_proc
 * stream per HTTP request, so a call is deliberately small: no EventEmitter, no per-call closures,
 * framing done in place, the response headers sent with the first message.
 */
export class GrpcCall {
  readonly metadata: HeaderMetadata;
  /** True once the call is over: the client reset it, the connection went, or the status was sent and the stream closed. */
  cancelled = false;
  /** The request message of a unary or server-streaming call. */
  request: unknown;
  readonly #stream: ServerHttp2Stream;
  readonly #serialize: (value: unknown) => Buffer;
  #onData: Listener | undefined;
  #onEnd: Listener | undefined;
  #onCancelled: Listener | undefined;
  #onClose: Listener | undefined;
  #responded = false;
  #ended = false;
  #trailers: Readonly<Record<string, string>> = OK_TRAILERS;
  /** Bytes of a message that continues in the next DATA chunk. */
  #pending: Buffer | undefined;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, serialize: (value: unknown) => Buffer) {
    this.#stream = stream;
    this.metadata = new HeaderMetadata(headers);
    this.#serialize = serialize;
  }

  /** Registers the one listener of `event` (a second one replaces it); other events never fire. */
  on(event: string, listener: Listener): this {
    if (event === "data") this.#onData = listener;
    else if (event === "end") this.#onEnd = listener;
    else if (event === "cancelled") this.#onCancelled = listener;
    else if (event === "close") this.#onClose = listener;
    return this;
  }

  /** Sends one message; false (nothing sent) once the call has ended or is over. */
  write(value: unknown): boolean {
    if (this.#ended || this.cancelled) return false;
    const payload = this.#serialize(value);
    const framed = Buffer.allocUnsafe(5 + payload.length);
    framed[0] = 0;
    framed.writeUInt32BE(payload.length, 1);
    payload.copy(framed, 5);
    this.#respond();
    this.#stream.write(framed);
    return true;
  }

  /** Ends the call with `code` (OK by default): the trailers follow any message already written. */
  end(code: number = GrpcStatus.OK, details = ""): void {
    if (this.#ended) return;
    this.#ended = true;
    const stream = this.#stream;
    if (this.cancelled || stream.destroyed || stream.closed) return;
    const trailers = code === GrpcStatus.OK ? OK_TRAILERS : { "grpc-status": String(code), "grpc-message": grpcMessage(details) };
    if (!this.#responded) {
      // Trailers-only: the status travels in the one HEADERS frame.
      this.#responded = true;
      stream.respond({ ...RESPONSE_HEADERS, ...trailers }, TRAILERS_ONLY_OPTIONS);
      return;
    }
    this.#trailers = trailers;
    stream.end();
  }

  /** Ends the call with a handler's error status. */
  fail(error: GrpcCallError): void {
    this.end(error.code ?? GrpcStatus.UNKNOWN, error.details ?? error.message ?? "error");
  }

  #respond(): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#stream.respond(RESPONSE_HEADERS, RESPOND_OPTIONS);
  }

  /**
   * @internal a DATA chunk: every complete length-prefixed message in it goes to `deliver`, in
   * order; a partial one waits for the next chunk. A compressed or oversized message ends the call.
   */
  received(chunk: Buffer, deliver: (call: GrpcCall, message: Buffer) => void): void {
    let buffer = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = undefined;
    let offset = 0;
    while (buffer.length - offset >= 5 && !this.#ended) {
      const length = buffer.readUInt32BE(offset + 1);
      if (buffer[offset] !== 0) {
        this.end(GrpcStatus.UNIMPLEMENTED, "compressed messages are not supported: the server accepts grpc-encoding identity only");
        return;
      }
      if (length > MAX_MESSAGE_BYTES) {
        this.end(GrpcStatus.RESOURCE_EXHAUSTED, `message of ${length} bytes exceeds the limit of ${MAX_MESSAGE_BYTES}`);
        return;
      }
      if (buffer.length - offset - 5 < length) break;
      const message = buffer.subarray(offset + 5, offset + 5 + length);
      offset += 5 + length;
      deliver(this, message);
    }
    if (offset < buffer.length && !this.#ended) {
      buffer = buffer.subarray(offset);
      this.#pending = buffer;
    }
  }

  /** @internal a message of a bidi call goes to the handler's `data` listener. */
  message(message: unknown): void {
    try {
      (this.#onData as ((message: unknown) => void) | undefined)?.(message);
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  /** @internal the client half-closed. */
  halfClosed(): void {
    try {
      this.#onEnd?.();
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  /** A listener that throws ends its call with UNKNOWN; it never reaches the stream's emitter (and the process). */
  #handlerThrew(error: unknown): void {
    this.end(GrpcStatus.UNKNOWN, error instanceof Error ? error.message : String(error));
  }

  /** @internal the stream asks for its trailers (after the last DATA frame). */
  sendTrailers(): void {
    this.#stream.sendTrailers(this.#trailers);
  }

  /** @internal the stream closed: whatever the reason, the call is over now. */
  closed(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#pending = undefined;
    const onCancelled = this.#onCancelled;
    const onClose = this.#onClose;
    // The handler's listeners (and what they hold) are not needed past this point.
    this.#onData = this.#onEnd = this.#onCancelled = this.#onClose = undefined;
    onCancelled?.();
    onClose?.();
  }
}
