// Microbenchmark: the ext_proc server's hand-written ProcessingRequest wire reader
// (packages/ext-proc/src/protobuf/wire-reader.ts) against the same scan driven by
// @bufbuild/protobuf/wire's BinaryReader, and against protobuf-es's fromBinary plus the
// reference reader (what every request would cost without a wire reader).
//
//   npm run build && node bench/wire-reader.mjs [--time-ms 600] [--rounds 7]
//
// Imports the BUILT server (packages/ext-proc/dist). The BinaryReader variant below is the wire
// reader's algorithm line for line with BinaryReader as the cursor (tag(), uint32(), skip(), pos),
// so the only difference measured is the cursor. All three readers are checked to return the same
// StreamMessage on every message before anything is timed. Rounds of the readers alternate and
// each ratio is the median over rounds of the ratio within a round, so a busy machine slows both
// sides of a pair alike; the order rotates per round.
// Speed is reported, never asserted. The summary line ("hand-written vs BinaryReader: N.NNx ...")
// is read by bench/harness/micro.mjs.
import { deepStrictEqual } from "node:assert";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { timingOptions, calibrateBatch, geometricMean, median, round } from "./harness/paired-rounds.mjs";

const dist = (path) => fileURLToPath(new URL(`../packages/ext-proc/dist/${path}`, import.meta.url));
if (!existsSync(dist("protobuf/wire-reader.js"))) {
  console.error("packages/ext-proc/dist is missing: run `npm run build` first");
  process.exit(1);
}
const { scanRequest } = await import(dist("protobuf/wire-reader.js"));
// The key matching is the wire reader's own, so the two scans differ in the cursor only.
const { matchKey, namesByLength } = await import(dist("protobuf/wanted-names.js"));
const { readDecodedMessage } = await import(dist("protobuf/reference-reader.js"));
const { NO_HEADERS } = await import(dist("protobuf/stream-message.js"));
const { HeaderMapSchema, HeaderValueSchema } = await import(dist("gen/envoy/config/core/v3/base_pb.js"));
const { HttpHeadersSchema, ProcessingRequestSchema } = await import(dist("gen/envoy/service/ext_proc/v3/external_processor_pb.js"));

const { timeMs: TIME_MS, rounds: ROUNDS } = timingOptions(process.argv.slice(2), { timeMs: 600, rounds: 7 });

/* ---- the wire reader's scan with BinaryReader as the cursor ---- */

const AUTHORITY = ":authority";
const PHASE_BY_FIELD = [undefined, undefined, "request-headers", "response-headers", "request-body", "response-body", "request-trailers", "response-trailers"];

/** Start of a length-delimited payload; the reader is left at its end, which must be within `end`. */
function lengthDelimited(reader, end) {
  const length = reader.uint32();
  const start = reader.pos;
  if (length > end - start) throw new RangeError("premature EOF");
  reader.pos = start + length;
  return start;
}

function skip(reader, wireType, end) {
  if (wireType === WireType.StartGroup || wireType === WireType.EndGroup) return false;
  reader.skip(wireType);
  if (reader.pos > end) throw new RangeError("premature EOF");
  return true;
}

function scanWithBinaryReader(bytes, wanted) {
  const reader = new BinaryReader(bytes);
  const end = reader.len;
  let phase = "unknown";
  let observability = false;
  let headersStart = -1;
  let headersEnd = -1;
  let oneofFields = 0;
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    const oneofPhase = field < PHASE_BY_FIELD.length ? PHASE_BY_FIELD[field] : undefined;
    if (oneofPhase !== undefined && wireType === WireType.LengthDelimited) {
      if (++oneofFields > 1) return undefined;
      phase = oneofPhase;
      const start = lengthDelimited(reader, end);
      if (field === 2) {
        headersStart = start;
        headersEnd = reader.pos;
      }
    } else if (field === 10 && wireType === WireType.Varint) {
      observability = reader.bool();
    } else if (field === 9 || oneofPhase !== undefined) {
      return undefined;
    } else if (!skip(reader, wireType, end)) {
      return undefined;
    }
  }
  if (phase !== "request-headers") return { phase, observability, authority: undefined, headers: NO_HEADERS };

  let authority;
  let headers = NO_HEADERS;
  const names = namesByLength(wanted);
  reader.pos = headersStart;
  while (reader.pos < headersEnd) {
    const [field, wireType] = reader.tag();
    if (field !== 1 || wireType !== WireType.LengthDelimited) {
      if (!skip(reader, wireType, headersEnd)) return undefined;
      continue;
    }
    const mapStart = lengthDelimited(reader, headersEnd);
    const mapEnd = reader.pos;
    reader.pos = mapStart;
    while (reader.pos < mapEnd) {
      const [mapField, mapWireType] = reader.tag();
      if (mapField !== 1 || mapWireType !== WireType.LengthDelimited) {
        if (!skip(reader, mapWireType, mapEnd)) return undefined;
        continue;
      }
      const valueStart = lengthDelimited(reader, mapEnd);
      const valueEnd = reader.pos;
      reader.pos = valueStart;
      let keyStart = -1;
      let keyEnd = -1;
      let textStart = -1;
      let textEnd = -1;
      let rawStart = -1;
      let rawEnd = -1;
      while (reader.pos < valueEnd) {
        const [headerField, headerWireType] = reader.tag();
        if (headerWireType === WireType.LengthDelimited && headerField >= 1 && headerField <= 3) {
          const start = lengthDelimited(reader, valueEnd);
          if (headerField === 1) [keyStart, keyEnd] = [start, reader.pos];
          else if (headerField === 2) [textStart, textEnd] = [start, reader.pos];
          else [rawStart, rawEnd] = [start, reader.pos];
        } else if (!skip(reader, headerWireType, valueEnd)) {
          return undefined;
        }
      }
      if (keyStart === -1) continue;
      const key = matchKey(bytes, keyStart, keyEnd, names);
      if (key === undefined) continue;
      const value =
        rawStart !== -1 && rawEnd > rawStart ? bytes.toString("latin1", rawStart, rawEnd) : textStart === -1 ? "" : bytes.toString("utf8", textStart, textEnd);
      if (key === AUTHORITY) authority = value;
      else {
        if (headers === NO_HEADERS) headers = [];
        headers.push([key, value]);
      }
    }
    reader.pos = mapEnd;
  }
  return { phase, observability, authority, headers, sourceAddress: undefined };
}

