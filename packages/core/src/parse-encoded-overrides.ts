import type { OverrideLimits } from "./limits.js";
import { MAX_SERVICE_LENGTH, MAX_VERSION_LENGTH } from "./limits.js";
import { ALNUM_LOWER, ALNUM_UPPER, charClass, HYPHEN, OTHER } from "./override-grammar.js";
import { rememberEncodedOverrideText, trustedOverrideSet, type OverrideSet } from "./override-set.js";

const PERCENT = 0x25;
const EQUALS = 0x3d;
const STAR = 0x2a;

/** Reads `%3D`/`%3d` as '=' and `%2C`/`%2c` as ','; 0 for any other escape. */
function escapeAt(text: string, i: number): number {
  const high = text.charCodeAt(i + 1);
  const low = text.charCodeAt(i + 2) | 0x20; // hex letter, lower-cased
  if (high === 0x33 /* 3 */ && low === 0x64 /* d */) return EQUALS;
  if (high === 0x32 /* 2 */ && low === 0x63 /* c */) return 0x2c;
  return 0;
}

/**
 * Fast path for the baggage member as writers produce it: `svc%3Dver%2Csvc%3Dver` with
 * lower-case services, no OWS, no empty or invalid elements, within limits. Parses the encoded
 * text in place (no percent-decoding pass, no intermediate string). Returns undefined for
 * anything else; the caller then decodes and runs the general parser, which produces the same set
 * for every input this accepts (a property test checks it) and reports problems properly.
 */
export function parseEncodedOverrides(raw: string, limits: OverrideLimits): OverrideSet | undefined {
  const length = raw.length;
  if (length === 0 || length > limits.maxValueBytes * 3) return undefined;
  let named: Map<string, string> | undefined;
  let wildcard: string | undefined;
  let count = 0;
  let escapes = 0;
  // Standard means raw === encodeURIComponent(canonical text): upper-case escapes only, no
  // literal '=', no duplicates, wildcard last; the writer can then reuse raw as is.
  let standard = true;
  let i = 0;
  while (i < length) {
    if (++count > limits.maxEntries) return undefined;
    // Service, up to '=' (literal or %3D).
    const start = i;
    let bits = 0;
    let c = 0;
    for (; i < length; i++) {
      c = raw.charCodeAt(i);
      if (c === EQUALS) break;
      if (c === PERCENT) {
        if (i + 2 >= length || escapeAt(raw, i) !== EQUALS) return undefined;
        break;
      }
      bits |= charClass(c);
    }
    if (i >= length) return undefined;
    const serviceEnd = i;
    if (c === PERCENT) {
      if (raw.charCodeAt(i + 2) !== 0x44 /* D */) standard = false;
      escapes++;
      i += 3;
    } else {
      standard = false;
      i += 1;
    }
    // Version, up to %2C or the end.
    const versionStart = i;
    let versionBits = 0;
    for (; i < length; i++) {
      c = raw.charCodeAt(i);
      if (c === PERCENT) {
        if (i + 2 >= length || escapeAt(raw, i) !== 0x2c) return undefined;
        break;
      }
      versionBits |= charClass(c);
    }
    const versionEnd = i;
    if (i < length) {
      if (raw.charCodeAt(i + 2) !== 0x43 /* C */) standard = false;
      escapes++;
      i += 3;
      if (i >= length) return undefined; // trailing comma: leave it to the general parser
    }

    const versionLength = versionEnd - versionStart;
    if (
      (versionBits & OTHER) !== 0 ||
      versionLength < 1 ||
      versionLength > MAX_VERSION_LENGTH ||
      (charClass(raw.charCodeAt(versionStart)) & (ALNUM_LOWER | ALNUM_UPPER)) === 0
    ) {
      return undefined;
    }
    const version = raw.slice(versionStart, versionEnd);
    const serviceLength = serviceEnd - start;
    if (serviceLength === 1 && raw.charCodeAt(start) === STAR) {
      if (wildcard !== undefined) standard = false;
      wildcard = version;
      continue;
    }
    if (
      (bits & ~(ALNUM_LOWER | HYPHEN)) !== 0 ||
      serviceLength < 1 ||
      serviceLength > MAX_SERVICE_LENGTH ||
      charClass(raw.charCodeAt(start)) !== ALNUM_LOWER ||
      charClass(raw.charCodeAt(serviceEnd - 1)) !== ALNUM_LOWER
    ) {
      return undefined;
    }
    if (wildcard !== undefined) standard = false;
    const service = raw.slice(start, serviceEnd);
    named ??= new Map();
    if (named.has(service)) standard = false;
    named.set(service, version);
  }
  // Decoded length: each escape is three characters for one byte; the rest is ASCII here.
  if (length - 2 * escapes > limits.maxValueBytes) return undefined;
  const set = trustedOverrideSet(named ?? new Map(), wildcard);
  if (standard) rememberEncodedOverrideText(set, raw);
  return set;
}
