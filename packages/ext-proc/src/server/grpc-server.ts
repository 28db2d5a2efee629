import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { DetourError } from "@detour/core";
import { GrpcCall, GrpcStatus, grpcMessage, respondOptions, type GrpcCallError } from "./grpc-call.js";
import { adoptStreamTables } from "./session-stream-table.js";

/** What the server needs of a method: grpc-js's `MethodDefinition` and @grpc/proto-loader's have this shape. */
export interface GrpcMethod {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly originalName?: string;
  readonly requestDeserialize: (bytes: Buffer) => unknown;
  readonly responseSerialize: (value: never) => Buffer;
}

export type GrpcServiceDefinition = Readonly<Record<string, GrpcMethod>>;

type UnaryHandler = (call: GrpcCall, callback: (error: GrpcCallError | null, value?: unknown) => void) => void;
type StreamHandler = (call: GrpcCall) => void;

interface Route {
  readonly kind: "unary" | "server-stream" | "bidi";
  readonly serialize: (value: unknown) => Buffer;
  readonly handler: UnaryHandler | StreamHandler;
  /** Takes one received message: to the handler (bidi) or as the call's request. */
  readonly deliver: (call: GrpcCall, bytes: Buffer) => void;
}

export interface GrpcServerOptions {
  /** Concurrent streams per connection (Envoy multiplexes every request of a worker on one). */
  readonly maxConcurrentStreams?: number;
}

/**
 * Outstanding data per connection, in MB. Node's default (10) answers a burst of thousands of
 * concurrent streams on Envoy's one connection with ENHANCE_YOUR_CALM; ext_proc messages are a
 * few KiB, so 64 is ample and still bounds what one peer can make the server hold.
 */
const MAX_SESSION_MEMORY_MB = 64;

/** What a request message that does not parse deserializes to (its call has been ended). */
const NOT_DESERIALIZED = Symbol("not deserialized");
const CALL = Symbol("grpc call");
const ROUTE = Symbol("grpc route");
type CallStream = ServerHttp2Stream & { [CALL]: GrpcCall | undefined; [ROUTE]: Route };

// Stream listeners are shared functions (`this` is the stream) rather than closures per stream:
// Envoy opens a stream per HTTP request.
function onData(this: CallStream, chunk: Buffer): void {
  this[CALL]?.received(chunk, this[ROUTE].deliver);
}
function onBidiEnd(this: CallStream): void {
  this[CALL]?.halfClosed();
}
function onWantTrailers(this: CallStream): void {
  this[CALL]?.sendTrailers();
}
/**
 * The call lets go of the stream when it closes: should anything keep a closed stream reachable
 * until a full collection (as node:http2's own stream Map does, see session-stream-table.ts), the
 * call's objects are not kept with it.
 */
function onClose(this: CallStream): void {
  const call = this[CALL];
  this[CALL] = undefined;
  call?.closed();
}
function ignore(): void {
  // Stream and session errors end in a close event, which is where a call learns it is over.
}

function trailersOnly(stream: ServerHttp2Stream, code: number, details: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": grpcMessage(details) }, respondOptions({ endStream: true }));
}

/**
 * detour's gRPC server, on node:http2: ext_proc Process (bidi) and grpc.health.v1 (unary and
 * server-streaming, server/health-service.ts). Envoy opens one Process stream per HTTP request,
 * so what a stream costs is what a request costs: grpc-js's Server spent more CPU per stream than
 * node:http2 and detour's own work together (bench/server-cpu.mjs; numbers in bench/README.md),
 * which is why this server exists.
 *
 * What it implements of gRPC over HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md): POST with an
 * `application/grpc` content type (415 otherwise), length-prefixed messages of up to
 * MAX_MESSAGE_BYTES (compressed ones are refused with UNIMPLEMENTED, and the server announces
 * `grpc-accept-encoding: identity`), status in trailers or trailers-only, UNIMPLEMENTED for
 * unknown methods, a client reset seen as cancellation, graceful GOAWAY on shutdown. A
 * `grpc-timeout` is not enforced: every method answers at once or (Watch) until cancelled, and
 * the client enforces its own deadline.
 */
export class GrpcServer {
  readonly #server: Http2Server;
  readonly #routes = new Map<string, Route>();
  readonly #sessions = new Set<ServerHttp2Session>();
  /** Open server-streaming calls (health Watch): they end only when cancelled, so shutdown ends them. */
  readonly #watches = new Set<GrpcCall>();
  #closing = false;

