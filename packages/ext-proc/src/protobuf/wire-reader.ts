/*
 * A reader for the common ProcessingRequest straight from its wire bytes (protobuf encoding,
 * protobuf.dev/programming-guides/encoding): it decodes only `:authority` and the wanted headers
 * and leaves every other message to protobuf-es (read-message.ts). The cursor is its own rather
 * than @bufbuild/protobuf/wire's BinaryReader because it measured faster on every message shape
 * of bench/wire-reader.mjs (the same scan on both cursors, same run; bench/README.md).
 */
import { AUTHORITY_HEADER } from "../constants.js";
import type { HeaderPair } from "../header-pair.js";
import { NO_HEADERS, type Phase, type StreamMessage } from "./stream-message.js";
import { matchKey, namesByLength } from "./wanted-names.js";

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

/**
 * Reads a ProcessingRequest from its wire bytes; undefined when the message needs the full
 * decoder (read-message.ts). Throws on malformed bytes, as fromBinary would.
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
