import { fromBinary } from "@bufbuild/protobuf";
import { ProcessingRequestSchema } from "../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { readDecodedMessage } from "./reference-reader.js";
import type { IncomingMessage, StreamMessage } from "./stream-message.js";
import { scanRequest } from "./wire-reader.js";

/**
 * Reads what the stream loop needs from a ProcessingRequest; only names in `wanted` (lower-case)
 * and `:authority` are decoded. The common message (request headers, no attributes) is read by
 * the wire reader straight from the bytes: protobuf-es's fromBinary builds an object per header
 * and was the largest single cost of a request (about 7 µs of ~10 µs of detour's own work for a
 * 10-header request, plus the garbage). Anything else goes through fromBinary and the reference
 * reader, so both readers must agree; wire-reader.test.ts checks that they do on generated
 * messages. Throws on malformed bytes, as fromBinary does.
 */
export function readMessage(incoming: IncomingMessage, wanted: ReadonlySet<string>): StreamMessage {
  const bytes = incoming as unknown as Buffer;
  return scanRequest(bytes, wanted) ?? readDecodedMessage(fromBinary(ProcessingRequestSchema, bytes), wanted);
}
