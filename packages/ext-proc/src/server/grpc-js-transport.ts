import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { formatListenAddress } from "./listen-address.js";
import type { GrpcTransport } from "./grpc-transport.js";

export interface GrpcJsTransportOptions {
  /** Concurrent streams per connection (Envoy multiplexes every request of a worker on one). */
  readonly maxConcurrentStreams?: number;
}

/** The default transport: the standard @grpc/grpc-js `Server`. */
export class GrpcJsTransport implements GrpcTransport {
  readonly #server: Server;

  constructor(options: GrpcJsTransportOptions = {}) {
    this.#server = new Server({
      "grpc.max_concurrent_streams": options.maxConcurrentStreams ?? 10_000,
      // Envoy keeps its ext_proc connection open between requests and may ping it while idle.
      "grpc.keepalive_permit_without_calls": 1,
    });
  }

  addService(definition: ServiceDefinition, implementation: Record<string, unknown>): void {
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
