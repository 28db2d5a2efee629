import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
  HealthListRequestSchema,
  HealthListResponseSchema,
  type HealthCheckResponse,
} from "../gen/health/v1/health_pb.js";
import { GrpcStatus, type GrpcCall, type GrpcCallError } from "./grpc-call.js";
import type { GrpcMethod, GrpcServer, GrpcServiceDefinition } from "./grpc-server.js";

/** What the server reports for a service name. */
export type HealthStatus = "SERVING" | "NOT_SERVING";

/** As many services as List answers with (grpc.health.v1 asks servers to bound the answer). */
const LIST_LIMIT = 100;

function method<I extends DescMessage, O extends DescMessage>(name: string, input: I, output: O, responseStream: boolean): GrpcMethod {
  return {
    path: `/grpc.health.v1.Health/${name}`,
    requestStream: false,
    responseStream,
    requestDeserialize: (bytes: Buffer) => fromBinary(input, bytes),
    responseSerialize: ((message: MessageShape<O>) => Buffer.from(toBinary(output, message))) as (value: never) => Buffer,
  };
}

const HEALTH_SERVICE: GrpcServiceDefinition = {
  Check: method("Check", HealthCheckRequestSchema, HealthCheckResponseSchema, false),
  Watch: method("Watch", HealthCheckRequestSchema, HealthCheckResponseSchema, true),
  List: method("List", HealthListRequestSchema, HealthListResponseSchema, false),
};

function response(status: ServingStatus): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}

type UnaryCallback = (error: GrpcCallError | null, value?: unknown) => void;

/**
 * gRPC's standard health service (grpc.health.v1.Health: Check, Watch, List) for the ext_proc
 * server, with the semantics of grpc-health-check's HealthImplementation: Check answers NOT_FOUND
 * for a service it has no status for, Watch sends the current status (SERVICE_UNKNOWN for such a
 * service) and then every change until the client cancels, List answers every status (up to 100).
 * The messages are protobuf-es's, generated from grpc-health-check's health.proto, so the server
 * does not load a second protobuf runtime for five fields.
 *
 * @example
 * const health = new HealthService({ "": "NOT_SERVING" });
 * health.addToServer(grpcServer);
 * health.setStatus("", "SERVING");
 */
export class HealthService {
  readonly #statuses = new Map<string, HealthStatus>();
  readonly #watchers = new Map<string, Set<GrpcCall>>();

  constructor(initial: Readonly<Record<string, HealthStatus>> = {}) {
    for (const [service, status] of Object.entries(initial)) this.#statuses.set(service, status);
  }

  /** Sets a service's status ("" = the whole server) and sends it to every Watch of that service. */
  setStatus(service: string, status: HealthStatus): void {
    this.#statuses.set(service, status);
    const message = response(ServingStatus[status]);
    for (const call of this.#watchers.get(service) ?? []) call.write(message);
  }

  /** Open Watch calls of a service. */
  watchCount(service: string): number {
    return this.#watchers.get(service)?.size ?? 0;
  }

  /** Registers Check, Watch and List on a gRPC server. */
  addToServer(server: GrpcServer): void {
    server.addService(HEALTH_SERVICE, {
      Check: (call: GrpcCall, callback: UnaryCallback) => this.#check(call, callback),
      Watch: (call: GrpcCall) => this.#watch(call),
      List: (_call: GrpcCall, callback: UnaryCallback) => this.#list(callback),
    });
  }

  #check(call: GrpcCall, callback: UnaryCallback): void {
    const { service } = call.request as { service: string };
    const status = this.#statuses.get(service);
    if (status === undefined) callback({ code: GrpcStatus.NOT_FOUND, details: `Health status unknown for service ${service}` });
    else callback(null, response(ServingStatus[status]));
  }

  #watch(call: GrpcCall): void {
    const { service } = call.request as { service: string };
    let watchers = this.#watchers.get(service);
    if (watchers === undefined) this.#watchers.set(service, (watchers = new Set()));
    const ownWatchers = watchers;
    ownWatchers.add(call);
    // "cancelled" fires however the call ends (the server's own "close" listener is taken).
    call.on("cancelled", () => {
      ownWatchers.delete(call);
      if (ownWatchers.size === 0 && this.#watchers.get(service) === ownWatchers) this.#watchers.delete(service);
    });
    const status = this.#statuses.get(service);
    call.write(response(status === undefined ? ServingStatus.SERVICE_UNKNOWN : ServingStatus[status]));
  }

  #list(callback: UnaryCallback): void {
    if (this.#statuses.size > LIST_LIMIT) {
      callback({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: "Too many services to list." });
      return;
    }
    const statuses: Record<string, HealthCheckResponse> = {};
    for (const [service, status] of this.#statuses) statuses[service] = response(ServingStatus[status]);
    callback(null, create(HealthListResponseSchema, { statuses }));
  }
}