/* ---- the messages: request_headers as Envoy sends them (raw_value only) ---- */

const WANTED = new Set(["x-detour", "baggage", "x-detour-route"]);
const ENVOY_HEADERS = [
  [":authority", "pricing"],
  [":path", "/price?sku=4711"],
  [":method", "GET"],
  [":scheme", "http"],
  ["user-agent", "undici"],
  ["accept", "application/json"],
  ["x-forwarded-proto", "http"],
  ["x-request-id", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"],
  ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
  ["x-envoy-expected-rq-timeout-ms", "15000"],
];
const OVERRIDE = [
  ["x-detour", "pricing=v2"],
  ["baggage", "detour=pricing%3Dv2"],
];
const EXTRA = Array.from({ length: 20 }, (_, i) => [`x-app-header-${i}`, `value-${i}-${"x".repeat(i)}`]);

function encode(headers) {
  const message = create(ProcessingRequestSchema, {
    request: {
      case: "requestHeaders",
      value: create(HttpHeadersSchema, {
        headers: create(HeaderMapSchema, { headers: headers.map(([key, value]) => create(HeaderValueSchema, { key, rawValue: Buffer.from(value, "latin1") })) }),
        endOfStream: true,
      }),
    },
  });
  const bytes = toBinary(ProcessingRequestSchema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const shapes = [
  { name: "10 headers, no override", bytes: encode(ENVOY_HEADERS) },
  { name: "12 headers, x-detour + baggage", bytes: encode([...ENVOY_HEADERS, ...OVERRIDE]) },
  { name: "32 headers, x-detour + baggage", bytes: encode([...ENVOY_HEADERS, ...EXTRA, ...OVERRIDE]) },
];

const readers = {
  handWritten: (bytes) => scanRequest(bytes, WANTED),
  binaryReader: (bytes) => scanWithBinaryReader(bytes, WANTED),
  fromBinary: (bytes) => readDecodedMessage(fromBinary(ProcessingRequestSchema, bytes), WANTED),
};

for (const shape of shapes) {
  const reference = readers.fromBinary(shape.bytes);
  deepStrictEqual(readers.handWritten(shape.bytes), reference, `${shape.name}: hand-written reader disagrees with fromBinary`);
  deepStrictEqual(readers.binaryReader(shape.bytes), reference, `${shape.name}: BinaryReader scan disagrees with fromBinary`);
}

/* ---- timing ---- */

let sink = 0;
const runner = (read, bytes) => (batch) => {
  for (let i = 0; i < batch; i++) sink += read(bytes).headers.length;
};

const fmt = (n) => Math.round(n).toLocaleString("en-US").padStart(12);

console.log(`node ${process.version}, ${ROUNDS} rounds x ${TIME_MS} ms per reader and message; ops/s = median round, ratio = median of per-round ratios`);
console.log(`${"message".padEnd(34)} ${"hand ops/s".padStart(12)} ${"BinaryReader".padStart(12)} ${"fromBinary".padStart(12)}  hand/BinaryReader  hand/fromBinary`);
const vsBinaryReader = [];
const vsFromBinary = [];
for (const shape of shapes) {
  const runs = Object.fromEntries(Object.entries(readers).map(([name, read]) => [name, runner(read, shape.bytes)]));
  for (const run of Object.values(runs)) run(2000);
  const batches = Object.fromEntries(Object.entries(runs).map(([name, run]) => [name, calibrateBatch(run, TIME_MS)]));
  const ops = { handWritten: [], binaryReader: [], fromBinary: [] };
  const ratioBinary = [];
  const ratioFrom = [];
  const names = Object.keys(readers);
  for (let r = 0; r < ROUNDS; r++) {
    // The order rotates per round so no reader always runs right after the same one.
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      ops[name].push(round(runs[name], batches[name], TIME_MS));
    }
    ratioBinary.push(ops.handWritten[r] / ops.binaryReader[r]);
    ratioFrom.push(ops.handWritten[r] / ops.fromBinary[r]);
  }
  vsBinaryReader.push(median(ratioBinary));
  vsFromBinary.push(median(ratioFrom));
  console.log(
    `${shape.name.padEnd(34)} ${fmt(median(ops.handWritten))} ${fmt(median(ops.binaryReader))} ${fmt(median(ops.fromBinary))}  ${median(ratioBinary).toFixed(2).padStart(16)}x  ${median(ratioFrom).toFixed(2).padStart(14)}x`,
  );
}
console.log(
  `\nhand-written vs BinaryReader: ${geometricMean(vsBinaryReader).toFixed(2)}x (geometric mean, worst ${Math.min(...vsBinaryReader).toFixed(2)}x); ` +
    `hand-written vs fromBinary: ${geometricMean(vsFromBinary).toFixed(2)}x (geometric mean, worst ${Math.min(...vsFromBinary).toFixed(2)}x)`,
);
if (sink === 0) console.log("unreachable"); // keeps the results observable to the optimizer
