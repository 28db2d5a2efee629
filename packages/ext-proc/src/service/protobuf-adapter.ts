/*
 * The only file that touches the generated Envoy protobuf types (STYLE.md rule 17). Everything
 * else sees plain stream messages in and pre-encoded response bytes out, so the decision logic
 * never depends on protobuf-es and the constant answers are encoded once.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition } from "@grpc/grpc-js";
import { HeaderMapSchema, HeaderValueOptionSchema, HeaderValueSchema } from "../gen/envoy/config/core/v3/base_pb.js";
import {
  CommonResponse_ResponseStatus,
  CommonResponseSchema,
  HeaderMutationSchema,
  HeadersResponseSchema,
  HttpBodySchema,
  HttpHeadersSchema,
  ImmediateResponseSchema,
  ProcessingRequestSchema,
  ProcessingResponseSchema,
  TrailersResponseSchema,
  BodyResponseSchema,
  type HeaderMutation,
  type ProcessingRequest,
  type ProcessingResponse,
} from "../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { HttpStatusSchema } from "../gen/envoy/type/v3/http_status_pb.js";
import { AUTHORITY_HEADER, EXT_PROC_ATTRIBUTES_KEY, SOURCE_ADDRESS_ATTRIBUTE } from "../constants.js";
import type { HeaderPair, RouteDecision } from "../decision/route-decision.js";

/** The gRPC path Envoy calls (envoy/service/ext_proc/v3/external_processor.proto). */
export const PROCESS_PATH = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";
export const EXT_PROC_SERVICE_NAME = "envoy.service.ext_proc.v3.ExternalProcessor";

/** Which ProcessingRequest oneof arrived; each needs exactly one matching response. */
export type Phase =
  | "request-headers"
  | "response-headers"
  | "request-body"
  | "response-body"
  | "request-trailers"
  | "response-trailers"
  | "unknown";

/** A received ProcessingRequest, opaque outside this file. */
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

const PHASES: Record<string, Phase> = {
  requestHeaders: "request-headers",
  responseHeaders: "response-headers",
  requestBody: "request-body",
  responseBody: "response-body",
  requestTrailers: "request-trailers",
  responseTrailers: "response-trailers",
};

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();
const NO_HEADERS: HeaderPair[] = [];

/**
 * Header values are handled as bytes, one char per byte (latin1), not decoded as UTF-8: Envoy
 * passes on bytes that need not be UTF-8 (obs-text), and a value written back (the rebuilt
 * baggage header keeps every other member) must be the same bytes, not U+FFFD replacements
 * (DESIGN.md §2; seen in test/reliability/hostile-input.test.ts). Override grammar is ASCII, so no
 * decision changes, and limits.maxValueBytes counts bytes.
 */
function textOfBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function bytesOfText(text: string): Uint8Array {
  // Values come from request bytes or ASCII; anything wider (never expected) goes out as UTF-8.
  return /[^\x00-\xff]/.test(text) ? utf8Encoder.encode(text) : Buffer.from(text, "latin1");
}

/** Decodes bytes from the wire (runs inside grpc-js for every received message). */
export function decodeRequest(bytes: Buffer): IncomingMessage {
  return fromBinary(ProcessingRequestSchema, bytes) as unknown as IncomingMessage;
}

/**
 * Envoy sends header values in `raw_value` only (envoyproxy/envoy#35388); `value` is read as a
 * fallback for other clients. Only names in `wanted` (lower-case) are decoded.
 */
