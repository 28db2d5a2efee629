/*
 * ProcessingResponse bytes for the stream loop. The constant answers are encoded once and the
 * header answers are cached by content, so most requests write bytes that already exist.
 */

import { create, toBinary } from "@bufbuild/protobuf";
import { HeaderValueOptionSchema, HeaderValueSchema } from "../gen/envoy/config/core/v3/base_pb.js";
import {
  BodyResponseSchema,
  CommonResponse_ResponseStatus,
  CommonResponseSchema,
  HeaderMutationSchema,
  HeadersResponseSchema,
  ImmediateResponseSchema,
  ProcessingResponseSchema,
  TrailersResponseSchema,
  type HeaderMutation,
  type ProcessingResponse,
} from "../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { HttpStatusSchema } from "../gen/envoy/type/v3/http_status_pb.js";
import type { RouteDecision } from "../decision/route-decision.js";
import type { HeaderPair } from "../header-pair.js";
import { bytesOfText } from "./header-bytes.js";
import type { Phase } from "./stream-message.js";

const utf8Encoder = new TextEncoder();

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
export function continueResponse(phase: Exclude<Phase, "unknown">): Buffer;
export function continueResponse(phase: Phase): Buffer | undefined;
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
