import { describe, expect, it } from "vitest";
import { baggageWithOverride, removeBaggageMembers } from "./baggage.js";
import { createCarrierConfig } from "./carrier-config.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { isValidService, isValidVersion } from "./override-grammar.js";
import type { OverrideSet } from "./override-set.js";
import { parseOverrides } from "./parse-overrides.js";
import type { ProblemCode } from "./problem.js";
import { readCarriers } from "./read-carriers.js";
import { writeCarriers } from "./write-carriers.js";

// Bounded fuzz run: a fixed number of random and mutated header values from a fixed seed (so a
// failure reproduces exactly), fed to every entry point in lenient mode. Asserts: no throw, every
// set grammar-valid and within limits, every problem well-formed, foreign baggage kept on write.

/** Each iteration feeds two fresh values (one as x-detour/alias/baggage member, one as whole baggage). */
const ITERATIONS = 50_000;
const VALUES = 2 * ITERATIONS;
const MAX_LENGTH = 2048;
const SEED = 0x5eed_d370;

/** mulberry32: tiny, fast, good enough to drive a fuzzer reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  "pricing=v2",
  "pricing=v2, cart=pr-7, *=sandbox-3",
  "Pricing = V2 ,,cart=pr-7,",
  "detour=pricing%3Dv2%2Ccart%3Dpr-7",
  "userId=alice;p=1,detour=pricing%3Dv2;ttl=5,tenant=acme",
  "okteto-divert=ns-1,sd-routing-key=k7x2,mirrord-session=alice",
  "pricing:v2,cart:pr-7",
  Array.from({ length: 32 }, (_, i) => `s${i}=v${i}`).join(","),
  `${"a".repeat(63)}=${"b".repeat(63)}`,
];
const ALPHABET = "abcxyzABC019-_.*=,;:% \t%3D%2C\u00e9\u0000\uffff\ud800";
const KNOWN_CODES = new Set<ProblemCode>([
  "missing-equals",
  "invalid-service",
  "invalid-version",
  "empty-entry",
  "too-many-entries",
  "value-too-long",
  "bad-percent-encoding",
  "bad-baggage-member",
  "baggage-over-limit",
]);
const ALIASES = createCarrierConfig({
  aliases: [
    { header: "x-override", format: "pairs" },
    { header: "virtual-cluster-name", format: "wildcard" },
    { baggage: "okteto-divert" },
    { baggage: "sd-routing-key" },
  ],
});

/** `%XX` of a code unit's low byte (an escape that may or may not decode to valid UTF-8). */
const percent = (code: number): string => (Number.isNaN(code) ? "%" : `%${(code & 0xff).toString(16).padStart(2, "0").toUpperCase()}`);

function generator(seed: number): () => string {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = (text: string): string => text[int(text.length)] ?? "";
  const randomText = (max: number, alphabet: (() => string) | undefined): string => {
    let out = "";
    const length = int(max);
    for (let i = 0; i < length; i++) out += alphabet === undefined ? String.fromCharCode(int(0x110)) : alphabet();
    return out;
  };
  const mutate = (text: string): string => {
    let out = text;
    const steps = 1 + int(4);
    for (let s = 0; s < steps; s++) {
      const at = int(out.length + 1);
      switch (int(7)) {
        case 0: // insert a character
          out = out.slice(0, at) + pick(ALPHABET) + out.slice(at);
          break;
        case 1: // delete a run
          out = out.slice(0, at) + out.slice(at + 1 + int(4));
          break;
        case 2: // replace a character
          out = out.slice(0, at) + pick(ALPHABET) + out.slice(at + 1);
          break;
        case 3: // duplicate a segment
          out = out + "," + out.slice(int(out.length), out.length);
          break;
        case 4: // percent-encode a character
          out = out.slice(0, at) + percent(out.charCodeAt(at)) + out.slice(at + 1);
          break;
        case 5: // flip letter case
          out = out.slice(0, at) + out.slice(at, at + 3).toUpperCase() + out.slice(at + 3);
          break;
        default: // blow up the length (past the 1024-byte limit), bounded so the run stays short
          out = out.repeat(1 + int(40)).slice(0, MAX_LENGTH);
      }
    }
    return out.slice(0, MAX_LENGTH);
  };
  return () => {
    switch (int(4)) {
      case 0:
        return randomText(64, undefined); // any UTF-16 code units
      case 1:
        return randomText(80, () => pick(ALPHABET));
      default:
        return mutate(SEEDS[int(SEEDS.length)] ?? "");
    }
  };
}

function check(set: OverrideSet): void {
  if (set.size > DEFAULT_LIMITS.maxEntries) throw new Error(`set over the entry limit: ${set.toString()}`);
  for (const { service, version } of set.entries()) {
    if (!isValidService(service) || service !== service.toLowerCase() || !isValidVersion(version)) {
      throw new Error(`grammar-invalid entry ${JSON.stringify({ service, version })}`);
    }
  }
}

describe("codec fuzz", () => {
  it(`survives ${VALUES} random and mutated header values (seed ${SEED.toString(16)})`, () => {
    const next = generator(SEED);
    let winners = 0;
    let problems = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const value = next();
      const other = next();
      const parsed = parseOverrides(value);
      check(parsed.set);
      const read = readCarriers(
        [
          ["x-detour", value],
          ["baggage", other],
          ["baggage", `detour=${value}`],
          ["x-override", other],
          ["virtual-cluster-name", value],
        ],
        ALIASES,
      );
      check(read.set);
      if (!read.set.isEmpty) winners++;
      for (const problem of [...parsed.problems, ...read.problems]) {
        problems++;
        if (!KNOWN_CODES.has(problem.code) || problem.message.length === 0 || problem.message.length > 600) {
          throw new Error(`malformed problem ${JSON.stringify(problem)}`);
        }
      }
      // Writing keeps whatever foreign baggage came in (members compared without OWS).
      const headers: Record<string, string> = { baggage: other };
      writeCarriers(headers, read.set);
      const kept = removeBaggageMembers(headers.baggage, ["detour"]);
      const before = removeBaggageMembers(other, ["detour"]);
      const norm = (b: string | undefined): string =>
        (b ?? "")
          .split(",")
          .map((m) => m.replace(/^[ \t]+|[ \t]+$/g, ""))
          .filter((m) => m !== "")
          .join(",");
      if (norm(kept) !== norm(before)) throw new Error(`foreign baggage changed: ${JSON.stringify(other)}`);
      if (!read.set.isEmpty && !readCarriers(headers).set.equals(read.set)) throw new Error("write/read round trip failed");
      baggageWithOverride(value, parsed.set);
    }
    // The generator must reach both outcomes, or the run proves little.
    expect(winners).toBeGreaterThan(ITERATIONS / 20);
    expect(problems).toBeGreaterThan(ITERATIONS / 2);
  }, 180_000); // generous: the run is bounded by its count, the timeout only guards a hang
});
