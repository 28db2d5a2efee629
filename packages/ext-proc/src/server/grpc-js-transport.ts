import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { bidiCallInterceptor, type BidiHandler } from "./grpc-js-bidi-call.js";
import { formatListenAddress } from "./listen-address.js";
import type { GrpcTransport } from "./grpc-transport.js";

export interface GrpcJsTransportOptions {
  /** Concurrent streams per connection (Envoy multiplexes every request of a worker on one). */
  readonly maxConcurrentStreams?: number;
}

/**
 * The default transport: the standard @grpc/grpc-js `Server`. Bidi methods (ext_proc Process)
 * are served by BidiCall on grpc-js's call layer rather than its per-call `Duplex` stream: Envoy
 * opens a stream per HTTP request, so per-call overhead is per-request CPU (bench/README.md).
 */
export class GrpcJsTransport implements GrpcTransport {
  readonly #server: Server;
  readonly #bidi = new Map<string, BidiHandler>();

  constructor(options: GrpcJsTransportOptions = {}) {
    this.#server = new Server({
      "grpc.max_concurrent_streams": options.maxConcurrentStreams ?? 10_000,
      // Envoy keeps its ext_proc connection open between requests and may ping it while idle.
      "grpc.keepalive_permit_without_calls": 1,
      interceptors: [bidiCallInterceptor(this.#bidi)],
    });
  }

  addService(definition: ServiceDefinition, implementation: Record<string, unknown>): void {
    for (const [name, method] of Object.entries(definition)) {
      if (!method.requestStream || !method.responseStream) continue;
      const handler = implementation[name] ?? (method.originalName === undefined ? undefined : implementation[method.originalName]);
      if (typeof handler === "function") this.#bidi.set(method.path, handler as BidiHandler);
    }
    // Still registered with grpc-js: it routes the path (and answers UNIMPLEMENTED for others).
    this.#server.addService(definition, implementation as UntypedServiceImplementation);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(formatListenAddress(host, port), ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
  }

  async shutdown(graceMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  forceShutdown(): void {
    this.#server.forceShutdown();
  }
}
