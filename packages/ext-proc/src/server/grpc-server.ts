import { createServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { bidiCallInterceptor, type BidiHandler } from "./grpc-js-bidi-call.js";

export interface GrpcServerOptions {
  /** Concurrent streams per connection (Envoy multiplexes every request of a worker on one). */
  readonly maxConcurrentStreams?: number;
}

/**
 * The gRPC server that carries Process and grpc.health.v1: the standard @grpc/grpc-js `Server`,
 * registered with grpc-js `ServiceDefinition`s (grpc-health-check's `addToServer` calls
 * `addService` only). Bidi methods (ext_proc Process)
 * are served by BidiCall on grpc-js's call layer rather than its per-call `Duplex` stream: Envoy
 * opens a stream per HTTP request, so per-call overhead is per-request CPU (bench/README.md).
 *
 * channelz (grpc-js's introspection, which detour does not serve) is off: it counts and
 * timestamps every call and message. With channelz off, grpc-js 1.14's `forceShutdown` no longer
 * finds the open HTTP/2 sessions (it looks them up in its channelz table), so the listening
 * socket is ours (`createConnectionInjector`) and forceShutdown destroys its connections itself.
 */
export class GrpcServer {
  readonly #server: Server;
  readonly #bidi = new Map<string, BidiHandler>();
  readonly #sockets = new Set<Socket>();
  #listener: NetServer | undefined;

  constructor(options: GrpcServerOptions = {}) {
    this.#server = new Server({
      "grpc.max_concurrent_streams": options.maxConcurrentStreams ?? 10_000,
      // Envoy keeps its ext_proc connection open between requests and may ping it while idle.
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.enable_channelz": 0,
      interceptors: [bidiCallInterceptor(this.#bidi)],
    });
  }

  /** Registers every method of a grpc-js ServiceDefinition with its handler by method name. */
  addService(definition: ServiceDefinition, implementation: Record<string, unknown>): void {
    for (const [name, method] of Object.entries(definition)) {
      if (!method.requestStream || !method.responseStream) continue;
      const handler = implementation[name] ?? (method.originalName === undefined ? undefined : implementation[method.originalName]);
      if (typeof handler === "function") this.#bidi.set(method.path, handler as BidiHandler);
    }
    // Still registered with grpc-js: it routes the path (and answers UNIMPLEMENTED for others).
    this.#server.addService(definition, implementation as UntypedServiceImplementation);
  }

  /** Binds `host:port` (port 0 = any free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const injector = this.#server.createConnectionInjector(ServerCredentials.createInsecure());
    const listener = createServer({ noDelay: true }, (socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      injector.injectConnection(socket);
    });
    this.#listener = listener;
    return new Promise((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(port, host, () => {
        listener.off("error", reject);
        resolve((listener.address() as AddressInfo).port);
      });
    });
  }

  /** No new connections; open ones get GOAWAY and may finish their streams for `graceMs`. */
  async shutdown(graceMs: number): Promise<void> {
    this.#listener?.close();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => (timer = setTimeout(() => resolve("expired"), graceMs)));
    // tryShutdown sends GOAWAY and calls back when grpc-js sees its sessions closed. From Node 24
    // on, http2's Server.close() (which tryShutdown calls) already closes them, gracefully, so
    // the callback comes at once while streams are still in flight. A connection closes when its
    // last stream has ended: that is what draining waits for.
    const drained = new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve())).then(() => this.#socketsClosed());
    const result = await Promise.race([drained, expired]);
    clearTimeout(timer);
    if (result === "expired") this.forceShutdown();
  }

  #socketsClosed(): Promise<void> {
    const open = [...this.#sockets].filter((socket) => !socket.destroyed);
    return Promise.all(open.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())))).then(() => undefined);
  }

  /** Cancels every call and closes every connection now. */
  forceShutdown(): void {
    this.#listener?.close();
    this.#server.forceShutdown();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}
