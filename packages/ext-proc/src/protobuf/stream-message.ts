import type { HeaderPair } from "../header-pair.js";

/** Which ProcessingRequest oneof arrived; each needs exactly one matching response. */
export type Phase =
  | "request-headers"
  | "response-headers"
  | "request-body"
  | "response-body"
  | "request-trailers"
  | "response-trailers"
  | "unknown";

/**
 * A received ProcessingRequest, opaque outside this folder: the raw bytes, read by readMessage
 * (decoding is deferred so the common case never builds the whole message tree).
 */
export type IncomingMessage = { readonly __brand: "ProcessingRequest" };

/** What the stream loop needs from one ProcessingRequest. */
export interface StreamMessage {
  readonly phase: Phase;
  /** Observability mode: Envoy ignores responses, so none is sent. */
  readonly observability: boolean;
  readonly authority: string | undefined;
  /** Only the headers named in `wanted`, one entry per field line. */
  readonly headers: HeaderPair[];
  /** The `source.address` attribute (`ip:port`), when the filter asks for it (the edge does). */
  readonly sourceAddress?: string | undefined;
}

/** The phase of each ProcessingRequest / ProcessingResponse oneof case, by its protobuf-es name. */
export const PHASE_BY_CASE: Readonly<Record<string, Phase>> = {
  requestHeaders: "request-headers",
  responseHeaders: "response-headers",
  requestBody: "request-body",
  responseBody: "response-body",
  requestTrailers: "request-trailers",
  responseTrailers: "response-trailers",
};

/** Shared by every message without wanted headers (most of them), so none allocates a list. */
export const NO_HEADERS: HeaderPair[] = [];
