import { ROLE_METADATA, WORKLOAD_METADATA } from "../constants.js";
import type { Role } from "../decision/route-decision.js";

/** Call metadata, read like grpc-js's `Metadata.get` (values may be Buffers for -bin keys there). */
export interface CallMetadata {
  get(key: string): readonly unknown[];
}

/**
 * The part of a bidi server call the Process loop uses: what the server's GrpcCall (and
 * grpc-js's `ServerDuplexStream`) offer, so the loop does not depend on the server's call type.
 */
export interface ProcessCall {
  readonly metadata: CallMetadata;
  readonly cancelled: boolean;
  write(message: Buffer): boolean;
  end(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** Who is calling, from the stream's initial metadata (set per listener by Envoy, not by the app). */
export interface CallIdentity {
  /** The calling workload, `service/version`; undefined when the listener sets none. */
  readonly workload: string | undefined;
  readonly role: Role;
}

function firstValue(metadata: CallMetadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" && value.length !== 0 ? value : undefined;
}

/** The workload and role a stream's metadata names; a role other than `edge` is outbound. */
export function callIdentity(metadata: CallMetadata): CallIdentity {
  return { workload: firstValue(metadata, WORKLOAD_METADATA), role: firstValue(metadata, ROLE_METADATA) === "edge" ? "edge" : "outbound" };
}