  constructor(options: GrpcServerOptions = {}) {
    this.#server = createServer({
      settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 10_000 },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    // Answers are small writes: Nagle would hold each behind the previous one's ACK.
    this.#server.on("connection", (socket: Socket) => socket.setNoDelay(true));
    this.#server.on("session", (session: ServerHttp2Session) => {
      if (this.#closing) {
        session.close();
        return;
      }
      // Before its first stream: keeps closed streams' objects out of the old generation.
      adoptStreamTables(session);
      this.#sessions.add(session);
      session.on("close", () => this.#sessions.delete(session));
      session.on("error", ignore);
    });
    this.#server.on("sessionError", ignore);
    // Not HTTP/2 (a curl or an HTTP/1 health probe on the gRPC port): drop the connection.
    this.#server.on("unknownProtocol", (socket) => socket.destroy());
    this.#server.on("stream", (stream, headers) => this.#onStream(stream, headers));
  }

  /** Registers every method of a service definition, each handler looked up by name, then by originalName (as grpc-js does). */
  addService(definition: GrpcServiceDefinition, implementation: Readonly<Record<string, unknown>>): void {
    for (const [name, method] of Object.entries(definition)) {
      const handler = implementation[name] ?? (method.originalName === undefined ? undefined : implementation[method.originalName]);
      if (typeof handler !== "function") continue;
      if (method.requestStream && !method.responseStream) {
        throw new DetourError("grpc-unsupported", `${method.path}: client-streaming methods are not supported by detour's gRPC server`);
      }
      const deserialize = (call: GrpcCall, bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          // A message that does not parse ends its call, never the server (grpc-js answers the same way).
          call.end(GrpcStatus.INTERNAL, `could not deserialize the request message: ${(error as Error).message}`);
          return NOT_DESERIALIZED;
        }
      };
      const kind = method.requestStream ? "bidi" : method.responseStream ? "server-stream" : "unary";
      this.#routes.set(method.path, {
        kind,
        serialize: method.responseSerialize as (value: unknown) => Buffer,
        handler: handler as UnaryHandler | StreamHandler,
        deliver:
          kind === "bidi"
            ? (call, bytes) => {
                const message = deserialize(call, bytes);
                if (message !== NOT_DESERIALIZED) call.message(message);
              }
            : (call, bytes) => {
                if (call.request !== undefined) call.end(GrpcStatus.UNIMPLEMENTED, `${method.path} takes exactly one request message`);
                else {
                  const message = deserialize(call, bytes);
                  if (message !== NOT_DESERIALIZED) call.request = message;
                }
              },
      });
    }
  }

  /** Binds `host:port` (port 0 = any free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Graceful stop: no new connections, GOAWAY on the open ones (their in-flight streams may
   * finish), health watches ended; after `graceMs` every remaining stream is reset.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const call of this.#watches) call.end();
    // A session is drained when it emits "close", after its last stream. Not `session.closed`:
    // from Node 24 on, Server.close() closes every session gracefully and that flag turns true
    // at once, while streams are still in flight.
    const drained = Promise.all([...this.#sessions].map((session) => new Promise<void>((resolve) => {
      if (session.destroyed) return resolve();
      session.once("close", () => resolve());
      if (!session.closed) session.close();
    })));
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
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
    stream.on("error", ignore);
    const path = headers[":path"];
    const route = typeof path === "string" ? this.#routes.get(path) : undefined;
    if (route === undefined) {
      trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${String(path)}`);
      return;
    }
    const contentType = headers["content-type"];
    if (headers[":method"] !== "POST" || typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      stream.respond({ ":status": 415 }, { endStream: true });
      return;
    }
    const call = new GrpcCall(stream, headers, route.serialize);
    const callStream = stream as CallStream;
    callStream[CALL] = call;
    callStream[ROUTE] = route;
    stream.on("data", onData);
    stream.on("wantTrailers", onWantTrailers);
    stream.on("close", onClose);
    if (route.kind === "bidi") {
      stream.on("end", onBidiEnd);
      this.#invoke(call, route.handler as StreamHandler);
      return;
    }
    stream.on("end", () => this.#runSingleRequest(call, route));
  }

  #runSingleRequest(call: GrpcCall, route: Route): void {
    if (call.cancelled) return;
    if (call.request === undefined) {
      call.end(GrpcStatus.UNIMPLEMENTED, "expected exactly one request message");
      return;
    }
    if (route.kind === "server-stream") {
      this.#watches.add(call);
      call.on("close", () => this.#watches.delete(call));
      this.#invoke(call, route.handler as StreamHandler);
      return;
    }
    try {
      (route.handler as UnaryHandler)(call, (error, value) => {
        if (error) {
          call.fail(error);
          return;
        }
        call.write(value);
        call.end();
      });
    } catch (error) {
      call.end(GrpcStatus.UNKNOWN, (error as Error).message);
    }
  }

  #invoke(call: GrpcCall, handler: StreamHandler): void {
    try {
      handler(call);
    } catch (error) {
      call.end(GrpcStatus.UNKNOWN, (error as Error).message);
    }
  }
}
