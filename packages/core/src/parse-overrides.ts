import { DETOUR_HEADER } from "./headers.js";
import { joinLines } from "./header-input.js";
import { MAX_SERVICE_LENGTH, MAX_VERSION_LENGTH, resolveLimits, utf8Length, type OverrideLimits } from "./limits.js";
import {
  ALNUM_LOWER,
  ALNUM_UPPER,
  charClass,
  checkService,
  checkVersion,
  HYPHEN,
  OTHER,
  ServiceCheck,
} from "./override-grammar.js";
import { CacheKind, cacheOverrideSet, cachedOverrideSet } from "./override-cache.js";
import { OverrideSet, trustedOverrideSet } from "./override-set.js";
import { carrierLabel, quoteForMessage, throwIfProblems, type Problem, type ProblemCode } from "./problem.js";

export interface ParseResult {
  /** The valid entries; invalid ones were dropped and are listed in `problems`. */
  readonly set: OverrideSet;
  readonly problems: Problem[];
}

export interface ParseOptions {
  /** Throw a DetourError on the first problem instead of dropping the entry (edge use). */
  readonly strict?: boolean;
  readonly limits?: Partial<OverrideLimits>;
  /** Carrier name used in problems and messages; defaults to "x-detour". */
  readonly carrier?: string;
}

/** How the elements of a carrier value are written. */
export const EntrySyntax = {
  /** `service=version` (x-detour, baggage `detour` member). */
  Equals: 0x3d,
  /** `service:version` (Istio override operator's `x-override`). */
  Colon: 0x3a,
  /** Each element is a bare key meaning `*=key` (virtual-cluster-name, okteto-divert, ...). */
  WildcardKey: -1,
} as const;
export type EntrySyntax = (typeof EntrySyntax)[keyof typeof EntrySyntax];

const SPACE = 0x20;
const TAB = 0x09;
const COMMA_CODE = 0x2c;

/**
 * Parses an override value such as `pricing=v2, cart=pr-7, *=sandbox-3`. Repeated header lines
 * may be passed as an array; they form one list. Lenient by default: invalid entries are
 * dropped one by one and reported, an over-limit value is ignored whole; never throws unless
 * `strict` is set, in which case the first problem throws a DetourError whose `code` is the
 * problem code and whose `cause` is the full Problem list.
 */
export function parseOverrides(value: string | readonly string[] | undefined, options?: ParseOptions): ParseResult {
  const limits = resolveLimits(options?.limits);
  const text = joinLines(value);
  const cached = text.length <= limits.maxValueBytes ? cachedOverrideSet(limits, CacheKind.Plain, text) : undefined;
  if (cached !== undefined) return { set: cached, problems: [] };
  const result = parseCarrierValue(text, options?.carrier ?? DETOUR_HEADER, EntrySyntax.Equals, limits);
  if (result.problems.length === 0) {
    if (!result.set.isEmpty) cacheOverrideSet(limits, CacheKind.Plain, text, result.set);
  } else if (options?.strict === true) {
    throwIfProblems(result.problems);
  }
  return result;
}

function isOws(code: number): boolean {
  return code === SPACE || code === TAB;
}

/**
 * The one parser behind every carrier. One left-to-right pass over the value with indexOf and
 * character tables: linear time, no regular expressions, no allocation for skipped elements.
 */
