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
import type { RouteDecision } from "../decision/route-decision.js";
import type { HeaderPair } from "../header-pair.js";

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

/**
 * A received ProcessingRequest, opaque outside this file: the raw bytes, read by readMessage
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

/** Takes a message off the wire (runs inside the transport for every received message). */
export function decodeRequest(bytes: Buffer): IncomingMessage {
  return bytes as unknown as IncomingMessage;
}

/**
 * Reads what the stream loop needs from a ProcessingRequest. Envoy sends header values in
 * `raw_value` only (envoyproxy/envoy#35388); `value` is read as a fallback for other clients.
 * Only names in `wanted` (lower-case) are decoded.
 *
 * The common message (request headers, no attributes) is read by scanRequest straight from the
 * wire bytes: protobuf-es's fromBinary builds an object per header and was the largest single
 * cost of a request (about 7 µs of ~10 µs of detour's own work for a 10-header request, plus
 * the garbage). Anything else — attributes (the edge asks for source.address), a repeated
 * oneof, groups — goes through fromBinary, so both readers must agree; the tests check that
 * they do on generated messages.
 */
export function readMessage(incoming: IncomingMessage, wanted: ReadonlySet<string>): StreamMessage {
  const bytes = incoming as unknown as Buffer;
  return scanRequest(bytes, wanted) ?? readDecodedMessage(fromBinary(ProcessingRequestSchema, bytes), wanted);
}

