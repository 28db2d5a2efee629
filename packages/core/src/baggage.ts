import { BAGGAGE_MEMBER } from "./headers.js";
import { BAGGAGE_MAX_BYTES, BAGGAGE_MAX_MEMBERS } from "./limits.js";
import { encodedOverrideText, type OverrideSet } from "./override-set.js";

/*
 * W3C Baggage (HTTP_HEADER_FORMAT.md) handling limited to what detour needs: find our members,
 * and add/replace/remove them while every other list-member is kept byte-for-byte (only the OWS
 * around commas, which is not part of a member, is normalized when the header is rebuilt).
 * Nothing here throws on malformed input: a member we cannot read is reported or left alone.
 *
 *   baggage-string = list-member 0*179( OWS "," OWS list-member )
 *   list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
 */

const SPACE = 0x20;
const TAB = 0x09;
const EQUALS = 0x3d;
const SEMICOLON = 0x3b;
const PERCENT = 0x25;

function isOws(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** Where a member with `key` starts its value, -1 if the member is not `key`, -2 if it is `key` without `=`. */
function valueStartFor(text: string, start: number, end: number, key: string): number {
  if (end - start < key.length || !text.startsWith(key, start)) return -1;
  let p = start + key.length;
  // A key is an RFC 7230 token: it cannot contain OWS, '=' or ';', so one of those (or the end)
  // right after `key` means the member's key is exactly `key`, not a longer one.
  if (p < end) {
    const c = text.charCodeAt(p);
    if (c !== EQUALS && c !== SEMICOLON && !isOws(c)) return -1;
  }
  while (p < end && isOws(text.charCodeAt(p))) p++;
  if (p === end || text.charCodeAt(p) !== EQUALS) return -2;
  p++;
  while (p < end && isOws(text.charCodeAt(p))) p++;
  return p;
}

/** What one key's member held, as found by scanBaggage. */
export type MemberFinding =
  | { readonly kind: "absent" }
  | { readonly kind: "value"; readonly raw: string }
  | { readonly kind: "malformed"; readonly member: string }
  | { readonly kind: "beyond-limit" };

const ABSENT: MemberFinding = { kind: "absent" };
const BEYOND: MemberFinding = { kind: "beyond-limit" };

/**
 * Finds the list-members named `keys` in a (combined) baggage header. The last member with a key
 * wins, as in OpenTelemetry. Only the window OpenTelemetry reads is searched (first
 * BAGGAGE_MAX_MEMBERS members within BAGGAGE_MAX_BYTES), which also bounds the work; a key that
 * only appears past it is reported as "beyond-limit". Values are returned raw (percent-encoded).
 */
export function scanBaggage(baggage: string, keys: readonly string[]): MemberFinding[] {
  const found: MemberFinding[] = keys.map(() => ABSENT);
  let wanted = false;
  for (const key of keys) if (baggage.includes(key)) wanted = true;
  if (!wanted) return found;

  const length = baggage.length;
  let members = 0;
  let pos = 0;
  while (pos < length) {
    let comma = baggage.indexOf(",", pos);
    if (comma === -1) comma = length;
    let start = pos;
    let end = comma;
    pos = comma + 1;
    while (start < end && isOws(baggage.charCodeAt(start))) start++;
    while (end > start && isOws(baggage.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    if (++members > BAGGAGE_MAX_MEMBERS || end > BAGGAGE_MAX_BYTES) {
      markBeyond(baggage, start, keys, found);
      break;
    }
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as string;
      const valueStart = valueStartFor(baggage, start, end, key);
      if (valueStart === -1) continue;
      if (valueStart === -2) {
        found[k] = { kind: "malformed", member: baggage.slice(start, end) };
        continue;
      }
      let valueEnd = baggage.indexOf(";", valueStart);
      if (valueEnd === -1 || valueEnd > end) valueEnd = end;
      while (valueEnd > valueStart && isOws(baggage.charCodeAt(valueEnd - 1))) valueEnd--;
      found[k] = { kind: "value", raw: baggage.slice(valueStart, valueEnd) };
    }
  }
  return found;
}

/** Marks keys that still appear as a member key after the window (a value merely mentioning one does not count). */
function markBeyond(baggage: string, from: number, keys: readonly string[], found: MemberFinding[]): void {
  let pending = false;
  for (let k = 0; k < keys.length; k++) {
    if (found[k]?.kind === "absent" && baggage.includes(keys[k] as string, from)) pending = true;
  }
  if (!pending) return;
  const length = baggage.length;
  let pos = from;
  while (pos < length) {
    let comma = baggage.indexOf(",", pos);
    if (comma === -1) comma = length;
    let start = pos;
    const end = comma;
    pos = comma + 1;
    while (start < end && isOws(baggage.charCodeAt(start))) start++;
    for (let k = 0; k < keys.length; k++) {
      if (found[k]?.kind === "absent" && valueStartFor(baggage, start, end, keys[k] as string) !== -1) found[k] = BEYOND;
    }
  }
}

/**
 * Percent-decodes a baggage value (RFC 3986 §2.1, UTF-8). Returns undefined when a `%` is not
 * followed by two hex digits. Invalid UTF-8 decodes to U+FFFD as W3C requires; `+` stays `+`.
 */
export function decodeBaggageValue(raw: string): string | undefined {
  return decodeBaggageValueDetailed(raw)?.value;
}

export interface DecodedBaggageValue {
  readonly value: string;
  /**
   * True when `raw` is exactly what encodeBaggageValue would write for `value` provided `value`
   * is a canonical override text (its only escapes are %3D and %2C, and no literal `=`): the
   * writer can then reuse `raw` instead of encoding again.
   */
  readonly standard: boolean;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** decodeBaggageValue plus whether the encoding was the standard one (see DecodedBaggageValue). */
export function decodeBaggageValueDetailed(raw: string): DecodedBaggageValue | undefined {
  let percent = raw.indexOf("%");
  if (percent === -1) return { value: raw, standard: !raw.includes("=") };
  // ASCII escapes (all an override can contain) are decoded here without decodeURIComponent,
  // which is several times slower for short values; multi-byte UTF-8 goes the slow way.
  let value = "";
  let last = 0;
  let standard = true;
  while (percent !== -1) {
    const high = percent + 2 < raw.length ? hexValue(raw.charCodeAt(percent + 1)) : -1;
    const low = high === -1 ? -1 : hexValue(raw.charCodeAt(percent + 2));
    if (low === -1) return undefined;
    const byte = high * 16 + low;
    if (byte >= 0x80) return decodeMultiByte(raw);
    const escape = raw.charCodeAt(percent + 1) * 256 + raw.charCodeAt(percent + 2);
    if (escape !== 0x3344 /* "3D" */ && escape !== 0x3243 /* "2C" */) standard = false;
    value += raw.slice(last, percent) + String.fromCharCode(byte);
    last = percent + 3;
    percent = raw.indexOf("%", last);
  }
  value += raw.slice(last);
  if (standard && raw.includes("=")) standard = false;
  return { value, standard };
}

function decodeMultiByte(raw: string): DecodedBaggageValue | undefined {
  for (let percent = raw.indexOf("%"); percent !== -1; percent = raw.indexOf("%", percent + 3)) {
    if (percent + 2 >= raw.length || hexValue(raw.charCodeAt(percent + 1)) === -1 || hexValue(raw.charCodeAt(percent + 2)) === -1) {
      return undefined;
    }
  }
  try {
    return { value: decodeURIComponent(raw), standard: false };
  } catch {
    return { value: decodeLossy(raw), standard: false };
  }
}

function decodeLossy(raw: string): string {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT) {
      bytes.push(hexValue(raw.charCodeAt(i + 1)) * 16 + hexValue(raw.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of encoder.encode(raw[i])) bytes.push(b);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(new Uint8Array(bytes));
}

/**
 * Percent-encodes a value the way OpenTelemetry's W3CBaggagePropagator does
 * (`encodeURIComponent`), so `=` and `,` become `%3D` and `%2C` and a value written by either
 * side reads back identically on the other.
 */
export function encodeBaggageValue(value: string): string {
  return encodeURIComponent(value);
}

/**
 * Removes every list-member whose key is one of `keys` (key-only members included). Other
 * members, valid or not, are kept byte-for-byte and in order. Returns the input unchanged when
 * nothing is removed, and undefined when nothing is left (remove the header).
 */
export function removeBaggageMembers(baggage: string | undefined, keys: readonly string[]): string | undefined {
  if (baggage === undefined) return undefined;
  let mentioned = false;
  for (const key of keys) if (baggage.includes(key)) mentioned = true;
  if (!mentioned) return hasContent(baggage) ? baggage : undefined;

  const length = baggage.length;
  let kept = "";
  let removed = false;
  let pos = 0;
  while (pos < length) {
    let comma = baggage.indexOf(",", pos);
    if (comma === -1) comma = length;
    let start = pos;
    let end = comma;
    pos = comma + 1;
    while (start < end && isOws(baggage.charCodeAt(start))) start++;
    while (end > start && isOws(baggage.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    let ours = false;
    for (const key of keys) {
      if (valueStartFor(baggage, start, end, key) !== -1) {
        ours = true;
        break;
      }
    }
    if (ours) {
      removed = true;
      continue;
    }
    const member = baggage.slice(start, end);
    kept = kept.length === 0 ? member : `${kept},${member}`;
  }
  if (!removed) return hasContent(baggage) ? baggage : undefined;
  return kept.length === 0 ? undefined : kept;
}

function hasContent(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isOws(c) && c !== 0x2c /* , */) return true;
  }
  return false;
}

/**
 * The new baggage header value carrying `set` (pure; undefined = remove the header). Our member
 * goes first and replaces any earlier `detour` members: receivers that cut baggage at their
 * limits (OpenTelemetry keeps the first 180 members / 8192 bytes) still see it. An empty set
 * removes our member and keeps the rest.
 */
export function baggageWithOverride(baggage: string | undefined, set: OverrideSet): string | undefined {
  if (set.isEmpty) return removeBaggageMembers(baggage, OWN_KEYS);
  const encoded = encodedOverrideText(set, encodeBaggageValue);
  // The common hop-to-hop case: the header already starts with exactly our member (we put it
  // there upstream) and holds no other `detour`: nothing to rebuild. Checked without building
  // the member string.
  if (baggage !== undefined && baggage.startsWith(MEMBER_PREFIX) && baggage.startsWith(encoded, MEMBER_PREFIX.length)) {
    const end = MEMBER_PREFIX.length + encoded.length;
    if (baggage.length === end) return baggage;
    if (baggage.charCodeAt(end) === 0x2c /* , */ && !baggage.includes(BAGGAGE_MEMBER, end)) return baggage;
  }
  const member = MEMBER_PREFIX + encoded;
  const rest = removeBaggageMembers(baggage, OWN_KEYS);
  return rest === undefined ? member : `${member},${rest}`;
}

const MEMBER_PREFIX = `${BAGGAGE_MEMBER}=`;
const OWN_KEYS: readonly string[] = [BAGGAGE_MEMBER];