export function parseCarrierValue(
  text: string,
  carrier: string,
  syntax: EntrySyntax,
  limits: OverrideLimits,
): ParseResult {
  const length = text.length;
  if (length === 0) return { set: OverrideSet.EMPTY, problems: [] };
  // UTF-16 length <= UTF-8 bytes <= 3 * UTF-16 length, so the exact count is rarely needed.
  if (length * 3 > limits.maxValueBytes) {
    const bytes = utf8Length(text);
    if (bytes > limits.maxValueBytes) {
      return overLimit(
        "value-too-long",
        `${carrierLabel(carrier)} value is ${bytes} bytes, over the limit of ${limits.maxValueBytes}: the whole value is ignored (never truncated); shorten it or raise limits.maxValueBytes`,
        carrier,
      );
    }
  }

  let named: Map<string, string> | undefined;
  let wildcard: string | undefined;
  let problems: Problem[] | undefined;
  // True while the text is exactly the canonical form of the set being built (no OWS, no empty
  // or invalid elements, lower-case services, no duplicates, wildcard last): then the input
  // string itself becomes the set's canonical text, saving a rebuild on the write path.
  let canonical = syntax === EntrySyntax.Equals;
  let count = 0;
  let i = 0;
  while (i < length) {
    let c = text.charCodeAt(i);
    if (c === COMMA_CODE || isOws(c)) {
      // Leading OWS or an empty list element: ignored (RFC 9110 §5.6.1).
      canonical = false;
      i++;
      continue;
    }
    if (++count > limits.maxEntries) {
      return overLimit(
        "too-many-entries",
        `${carrierLabel(carrier)} has more than ${limits.maxEntries} entries: the whole value is ignored (never truncated); send at most ${limits.maxEntries} or raise limits.maxEntries`,
        carrier,
      );
    }

    // One pass over the element: find the separator (or the comma) while OR-ing character classes.
    const start = i;
    let bits = 0;
    while (i < length) {
      c = text.charCodeAt(i);
      if (c === syntax || c === COMMA_CODE) break;
      bits |= charClass(c);
      i++;
    }
    let keyEnd = i;
    while (keyEnd > start && isOws(text.charCodeAt(keyEnd - 1))) keyEnd--;

    if (syntax === EntrySyntax.WildcardKey || c !== syntax || i === length) {
      if (syntax === EntrySyntax.WildcardKey) {
        if (checkVersion(text, start, keyEnd)) {
          wildcard = text.slice(start, keyEnd);
        } else {
          const entry = text.slice(start, keyEnd);
          (problems ??= []).push({
            code: "invalid-version",
            message: `${carrierLabel(carrier)} value ${quoteForMessage(entry)} is not a valid key: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
            carrier,
            entry,
          });
        }
      } else {
        const entry = text.slice(start, keyEnd);
        const separator = String.fromCharCode(syntax);
        canonical = false;
        (problems ??= []).push({
          code: "missing-equals",
          message: `${carrierLabel(carrier)} entry ${quoteForMessage(entry)} has no '${separator}': write service${separator}version`,
          carrier,
          entry,
        });
      }
      i++; // past the comma
      continue;
    }

    // Version: after the separator and its OWS, up to the comma.
    const separatorAt = i;
    i++;
    let versionStart = i;
    while (versionStart < length && isOws(text.charCodeAt(versionStart))) versionStart++;
    i = versionStart;
    let versionBits = 0;
    while (i < length) {
      c = text.charCodeAt(i);
      if (c === COMMA_CODE) break;
      versionBits |= charClass(c);
      i++;
    }
    let end = i;
    while (end > versionStart && isOws(text.charCodeAt(end - 1))) end--;
    // OWS around the separator or before the comma, or a trailing comma: not canonical.
    if (keyEnd !== separatorAt || versionStart !== separatorAt + 1 || end !== i || i === length - 1) canonical = false;
    i++; // past the comma

    let kind: ServiceCheck;
    const serviceLength = keyEnd - start;
    if (
      (bits & ~(ALNUM_LOWER | HYPHEN)) === 0 &&
      serviceLength <= MAX_SERVICE_LENGTH &&
      charClass(text.charCodeAt(start)) === ALNUM_LOWER &&
      charClass(text.charCodeAt(keyEnd - 1)) === ALNUM_LOWER
    ) {
      kind = ServiceCheck.Lower; // the common case, decided by the single pass above
    } else {
      kind = checkService(text, start, keyEnd);
    }
    if (kind === ServiceCheck.Invalid) {
      const entry = text.slice(start, end);
      canonical = false;
      (problems ??= []).push({
        code: "invalid-service",
        message: `${carrierLabel(carrier)} entry ${quoteForMessage(entry)} has an invalid service ${quoteForMessage(text.slice(start, keyEnd))}: use '*' or a DNS label (letters, digits and '-', at most 63 characters)`,
        carrier,
        entry,
      });
      continue;
    }
    const versionLength = end - versionStart;
    const versionValid =
      (versionBits & OTHER) === 0 && versionLength >= 1 && versionLength <= MAX_VERSION_LENGTH
        ? (charClass(text.charCodeAt(versionStart)) & (ALNUM_LOWER | ALNUM_UPPER)) !== 0
        : checkVersion(text, versionStart, end);
    if (!versionValid) {
      const entry = text.slice(start, end);
      canonical = false;
      (problems ??= []).push({
        code: "invalid-version",
        message: `${carrierLabel(carrier)} entry ${quoteForMessage(entry)} has an invalid version ${quoteForMessage(text.slice(versionStart, end))}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
        carrier,
        entry,
      });
      continue;
    }
    const version = text.slice(versionStart, end);
    if (kind === ServiceCheck.Wildcard) {
      if (wildcard !== undefined) canonical = false;
      wildcard = version;
    } else {
      if (wildcard !== undefined) canonical = false; // canonical text lists the wildcard last
      const service = text.slice(start, keyEnd);
      named ??= new Map();
      if (kind === ServiceCheck.Mixed) {
        canonical = false;
        named.set(service.toLowerCase(), version);
      } else {
        if (named.has(service)) canonical = false;
        named.set(service, version);
      }
    }
  }

  if (named === undefined && wildcard === undefined) return { set: OverrideSet.EMPTY, problems: problems ?? [] };
  const set = trustedOverrideSet(named ?? EMPTY_MAP, wildcard, canonical ? text : undefined);
  return { set, problems: problems ?? [] };
}

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();

function overLimit(code: ProblemCode, message: string, carrier: string): ParseResult {
  return { set: OverrideSet.EMPTY, problems: [{ code, message, carrier }] };
}
