import type { IncomingMessage } from "./stream-message.js";

/** The gRPC service Envoy calls (envoy/service/ext_proc/v3/external_processor.proto). */
export const EXT_PROC_SERVICE_NAME = "envoy.service.ext_proc.v3.ExternalProcessor";

/** The gRPC path of its one method, Process. */
export const PROCESS_PATH = `/${EXT_PROC_SERVICE_NAME}/Process`;

/** Takes a message off the wire (runs in the gRPC server for every received message). */
function decodeRequest(bytes: Buffer): IncomingMessage {
  return bytes as unknown as IncomingMessage;
}

const passBuffer = (bytes: Buffer): Buffer => bytes;

/**
 * Server side of the Process method, shaped as a gRPC method definition (grpc-js's
 * `MethodDefinition`): requests are kept as bytes and read lazily by readMessage, responses are
 * already encoded by the response encoder.
 */
export const processMethod = {
  path: PROCESS_PATH,
  requestStream: true,
  responseStream: true,
  originalName: "process",
  requestSerialize: passBuffer,
  requestDeserialize: decodeRequest,
  responseSerialize: passBuffer,
  responseDeserialize: passBuffer,
} as const;
