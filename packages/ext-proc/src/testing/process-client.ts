/*
 * A gRPC client of Process for tests that speak to the server without Envoy. Test-only: this
 * folder is not compiled into dist.
 */
import { credentials, makeGenericClientConstructor, Metadata, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import { PROCESS_PATH } from "../protobuf/process-method.js";
import { decodeResponseView, type ResponseView } from "./process-messages.js";

const ProcessClientConstructor = makeGenericClientConstructor(
  {
    Process: {
      path: PROCESS_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => decodeResponseView(bytes),
    },
  },
  "ExternalProcessor",
);

/** One Process stream: every response as it arrives, and the final status. */
export type ProcessStream = ClientDuplexStream<Buffer, ResponseView> & {
  readonly responses: ResponseView[];
  readonly ended: Promise<{ code: number; details: string }>;
};

export interface ProcessClient {
  /** Opens a Process stream with the given initial metadata. */
  open(metadata?: Record<string, string>): ProcessStream;
  close(): void;
}

/** A client of the Process method on 127.0.0.1:`port`. */
export function createProcessClient(port: number): ProcessClient {
  const client = new ProcessClientConstructor(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    open(metadata = {}) {
      const md = new Metadata();
      for (const [key, value] of Object.entries(metadata)) md.set(key, value);
      const call = (client as unknown as { Process(md: Metadata): ClientDuplexStream<Buffer, ResponseView> }).Process(md);
      const responses: ResponseView[] = [];
      call.on("data", (view: ResponseView) => responses.push(view));
      const ended = new Promise<{ code: number; details: string }>((resolve) => {
        call.on("status", (s) => resolve({ code: s.code, details: s.details }));
        call.on("error", (error: ServiceError) => resolve({ code: error.code, details: error.details }));
      });
      return Object.assign(call, { responses, ended });
    },
    close: () => client.close(),
  };
}
