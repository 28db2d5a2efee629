import { EventEmitter } from "node:events";
import { createServer, constants as http2, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { DetourError } from "@detour/core";
import type { ServiceDefinition } from "@grpc/grpc-js";
import type { GrpcTransport } from "./grpc-transport.js";

/**
 * gRPC status codes used here (grpc/grpc doc/statuscodes.md). Local, so this transport needs
 * grpc-js for its types only.
 */
const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INTERNAL: 13,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
} as const;

/*
 * A small gRPC server on node:http2 for the few methods detour serves (ext_proc Process and
 * grpc.health.v1), the opt-in `server.transport: node-http2`; the default is grpc-js's Server
 * (grpc-js-transport.ts), the standard, complete implementation. Why offer this one: Envoy opens
 * one stream per HTTP request, and grpc-js's per-call machinery (call objects, metadata objects,
 * deadlines, async message decoding) costs more CPU per stream than everything detour itself does
 * for the request. Even with the grpc-js transport serving Process on grpc-js's call layer with
 * channelz off (grpc-js-bidi-call.ts), this one used about 20% less server CPU per ext_proc stream
 * in the same bench run (~95 vs ~117 µs on a quiet machine). Services are still
 * described by grpc-js `ServiceDefinition`s (hand-written for Process, generated for health),
 * registered with the same `addService(definition, implementation)` shape, so
 * grpc-health-check's HealthImplementation plugs in unchanged.
 *
 * What it implements of gRPC over HTTP/2 (grpc/grpc PROTOCOL-HTTP2.md): length-prefixed
 * messages (compression refused), unary, server-streaming and bidi-streaming calls, status in
 * trailers, CANCELLED on a client reset, UNIMPLEMENTED for unknown paths, graceful GOAWAY drain.
 */

/** Largest message accepted; ext_proc request headers are a few KiB (Envoy caps headers at 60 KiB by default). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Minimal view of call metadata, shaped like grpc-js `Metadata.get` so handlers need not care. */
export interface CallMetadata {
  get(key: string): string[];
}

export interface ServerCallError {
  code?: number;
  details?: string;
  message?: string;
}

/**
 * One server call, shaped like the subset of grpc-js's `ServerDuplexStream` handlers use:
 * events `data`, `end`, `cancelled`, `close`, `error`; `write`, `end`, `cancelled`, `metadata`,
 * `request` (unary / server-streaming).
 */
export class GrpcServerCall extends EventEmitter {
  /** True once the client reset the stream or the server cancelled it. */
  cancelled = false;
  /** The request message of a unary or server-streaming call. */
  request: unknown;
  readonly metadata: CallMetadata;
  #stream: ServerHttp2Stream;
  #serialize: (value: unknown) => Buffer;
  #ended = false;
  #status: { code: number; details: string } = { code: GrpcStatus.OK, details: "OK" };

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, serialize: (value: unknown) => Buffer) {
    super();
    this.#stream = stream;
    this.#serialize = serialize;
    this.metadata = {
      get(key) {
        const value = headers[key];
        return value === undefined ? [] : Array.isArray(value) ? value : [value];
      },
    };
  }

  /** Sends one message. False (and nothing sent) once the call is over. */
  write(message: unknown): boolean {
    if (this.#ended || this.cancelled || this.#stream.destroyed) return false;
    const payload = this.#serialize(message);
    const framed = Buffer.allocUnsafe(5 + payload.length);
    framed[0] = 0;
    framed.writeUInt32BE(payload.length, 1);
    payload.copy(framed, 5);
    return this.#stream.write(framed);
  }

  /** Ends the call with OK (or the given status) in the trailers. */
  end(code: number = GrpcStatus.OK, details = "OK"): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.cancelled || this.#stream.destroyed || this.#stream.closed) return;
    this.#status = { code, details };
    this.#stream.end();
  }

  /** Ends the call with an error status. */
  fail(error: ServerCallError): void {
    this.end(error.code ?? GrpcStatus.UNKNOWN, error.details ?? error.message ?? "error");
  }

  /** Resets the stream (CANCEL); the client sees CANCELLED. */
  cancel(): void {
    if (this.#stream.destroyed) return;
    this.markCancelled();
    this.#stream.close(http2.NGHTTP2_CANCEL);
  }

  /** @internal the trailers to send when the stream asks for them. */
  trailers(): Record<string, string> {
    const { code, details } = this.#status;
    return code === GrpcStatus.OK ? { "grpc-status": "0" } : { "grpc-status": String(code), "grpc-message": encodeURIComponent(details) };
  }

  /** @internal */
  markCancelled(): void {
    if (this.cancelled || this.#ended) {
      this.cancelled = true;
      return;
    }
    this.cancelled = true;
    this.emit("cancelled");
  }
}