/** readMessage on a message decoded by protobuf-es (the reference reader). */
export function readDecodedMessage(message: ProcessingRequest, wanted: ReadonlySet<string>): StreamMessage {
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

/* ---- wire reader for the common ProcessingRequest (protobuf encoding, developers.google.com/protocol-buffers/docs/encoding) ---- */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** ProcessingRequest oneof `request` field numbers (external_processor.proto). */
const PHASE_BY_FIELD: readonly (Phase | undefined)[] = [
  undefined,
  undefined,
  "request-headers",
  "response-headers",
  "request-body",
  "response-body",
  "request-trailers",
  "response-trailers",
];
const FIELD_ATTRIBUTES = 9;
const FIELD_OBSERVABILITY = 10;

class WireError extends Error {}

/** Cursor over protobuf bytes; throws WireError on truncated input. */
class WireReader {
  pos: number;
  constructor(
    readonly bytes: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /**
   * A varint as a number. Tags and lengths fit easily; larger values (only ever skipped or
   * tested for zero) lose precision above 2^53, which changes neither.
   */
  varint(): number {
    if (this.pos >= this.end) throw new WireError("truncated varint");
    const first = this.bytes[this.pos++] as number;
    if (first < 0x80) return first;
    let result = first & 0x7f;
    for (let shift = 7; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new WireError("truncated varint");
      const byte = this.bytes[this.pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    throw new WireError("varint too long");
  }

  /** Start of a length-delimited field's payload; its end is `pos` after the call. */
  lengthDelimited(): number {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new WireError("truncated field");
    this.pos = start + length;
    return start;
  }

  /** Skips a field of `wireType`; false for groups (not handled here). */
  skip(wireType: number): boolean {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LEN) this.lengthDelimited();
    else if (wireType === WIRE_FIXED64) this.advance(8);
    else if (wireType === WIRE_FIXED32) this.advance(4);
    else return false;
    return true;
  }

  private advance(count: number): void {
    if (count > this.end - this.pos) throw new WireError("truncated field");
    this.pos += count;
  }
}

/** The names a scan looks for (`wanted` plus :authority), indexed by length. */
type NamesByLength = readonly (readonly string[] | undefined)[];

const namesCache = new WeakMap<ReadonlySet<string>, NamesByLength>();

function namesByLength(wanted: ReadonlySet<string>): NamesByLength {
  let found = namesCache.get(wanted);
  if (found === undefined) {
    const byLength: string[][] = [];
    for (const name of [AUTHORITY_HEADER, ...wanted]) (byLength[name.length] ??= []).push(name);
    found = byLength;
    namesCache.set(wanted, found);
  }
  return found;
}

/**
 * The wanted name the key bytes spell, compared in place: decoding every key of every request
 * into a string only to drop most of them was the scan's largest cost. Names are lower-case
 * ASCII, so equal bytes are exactly what equal UTF-8-decoded keys would be.
 */
function matchKey(bytes: Buffer, start: number, end: number, names: NamesByLength): string | undefined {
  const length = end - start;
  const candidates = length < names.length ? names[length] : undefined;
  if (candidates === undefined) return undefined;
  outer: for (const name of candidates) {
    for (let i = 0; i < length; i++) if (bytes[start + i] !== name.charCodeAt(i)) continue outer;
    return name;
  }
  return undefined;
}

/**
 * Reads a ProcessingRequest from its wire bytes; undefined when the message needs the full
 * decoder (see readMessage). Throws on malformed bytes, as fromBinary would.
 */
export function scanRequest(bytes: Buffer, wanted: ReadonlySet<string>): StreamMessage | undefined {
  const reader = new WireReader(bytes, 0, bytes.length);
  let phase: Phase = "unknown";
  let observability = false;
  let headersStart = -1;
  let headersEnd = -1;
  let oneofFields = 0;
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    const field = tag >>> 3;
    const wireType = tag & 7;
    const oneofPhase = field < PHASE_BY_FIELD.length ? PHASE_BY_FIELD[field] : undefined;
    if (oneofPhase !== undefined && wireType === WIRE_LEN) {
      // A oneof set twice is merged or replaced by protobuf rules: leave that to fromBinary.
      if (++oneofFields > 1) return undefined;
      phase = oneofPhase;
      const start = reader.lengthDelimited();
      if (field === 2) {
        headersStart = start;
        headersEnd = reader.pos;
      }
    } else if (field === FIELD_OBSERVABILITY && wireType === WIRE_VARINT) {
      observability = reader.varint() !== 0;
    } else if (field === FIELD_ATTRIBUTES || oneofPhase !== undefined || field === 0) {
      return undefined;
    } else if (!reader.skip(wireType)) {
      return undefined;
    }
  }
  if (phase !== "request-headers") return { phase, observability, authority: undefined, headers: NO_HEADERS };

  let authority: string | undefined;
  let headers: HeaderPair[] = NO_HEADERS;
  const names = namesByLength(wanted);
  // HttpHeaders { HeaderMap headers = 1; ... }: a repeated occurrence merges, i.e. the lists concatenate.
  const httpHeaders = new WireReader(bytes, headersStart, headersEnd);
  while (httpHeaders.pos < httpHeaders.end) {
    const tag = httpHeaders.varint();
    if (tag >>> 3 !== 1 || (tag & 7) !== WIRE_LEN) {
      if (!httpHeaders.skip(tag & 7)) return undefined;
      continue;
    }
    const mapStart = httpHeaders.lengthDelimited();
    // HeaderMap { repeated HeaderValue headers = 1; }
    const map = new WireReader(bytes, mapStart, httpHeaders.pos);
    while (map.pos < map.end) {
      const mapTag = map.varint();
      if (mapTag >>> 3 !== 1 || (mapTag & 7) !== WIRE_LEN) {
        if (!map.skip(mapTag & 7)) return undefined;
        continue;
      }
      const valueStart = map.lengthDelimited();
      // HeaderValue { string key = 1; string value = 2; bytes raw_value = 3; } (last occurrence wins)
      const header = new WireReader(bytes, valueStart, map.pos);
      let keyStart = -1;
      let keyEnd = -1;
      let textStart = -1;
      let textEnd = -1;
      let rawStart = -1;
      let rawEnd = -1;
      while (header.pos < header.end) {
        const headerTag = header.varint();
        const headerField = headerTag >>> 3;
        if ((headerTag & 7) === WIRE_LEN && headerField >= 1 && headerField <= 3) {
          const start = header.lengthDelimited();
          if (headerField === 1) [keyStart, keyEnd] = [start, header.pos];
          else if (headerField === 2) [textStart, textEnd] = [start, header.pos];
          else [rawStart, rawEnd] = [start, header.pos];
        } else if (!header.skip(headerTag & 7)) {
          return undefined;
        }
      }
      if (keyStart === -1) continue;
      const key = matchKey(bytes, keyStart, keyEnd, names);
      if (key === undefined) continue;
      const isAuthority = key === AUTHORITY_HEADER;
      const value =
        rawStart !== -1 && rawEnd > rawStart ? bytes.toString("latin1", rawStart, rawEnd) : textStart === -1 ? "" : bytes.toString("utf8", textStart, textEnd);
      if (isAuthority) authority = value;
      else {
        if (headers === NO_HEADERS) headers = [];
        headers.push([key, value]);
      }
    }
  }
  return { phase, observability, authority, headers, sourceAddress: undefined };
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