export function readMessage(incoming: IncomingMessage, wanted: ReadonlySet<string>): StreamMessage {
  const message = incoming as unknown as ProcessingRequest;
  const phase = message.request.case === undefined ? "unknown" : (PHASES[message.request.case] ?? "unknown");
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

function frame(response: ProcessingResponse): Buffer {
  const bytes = toBinary(ProcessingResponseSchema, response);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function emptyHeadersResponse() {
  return create(HeadersResponseSchema, { response: create(CommonResponseSchema, {}) });
}

/** "Continue unchanged" for each phase, encoded once (the hot path's most common answer). */
const CONTINUE: Record<Exclude<Phase, "unknown">, Buffer> = {
  "request-headers": frame(create(ProcessingResponseSchema, { response: { case: "requestHeaders", value: emptyHeadersResponse() } })),
  "response-headers": frame(create(ProcessingResponseSchema, { response: { case: "responseHeaders", value: emptyHeadersResponse() } })),
  "request-body": frame(create(ProcessingResponseSchema, { response: { case: "requestBody", value: create(BodyResponseSchema, { response: create(CommonResponseSchema, {}) }) } })),
  "response-body": frame(create(ProcessingResponseSchema, { response: { case: "responseBody", value: create(BodyResponseSchema, { response: create(CommonResponseSchema, {}) }) } })),
  "request-trailers": frame(create(ProcessingResponseSchema, { response: { case: "requestTrailers", value: create(TrailersResponseSchema, {}) } })),
  "response-trailers": frame(create(ProcessingResponseSchema, { response: { case: "responseTrailers", value: create(TrailersResponseSchema, {}) } })),
};

/** The encoded "continue unchanged" answer matching `phase`; undefined for an unknown message. */
export function continueResponse(phase: Phase): Buffer | undefined {
  return phase === "unknown" ? undefined : CONTINUE[phase];
}

/**
 * Header values go in `raw_value` only, never `value` (Envoy rejects both set with a 500, and
 * ignores `value` since envoyproxy/envoy#35388); `append: false` means overwrite, because ext_proc
 * ignores `append_action` (envoyproxy/envoy#36982).
 */
function mutation(set: readonly HeaderPair[], remove: readonly string[]): HeaderMutation {
  return create(HeaderMutationSchema, {
    setHeaders: set.map(([key, value]) =>
      create(HeaderValueOptionSchema, { header: create(HeaderValueSchema, { key, rawValue: bytesOfText(value) }), append: false }),
    ),
    removeHeaders: [...remove],
  });
}

/**
 * Encoded header answers by their content. Real traffic repeats a few override values (the same
 * developer header, the same sandbox key), so most answers are found here instead of being built
 * and serialized again. Bounded: request-derived values could otherwise grow it without limit.
 */
const answers = new Map<string, Buffer>();
const ANSWER_CACHE_LIMIT = 4096;

function answerKey(decision: RouteDecision): string {
  let key = decision.clearRouteCache ? "c" : "-";
  for (const [name, value] of decision.setHeaders) key += `\u0000${name}\u0000${value}`;
  key += "\u0001";
  for (const name of decision.removeHeaders) key += `\u0000${name}`;
  return key;
}

function headersResponse(decision: RouteDecision): Buffer {
  // clear_route_cache is ignored by Envoy unless the same response carries a header mutation
  // (envoyproxy/envoy#16098); decide() only sets it together with one.
  return frame(
    create(ProcessingResponseSchema, {
      response: {
        case: "requestHeaders",
        value: create(HeadersResponseSchema, {
          response: create(CommonResponseSchema, {
            status: CommonResponse_ResponseStatus.CONTINUE,
            headerMutation: mutation(decision.setHeaders, decision.removeHeaders),
            clearRouteCache: decision.clearRouteCache,
          }),
        }),
      },
    }),
  );
}

/** Encodes the answer to a request_headers message. */
export function encodeDecision(decision: RouteDecision): Buffer {
  const reject = decision.reject;
  if (reject !== undefined) {
    return frame(
      create(ProcessingResponseSchema, {
        response: {
          case: "immediateResponse",
          value: create(ImmediateResponseSchema, {
            status: create(HttpStatusSchema, { code: reject.status }),
            headers: mutation([["content-type", "text/plain; charset=utf-8"]], []),
            body: utf8Encoder.encode(reject.body),
            details: reject.details ?? "detour_unknown_version_rejected",
          }),
        },
      }),
    );
  }
  if (decision.setHeaders.length === 0 && decision.removeHeaders.length === 0) return CONTINUE["request-headers"];
  const key = answerKey(decision);
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = headersResponse(decision);
    if (answers.size >= ANSWER_CACHE_LIMIT) answers.clear();
    answers.set(key, answer);
  }
  return answer;
}

const passBuffer = (bytes: Buffer): Buffer => bytes;

/** Server side of the Process method: requests decoded lazily by readMessage, responses pre-encoded. */
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

/* ---- client side, for tests and tools that speak to the server without Envoy ---- */

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
    phase: response.case === undefined ? undefined : (PHASES[response.case] ?? response.case),
    setHeaders,
    appendFlags,
    usesValueField,
    removeHeaders: [...(common?.headerMutation?.removeHeaders ?? [])],
    clearRouteCache: common?.clearRouteCache ?? false,
    immediate: undefined,
  };
}
