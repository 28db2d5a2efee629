import type { ServiceDefinition } from "@grpc/grpc-js";

/** Which gRPC server carries the ext_proc and health services (`server.transport`). */
export type GrpcTransportKind = "grpc-js" | "node-http2";

/**
 * The gRPC server detour needs, whichever carries it: register grpc-js `ServiceDefinition`s
 * (grpc-health-check's `HealthImplementation.addToServer` calls `addService` only), bind, stop.
 */
export interface GrpcTransport {
  /** Registers every method of a grpc-js ServiceDefinition with its handler by method name. */
  addService(definition: ServiceDefinition, implementation: Record<string, unknown>): void;
  /** Binds `host:port` (port 0 = any free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting calls; in-flight calls get `graceMs`, then every remaining one is cancelled. */
  shutdown(graceMs: number): Promise<void>;
  /** Cancels every call and closes every connection now. */
  forceShutdown(): void;
}
