import { DetourError } from "./detour-error.js";
import { MAX_QUOTED_CHARS } from "./limits.js";

/**
 * Why an override entry or a whole carrier was dropped. Codes are stable API (match on them,
 * count them in metrics); messages are for people and may change.
 */
export type ProblemCode =
  /** An entry has no `=` (or no `:` in a `pairs` alias). */
  | "missing-equals"
  /** The service is neither `*` nor a DNS label. */
  | "invalid-service"
  /** The version is not 1-63 letters, digits, `.`, `_`, `-` starting with a letter or digit. */
  | "invalid-version"
  /**
   * Reserved. Empty list elements (`a=1,,b=2`, a trailing comma) are ignored without a problem,
   * as RFC 9110 §5.6.1 requires of list-based fields; the code stays so callers can match it.
   */
  | "empty-entry"
  /** The carrier has more entries than `limits.maxEntries`; the whole carrier was ignored. */
  | "too-many-entries"
  /** The carrier is longer than `limits.maxValueBytes`; the whole carrier was ignored. */
  | "value-too-long"
  /** A baggage member value has a `%` not followed by two hex digits; the member was ignored. */
  | "bad-percent-encoding"
  /** A baggage member with one of our keys is malformed (no `=`); it was ignored. */
  | "bad-baggage-member"
  /**
   * Our baggage member sits past the 180-member / 8192-byte window that detour and
   * OpenTelemetry read, so it was not read.
   */
  | "baggage-over-limit";

export interface Problem {
  readonly code: ProblemCode;
  /** What was wrong and what to do, e.g. "x-detour entry 'pricing' has no '=': write service=version". */
  readonly message: string;
  /** The carrier it came from: "x-detour", "baggage", or an alias name ("x-override", "baggage:okteto-divert"). */
  readonly carrier?: string;
  /** The offending entry as received (after trimming OWS), when the problem is about one entry. */
  readonly entry?: string;
}

/**
 * Quotes untrusted text for a message: short and printable ASCII as-is, anything else escaped
 * and cut, so a hostile header cannot put control characters or kilobytes into a log line.
 */
export function quoteForMessage(text: string): string {
  let printable = text.length <= MAX_QUOTED_CHARS;
  for (let i = 0; printable && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x27 /* ' */ || c === 0x5c /* \ */) printable = false;
  }
  if (printable) return `'${text}'`;
  const cut = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return JSON.stringify(cut);
}

/** How a carrier is named in messages: "x-detour", "baggage member 'detour'", ... */
export function carrierLabel(carrier: string): string {
  if (carrier === "baggage") return "baggage member 'detour'";
  if (carrier.startsWith("baggage:")) return `baggage member '${carrier.slice(8)}'`;
  return carrier;
}

/** Throws the strict-mode error for a non-empty problem list. */
export function throwIfProblems(problems: readonly Problem[]): void {
  const first = problems[0];
  if (first === undefined) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
  throw new DetourError(first.code, first.message + more, { cause: problems });
}
