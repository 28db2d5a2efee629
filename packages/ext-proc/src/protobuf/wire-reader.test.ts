import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeaderMapSchema, HeaderValueSchema } from "../gen/envoy/config/core/v3/base_pb.js";
import { HttpBodySchema, HttpHeadersSchema, ProcessingRequestSchema } from "../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { readMessage } from "./read-message.js";
import { readDecodedMessage } from "./reference-reader.js";
import type { IncomingMessage } from "./stream-message.js";
import { scanRequest } from "./wire-reader.js";

const decodeRequest = (bytes: Buffer): IncomingMessage => bytes as unknown as IncomingMessage;

const WANTED = new Set(["x-detour", "baggage", "x-detour-route", "x-override"]);
const KEYS = [":authority", ":path", "x-detour", "baggage", "x-detour-route", "x-override", "user-agent", "x-détour", ""];

const headerArb = fc.record({
  key: fc.constantFrom(...KEYS),
  raw: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
  value: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
});

const requestArb = fc.record({
  phase: fc.constantFrom("requestHeaders", "responseHeaders", "requestBody", "none"),
  observability: fc.boolean(),
  headers: fc.array(headerArb, { maxLength: 12 }),
  withAttributes: fc.boolean(),
});

interface RequestShape {
  phase: string;
  observability: boolean;
  headers: { key: string; raw: Uint8Array | undefined; value: string | undefined }[];
  withAttributes: boolean;
}

function encode(input: RequestShape): Buffer {
  const headers = create(HttpHeadersSchema, {
    headers: create(HeaderMapSchema, {
      headers: input.headers.map((h) => create(HeaderValueSchema, { key: h.key, rawValue: h.raw ?? new Uint8Array(), value: h.raw === undefined ? (h.value ?? "") : "" })),
    }),
    endOfStream: true,
  });
  const request =
    input.phase === "requestHeaders"
      ? ({ case: "requestHeaders", value: headers } as const)
      : input.phase === "responseHeaders"
        ? ({ case: "responseHeaders", value: headers } as const)
        : input.phase === "requestBody"
          ? ({ case: "requestBody", value: create(HttpBodySchema, { body: new Uint8Array([1, 2, 3]) }) } as const)
          : ({ case: undefined } as const);
  const message = create(ProcessingRequestSchema, {
    request,
    observabilityMode: input.observability,
    attributes: input.withAttributes ? { "envoy.filters.http.ext_proc": { "source.address": "10.0.0.1:1234" } } : {},
  });
  const bytes = toBinary(ProcessingRequestSchema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

describe("ProcessingRequest wire reader", () => {
  it("reads exactly what protobuf-es's fromBinary reads, on generated messages", () => {
    fc.assert(
      fc.property(requestArb, (input) => {
        const bytes = encode(input);
        const reference = readDecodedMessage(fromBinary(ProcessingRequestSchema, bytes), WANTED);
        expect(readMessage(decodeRequest(bytes), WANTED)).toEqual(reference);
        const fast = scanRequest(bytes, WANTED);
        if (input.withAttributes) expect(fast).toBeUndefined();
        else expect(fast).toEqual(reference);
      }),
      { numRuns: 500 },
    );
  });

  it("merges repeated header maps and takes the last occurrence of a field, as protobuf does", () => {
    const one = toBinary(HttpHeadersSchema, create(HttpHeadersSchema, { headers: create(HeaderMapSchema, { headers: [create(HeaderValueSchema, { key: "x-detour", rawValue: Buffer.from("a=1") })] }) }));
    const two = toBinary(HttpHeadersSchema, create(HttpHeadersSchema, { headers: create(HeaderMapSchema, { headers: [create(HeaderValueSchema, { key: ":authority", rawValue: Buffer.from("pricing") })] }) }));
    const headers = Buffer.concat([one, two]);
    const bytes = Buffer.concat([Buffer.from([0x12, headers.length]), headers, Buffer.from([0x50, 1, 0x50, 0])]);
    const reference = readDecodedMessage(fromBinary(ProcessingRequestSchema, bytes), WANTED);
    expect(scanRequest(bytes, WANTED)).toEqual(reference);
    expect(reference).toMatchObject({ authority: "pricing", headers: [["x-detour", "a=1"]], observability: false });
  });

  it("throws on truncated bytes instead of guessing", () => {
    const bytes = encode({ phase: "requestHeaders", observability: false, headers: [{ key: "x-detour", raw: Buffer.from("pricing=v2"), value: undefined }], withAttributes: false });
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(() => readMessage(decodeRequest(bytes.subarray(0, cut)), WANTED)).toThrow();
    }
  });
});
