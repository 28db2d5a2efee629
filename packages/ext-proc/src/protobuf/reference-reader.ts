import type { ProcessingRequest } from "../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { AUTHORITY_HEADER, EXT_PROC_ATTRIBUTES_KEY, SOURCE_ADDRESS_ATTRIBUTE } from "../constants.js";
import type { HeaderPair } from "../header-pair.js";
import { textOfBytes } from "./header-bytes.js";
import { NO_HEADERS, PHASE_BY_CASE, type StreamMessage } from "./stream-message.js";

/**
 * The StreamMessage of a ProcessingRequest decoded by protobuf-es's fromBinary: the reference
 * the wire reader is tested against, and the reader of every message the wire reader leaves
 * alone (request attributes, a repeated oneof, groups). Envoy sends header values in
 * `raw_value` only (envoyproxy/envoy#35388); `value` is read as a fallback for other clients.
 * Only names in `wanted` (lower-case) are kept.
 */
export function readDecodedMessage(message: ProcessingRequest, wanted: ReadonlySet<string>): StreamMessage {
  const phase = message.request.case === undefined ? "unknown" : (PHASE_BY_CASE[message.request.case] ?? "unknown");
  if (message.request.case !== "requestHeaders") {
    return { phase, observability: message.observabilityMode, authority: undefined, headers: NO_HEADERS };
  }
  let authority: string | undefined;
  let headers: HeaderPair[] = NO_HEADERS;
  for (const header of message.request.value.headers?.headers ?? []) {
    const key = header.key;
    if (key === AUTHORITY_HEADER) {
      authority = header.rawValue.length !== 0 ? textOfBytes(header.rawValue) : header.value;
    } else if (wanted.has(key)) {
      const value = header.rawValue.length !== 0 ? textOfBytes(header.rawValue) : header.value;
      if (headers === NO_HEADERS) headers = [];
      headers.push([key, value]);
    }
  }
  // request_attributes arrive as a Struct keyed by the CEL expression (envoy ext_proc matching_utils.cc).
  const source = message.attributes[EXT_PROC_ATTRIBUTES_KEY]?.[SOURCE_ADDRESS_ATTRIBUTE];
  return { phase, observability: message.observabilityMode, authority, headers, sourceAddress: typeof source === "string" ? source : undefined };
}
