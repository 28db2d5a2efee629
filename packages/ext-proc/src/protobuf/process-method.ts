import type { MethodDefinition } from "@grpc/grpc-js";
import type { IncomingMessage } from "./stream-message.js";

/** The gRPC service Envoy calls (envoy/service/ext_proc/v3/external_processor.proto). */
export const EXT_PROC_SERVICE_NAME = "envoy.service.ext_proc.v3.ExternalProcessor";

/** The gRPC path of its one method, Process. */
export const PROCESS_PATH = `/${EXT_PROC_SERVICE_NAME}/Process`;

/** Takes a message off the wire (runs inside grpc-js for every received message). */
function decodeRequest(bytes: Buffer): IncomingMessage {
  return bytes as unknown as IncomingMessage;
}

const passBuffer = (bytes: Buffer): Buffer => bytes;

/**
 * Server side of the Process method: requests are kept as bytes and read lazily by readMessage,
 * responses are already encoded by the response encoder.
 */
export const processMethod: MethodDefinition<unknown, unknown> = {
  path: PROCESS_PATH,
  requestStream: true,
  responseStream: true,
  originalName: "process",
  requestSerialize: passBuffer as (value: unknown) => Buffer,
  requestDeserialize: decodeRequest,
  responseSerialize: passBuffer as (value: unknown) => Buffer,
  responseDeserialize: passBuffer,
};
