/*
 * The client side of Process for tests that speak to the server without Envoy: request messages
 * as Envoy writes them, and responses decoded into a flat view for assertions. Test-only: this
 * folder is not compiled into dist.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HeaderMapSchema, HeaderValueSchema } from "../gen/envoy/config/core/v3/base_pb.js";
import {
  HttpBodySchema,
  HttpHeadersSchema,
  ProcessingRequestSchema,
  ProcessingResponseSchema,
  type HeaderMutation,
} from "../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import type { HeaderPair } from "../header-pair.js";
import { PHASE_BY_CASE } from "../protobuf/stream-message.js";

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** A request_headers message as a test client writes it. */
export interface RequestHeadersInput {
  readonly headers: readonly HeaderPair[];
  readonly observability?: boolean;
}

/** A decoded ProcessingResponse, flattened for assertions. */
export interface ResponseView {
  readonly phase: string | undefined;
  readonly setHeaders: Record<string, string>;
  /** The `append` flag of every set header (must be false: overwrite). */
  readonly appendFlags: (boolean | undefined)[];
  /** True when any set header used `value` instead of `raw_value`. */
  readonly usesValueField: boolean;
  readonly removeHeaders: string[];
  readonly clearRouteCache: boolean;
  readonly immediate: { status: number; body: string; headers: Record<string, string> } | undefined;
}

/** A request_headers message, header values in `raw_value` as Envoy sends them. */
export function encodeRequestHeaders(input: RequestHeadersInput): Buffer {
  const bytes = toBinary(
    ProcessingRequestSchema,
    create(ProcessingRequestSchema, {
      observabilityMode: input.observability ?? false,
      request: {
        case: "requestHeaders",
        value: create(HttpHeadersSchema, {
          headers: create(HeaderMapSchema, {
            headers: input.headers.map(([key, value]) => create(HeaderValueSchema, { key, rawValue: utf8Encoder.encode(value) })),
          }),
          endOfStream: true,
        }),
      },
    }),
  );
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A request of another phase (to check the server still answers exactly once). */
export function encodeOtherPhase(phase: "response-headers" | "request-body"): Buffer {
  const message =
    phase === "response-headers"
      ? create(ProcessingRequestSchema, { request: { case: "responseHeaders", value: create(HttpHeadersSchema, {}) } })
      : create(ProcessingRequestSchema, { request: { case: "requestBody", value: create(HttpBodySchema, {}) } });
  const bytes = toBinary(ProcessingRequestSchema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function viewMutation(mutationMessage: HeaderMutation | undefined, into: Record<string, string>, flags: (boolean | undefined)[]): boolean {
  let usesValue = false;
  for (const option of mutationMessage?.setHeaders ?? []) {
    const header = option.header;
    if (header === undefined) continue;
    if (header.value.length !== 0) usesValue = true;
    into[header.key] = utf8.decode(header.rawValue);
    flags.push(option.append);
  }
  return usesValue;
}

/** Decodes a ProcessingResponse into its ResponseView. */
export function decodeResponseView(bytes: Uint8Array): ResponseView {
  const message = fromBinary(ProcessingResponseSchema, bytes);
  const setHeaders: Record<string, string> = {};
  const appendFlags: (boolean | undefined)[] = [];
  const response = message.response;
  if (response.case === "immediateResponse") {
    const headers: Record<string, string> = {};
    viewMutation(response.value.headers, headers, []);
    return {
      phase: "immediate-response",
      setHeaders,
      appendFlags,
      usesValueField: false,
      removeHeaders: [],
      clearRouteCache: false,
      immediate: { status: response.value.status?.code ?? 0, body: utf8.decode(response.value.body), headers },
    };
  }
  const common = response.case === "requestHeaders" || response.case === "responseHeaders" ? response.value.response : undefined;
  const usesValueField = viewMutation(common?.headerMutation, setHeaders, appendFlags);
  return {
    phase: response.case === undefined ? undefined : (PHASE_BY_CASE[response.case] ?? response.case),
    setHeaders,
    appendFlags,
    usesValueField,
    removeHeaders: [...(common?.headerMutation?.removeHeaders ?? [])],
    clearRouteCache: common?.clearRouteCache ?? false,
    immediate: undefined,
  };
}