type Handler = (call: GrpcServerCall, callback?: (error: ServerCallError | null, value?: unknown) => void) => void;

interface Route {
  readonly kind: "unary" | "server-stream" | "bidi";
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  readonly handler: Handler;
}

function trailersOnly(stream: ServerHttp2Stream, code: number, details: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": encodeURIComponent(details) }, { endStream: true });
}

export interface GrpcHttp2ServerOptions {
  /** Concurrent streams per connection (Envoy multiplexes every request of a worker on one). */
  readonly maxConcurrentStreams?: number;
}

/** The gRPC server of detour: addService, listen, graceful shutdown. */
export class GrpcHttp2Server implements GrpcTransport {
  readonly #routes = new Map<string, Route>();
  readonly #sessions = new Set<ServerHttp2Session>();
  /** Open server-streaming calls (health Watch): they never end by themselves, so shutdown ends them. */
  readonly #watches = new Set<GrpcServerCall>();
  readonly #server: Http2Server;
  #closing = false;

  constructor(options: GrpcHttp2ServerOptions = {}) {
    this.#server = createServer({
      settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 10_000 },
      // MB of outstanding data per connection. Node's default (10) answers a burst of thousands of
      // concurrent streams on Envoy's one connection with ENHANCE_YOUR_CALM; 64 is ample for
      // ext_proc's few-KiB messages and still bounds what one peer can make us hold.
      maxSessionMemory: 64,
    });
    this.#server.on("session", (session) => {
      if (this.#closing) {
        session.close();
        return;
      }
      this.#sessions.add(session);
      session.on("close", () => this.#sessions.delete(session));
      session.on("error", () => undefined);
    });
    this.#server.on("sessionError", () => undefined);
    // Not HTTP/2 (a curl or an HTTP/1 health probe on the gRPC port): drop the connection.
    this.#server.on("unknownProtocol", (socket) => socket.destroy());
    this.#server.on("stream", (stream, headers) => this.#onStream(stream, headers));
  }

  /** Registers every method of a grpc-js ServiceDefinition; handlers looked up like grpc-js does (name, then originalName). */
  addService(definition: ServiceDefinition, implementation: Record<string, unknown>): void {
    for (const [name, method] of Object.entries(definition)) {
      const handler = (implementation[name] ?? (method.originalName === undefined ? undefined : implementation[method.originalName])) as Handler | undefined;
      if (handler === undefined) continue;
      if (method.requestStream && !method.responseStream) {
        throw new DetourError("grpc-unsupported", `${method.path}: client-streaming methods are not supported by detour's gRPC server`);
      }
      this.#routes.set(method.path, {
        kind: method.requestStream ? "bidi" : method.responseStream ? "server-stream" : "unary",
        deserialize: method.requestDeserialize as (bytes: Buffer) => unknown,
        serialize: method.responseSerialize as (value: unknown) => Buffer,
        handler,
      });
    }
  }

  /** Binds `host:port` (port 0 = any free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once("error", onError);
      this.#server.listen(port, host, () => {
        this.#server.off("error", onError);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Graceful stop: no new connections, GOAWAY on the open ones (their in-flight streams may
   * finish), and after `graceMs` every remaining stream is reset.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const call of this.#watches) call.end();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // A session is drained when it is destroyed ('close'), after its last stream. `closed` only
    // says close() was called, which Server.close() itself does from Node 24 on.
    const drained = Promise.all(
      [...this.#sessions].map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.destroyed) return resolve();
            session.once("close", () => resolve());
            if (!session.closed) session.close();
          }),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => (timer = setTimeout(() => resolve("expired"), graceMs)));
    const result = await Promise.race([drained, expired]);
    clearTimeout(timer);
    if (result === "expired") this.forceShutdown();
    await closed;
  }

  /** Resets every stream and closes every connection now. */
  forceShutdown(): void {
    this.#closing = true;
    for (const session of this.#sessions) session.destroy();
    this.#sessions.clear();
    this.#server.close();
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", () => undefined);
    const route = this.#routes.get(String(headers[":path"]));
    if (route === undefined) {
      trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${String(headers[":path"])}`);
      return;
    }
    const contentType = headers["content-type"];
    if (headers[":method"] !== "POST" || typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      if (!stream.headersSent) stream.respond({ ":status": 415 }, { endStream: true });
      return;
    }
    const call = new GrpcServerCall(stream, headers, route.serialize);
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers(call.trailers()));
    // A reset from the client (Envoy's usual way to end an ext_proc stream) or a lost connection.
    stream.on("aborted", () => call.markCancelled());
    stream.on("close", () => {
      if (stream.rstCode !== http2.NGHTTP2_NO_ERROR) call.markCancelled();
      call.emit("close");
    });

    let pending: Buffer | undefined;
    let requests = 0;
    stream.on("data", (chunk: Buffer) => {
      let buffer = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      pending = undefined;
      while (buffer.length >= 5) {
        const length = buffer.readUInt32BE(1);
        if (buffer[0] !== 0) {
          call.end(GrpcStatus.INTERNAL, "compressed messages are not supported: disable gRPC compression");
          return;
        }
        if (length > MAX_MESSAGE_BYTES) {
          call.end(GrpcStatus.RESOURCE_EXHAUSTED, `message of ${length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
          return;
        }
        if (buffer.length < 5 + length) break;
        const bytes = buffer.subarray(5, 5 + length);
        buffer = buffer.subarray(5 + length);
        let message: unknown;
        try {
          message = route.deserialize(bytes);
        } catch (error) {
          call.end(GrpcStatus.INTERNAL, `cannot decode the request: ${(error as Error).message}`);
          return;
        }
        requests++;
        if (route.kind === "bidi") call.emit("data", message);
        else if (requests === 1) call.request = message;
      }
      if (buffer.length !== 0) pending = buffer;
    });
    stream.on("end", () => {
      if (route.kind === "bidi") {
        call.emit("end");
        return;
      }
      if (requests !== 1) {
        call.end(GrpcStatus.INTERNAL, `expected exactly one request message, got ${requests}`);
        return;
      }
      this.#runSingleRequest(route, call);
    });
    if (route.kind === "bidi") this.#invoke(route, call);
  }

  #runSingleRequest(route: Route, call: GrpcServerCall): void {
    if (route.kind === "server-stream") {
      this.#watches.add(call);
      call.once("close", () => this.#watches.delete(call));
      this.#invoke(route, call);
      return;
    }
    try {
      route.handler(call, (error, value) => {
        if (error) {
          call.fail(error);
          return;
        }
        call.write(value);
        call.end();
      });
    } catch (error) {
      call.end(GrpcStatus.INTERNAL, (error as Error).message);
    }
  }

  #invoke(route: Route, call: GrpcServerCall): void {
    try {
      route.handler(call);
    } catch (error) {
      call.end(GrpcStatus.INTERNAL, (error as Error).message);
    }
  }
}
