import { configPath, type ConfigProblem } from "./config-problem.js";
import { DetourError } from "./detour-error.js";

/** Limits applied to one override carrier value (docs/spec.md §3). */
export interface OverrideLimits {
  /** Most entries one carrier value may hold; above it the whole carrier is ignored. */
  readonly maxEntries: number;
  /** Most UTF-8 bytes one carrier value may hold; above it the whole carrier is ignored. */
  readonly maxValueBytes: number;
}

/**
 * 32 entries is far more than any real call chain overrides at once, and 1024 bytes fits 32
 * entries of typical length while keeping the carrier a small fraction of Envoy's default 60 KiB
 * request-header budget. Both are per carrier value (all repeated lines joined).
 */
export const DEFAULT_LIMITS: OverrideLimits = Object.freeze({ maxEntries: 32, maxValueBytes: 1024 });

/**
 * Longest override token (x-detour-token) read, in bytes. A token with a 1 KiB override (the
 * carrier limit), the usual claims and an EdDSA/ES256 signature stays under 2 KiB; 4 KiB is also a
 * browser's per-cookie limit. The edge refuses anything longer before any base64 or JSON work, and
 * applications do not forward it, so both sides of a hop agree on what a token can be.
 */
export const MAX_TOKEN_BYTES = 4096;

/** A service name is a DNS label (RFC 1035 §2.3.4): at most 63 octets. */
export const MAX_SERVICE_LENGTH = 63;

/** A version uses Kubernetes label-value syntax, which allows at most 63 characters. */
export const MAX_VERSION_LENGTH = 63;

/**
 * Most baggage list-members read or kept. The W3C ABNF (`list-member 0*179(...)`) allows 180,
 * and OpenTelemetry JS stops extracting at the same number (BAGGAGE_MAX_NAME_VALUE_PAIRS), so a
 * member OTel would drop is one detour does not read either.
 */
export const BAGGAGE_MAX_MEMBERS = 180;

/**
 * Most bytes of the combined baggage header scanned. W3C requires propagating at least 8192
 * bytes and OpenTelemetry JS stops extracting there (BAGGAGE_MAX_TOTAL_LENGTH); scanning no
 * further also bounds the work an oversized header can cause on the hot path.
 */
export const BAGGAGE_MAX_BYTES = 8192;

/**
 * Most distinct carrier values the parse cache remembers per limits and syntax. Real traffic
 * repeats a handful of override values (every request of a developer's session carries the same
 * one), so a small table catches nearly all of them; when it fills up it is emptied, which bounds
 * memory (values are at most maxValueBytes long) and keeps a stream of unique values at plain
 * parse cost.
 */
export const MAX_CACHED_VALUES = 256;

/**
 * Most characters of untrusted input quoted in a problem message: enough to recognize an entry
 * (a service and a version are at most 63 each), short enough that a hostile header cannot
 * bloat log lines.
 */
export const MAX_QUOTED_CHARS = 64;

/** The values a configurable limit may take, inclusive. */
export interface LimitRange {
  readonly min: number;
  readonly max: number;
}

/**
 * What `limits` may be set to. A thousand entries is more than any topology has services, and
 * 64 KiB is more than Envoy accepts for all request headers together by default (60 KiB): past
 * these a limit no longer bounds anything real, while each parsed value (and the parse cache,
 * MAX_CACHED_VALUES values per limits) still costs up to that much.
 */
export const LIMIT_RANGES: { readonly [K in keyof OverrideLimits]: LimitRange } = Object.freeze({
  maxEntries: Object.freeze({ min: 1, max: 1000 }),
  maxValueBytes: Object.freeze({ min: 1, max: 65_536 }),
});

const LIMIT_KEYS = Object.keys(LIMIT_RANGES) as (keyof OverrideLimits)[];

function inRange(value: unknown, range: LimitRange): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= range.min && value <= range.max;
}

/** What is wrong with a `limits` object (undefined = all defaults), paths from the options' root. */
export function limitsProblems(limits: unknown): ConfigProblem[] {
  if (limits === undefined) return [];
  if (typeof limits !== "object" || limits === null || Array.isArray(limits)) {
    return [{ path: ["limits"], message: "must be { maxEntries, maxValueBytes } (each optional)" }];
  }
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(limits)) {
    const range = Object.hasOwn(LIMIT_RANGES, key) ? LIMIT_RANGES[key as keyof OverrideLimits] : undefined;
    if (range === undefined) {
      problems.push({ path: ["limits", key], message: `is not a limit: the limits are ${LIMIT_KEYS.join(" and ")}` });
    } else if (value !== undefined && !inRange(value, range)) {
      problems.push({ path: ["limits", key], message: `must be an integer from ${range.min} to ${range.max}, got ${quoteValue(value)}` });
    }
  }
  return problems;
}

function quoteValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Fills in defaults, checking the limits: a limit outside LIMIT_RANGES is a programming or
 * config error, so it throws DetourError "invalid-limits" (where limits are configured, at
 * startup) rather than silently disabling a limit.
 */
export function resolveLimits(limits: Partial<OverrideLimits> | undefined): OverrideLimits {
  if (limits === undefined || limits === DEFAULT_LIMITS) return DEFAULT_LIMITS;
  // The same options object (from configuration) resolves to the same limits object, which keys
  // the parse cache (override-cache.ts).
  const known = resolved.get(limits);
  if (known !== undefined) return known;
  const problem = limitsProblems(limits)[0];
  if (problem !== undefined) throw new DetourError("invalid-limits", `${configPath(problem.path)} ${problem.message}`);
  const result = frozenLimits(limits.maxEntries ?? DEFAULT_LIMITS.maxEntries, limits.maxValueBytes ?? DEFAULT_LIMITS.maxValueBytes);
  resolved.set(limits, result);
  return result;
}

/**
 * Fills in defaults without throwing: a limit outside its range counts as its default. For
 * options that reach a request path unchecked (createCarrierConfig checks them at startup).
 */
export function lenientLimits(limits: Partial<OverrideLimits> | undefined): OverrideLimits {
  if (typeof limits !== "object" || limits === null) return DEFAULT_LIMITS;
  const maxEntries = inRange(limits.maxEntries, LIMIT_RANGES.maxEntries) ? limits.maxEntries : DEFAULT_LIMITS.maxEntries;
  const maxValueBytes = inRange(limits.maxValueBytes, LIMIT_RANGES.maxValueBytes) ? limits.maxValueBytes : DEFAULT_LIMITS.maxValueBytes;
  return frozenLimits(maxEntries, maxValueBytes);
}

function frozenLimits(maxEntries: number, maxValueBytes: number): OverrideLimits {
  return maxEntries === DEFAULT_LIMITS.maxEntries && maxValueBytes === DEFAULT_LIMITS.maxValueBytes
    ? DEFAULT_LIMITS
    : Object.freeze({ maxEntries, maxValueBytes });
}

const resolved = new WeakMap<Partial<OverrideLimits>, OverrideLimits>();

/** UTF-8 byte length without TextEncoder/Buffer allocation (core runs outside Node too). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3; // lone surrogate: encoded as U+FFFD (3 bytes)
    } else bytes += 3;
  }
  return bytes;
}
