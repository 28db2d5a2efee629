import { decodeBaggageValueDetailed, encodeBaggageValue, scanBaggage, type MemberFinding } from "./baggage.js";
import { BAGGAGE_HEADER, BAGGAGE_MEMBER, DETOUR_HEADER } from "./headers.js";
import { readHeaderValues, type HeaderInput } from "./header-input.js";
import { aliasSteps, carrierConfigFor, type CarrierConfig } from "./carrier-config.js";
import type { OverrideLimits } from "./limits.js";
import { encodedOverrideText, OverrideSet, rememberEncodedOverrideText } from "./override-set.js";
import { parseEncodedOverrides } from "./parse-encoded-overrides.js";
import { CacheKind, cacheOverrideSet, cachedOverrideSet, detachedCopy } from "./override-cache.js";
import { EntrySyntax, parseCarrierValue } from "./parse-overrides.js";
import { DetourError } from "./detour-error.js";
import { carrierLabel, quoteForMessage, throwIfProblems, type Problem } from "./problem.js";

/** What one present carrier said. */
export interface CarrierReport {
  /** "x-detour", "baggage" (the `detour` member) or an alias name (see aliasName). */
  readonly carrier: string;
  /** The value as received: header lines joined with ","; for baggage the member value still percent-encoded. */
  readonly raw: string;
  /** The valid entries it held (empty when it was ignored whole). */
  readonly set: OverrideSet;
  readonly problems: readonly Problem[];
}

export interface CarrierReadResult {
  /** The winning carrier's set, or the empty set. */
  readonly set: OverrideSet;
  /** The winning carrier's name, undefined when no carrier held a valid entry. */
  readonly source: string | undefined;
  /** Every problem of every carrier, in precedence order. */
  readonly problems: readonly Problem[];
  /** Carriers whose non-empty set disagrees with the winner (the sidecar rewrites and counts them). */
  readonly conflicts: readonly string[];
  /** Every present carrier in precedence order. */
  readonly carriers: readonly CarrierReport[];
}

/** An answer without problems, and the config and header values it was read from. */
interface RecentRead {
  readonly config: CarrierConfig;
  readonly values: readonly (string | undefined)[];
  readonly result: CarrierReadResult;
}

/**
 * The latest answers, newest first. More than one, because one request is often read twice the
 * same way by two readers with their own value lists: with an OpenTelemetry SDK, the propagator
 * (for instrumentation-http) and the framework glue (which adds the token header); one slot would
 * make each evict the other's answer on every request.
 */
const recentReads: RecentRead[] = [];
const RECENT_READS = 4;

function sameValues(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Reads every override carrier from request headers and picks the winner: x-detour, then the
 * baggage `detour` member, then the aliases in configured order; the first carrier holding at
 * least one valid entry wins whole (sets are never merged across carriers). Over-limit or
 * undecodable carriers are ignored and reported. `config` comes from createCarrierConfig, which
 * checked it at startup; default: no aliases, DEFAULT_LIMITS. Never throws unless the config is
 * `strict`, not even for unchecked options from plain JavaScript (their invalid aliases are
 * skipped and out-of-range limits read as the defaults).
 *
 * Results are frozen, so they can be shared: a request carrying the same carrier values as one
 * of the last few reads (the common case: a run of requests with the same override, or with none)
 * gets that result back without any parsing, as long as it had no problems.
 */
export function readCarriers(headers: HeaderInput, config?: CarrierConfig): CarrierReadResult {
  const checked = carrierConfigFor(config);
  return readCheckedValues(readHeaderValues(headers, checked.headerNames), checked);
}

/**
 * readCarriers for header values read already: `values[i]` is the value of
 * `config.headerNames[i]` (lines joined with ","; undefined when absent), as readHeaderValues
 * returns them. For callers that have the values without scanning every header name, such as
 * framework glue reading Node's `IncomingMessage.headers`, whose names Node lower-cases. Entries
 * after the config's names are ignored (they only keep the previous result from being reused
 * when they differ); entries that are not strings read as absent. `values` that is not an array
 * throws DetourError "invalid-values".
 */
export function readCarrierValues(values: readonly (string | undefined)[], config?: CarrierConfig): CarrierReadResult {
  return readCheckedValues(stringValues(values), carrierConfigFor(config));
}

/** `values` with every entry that is not a string read as absent, as readHeaderValues reads them. */
function stringValues(values: readonly unknown[]): readonly (string | undefined)[] {
  if (!Array.isArray(values)) {
    throw new DetourError("invalid-values", `readCarrierValues: values must be an array of header values (string or undefined), got ${typeof values}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== undefined && typeof values[i] !== "string") {
      return values.map((value) => (typeof value === "string" ? value : undefined));
    }
  }
  return values as readonly (string | undefined)[];
}

function readCheckedValues(values: readonly (string | undefined)[], checked: CarrierConfig): CarrierReadResult {
  for (const recent of recentReads) {
    if (recent.config === checked && recent.values.length === values.length && sameValues(recent.values, values)) return recent.result;
  }
  const result = freezeResult(parseValues(values, checked));
  if (result.problems.length === 0) {
    if (recentReads.length === RECENT_READS) recentReads.pop();
    recentReads.unshift({ config: checked, values: [...values], result });
  }
  return result;
}

function freezeResult(result: CarrierReadResult): CarrierReadResult {
  for (const report of result.carriers) Object.freeze(report.problems);
  for (const report of result.carriers) Object.freeze(report);
  Object.freeze(result.carriers);
  Object.freeze(result.conflicts);
  Object.freeze(result.problems);
  return Object.freeze(result);
}

function parseValues(values: readonly (string | undefined)[], checked: CarrierConfig): CarrierReadResult {
  const limits = checked.limits;
  const carriers: CarrierReport[] = [];

  const detour = values[0];
  if (detour !== undefined) carriers.push(parseReport(DETOUR_HEADER, detour, EntrySyntax.Equals, limits));

  const baggage = values[1];
  let findings: MemberFinding[] | undefined;
  if (baggage !== undefined) {
    findings = scanBaggage(baggage, checked.baggageKeys);
    const finding = findings[0];
    const first = carriers[0];
    if (
      first !== undefined &&
      !first.set.isEmpty &&
      finding?.kind === "value" &&
      finding.raw === encodedOverrideText(first.set, encodeBaggageValue)
    ) {
      // Both canonical carriers say the same thing (our writer keeps them in step): reuse the
      // x-detour set instead of decoding again; the encoding is cached for the write path.
      carriers.push({ carrier: BAGGAGE_HEADER, raw: finding.raw, set: first.set, problems: [] });
    } else {
      const report = baggageReport(BAGGAGE_HEADER, finding, EntrySyntax.Equals, limits);
      if (report !== undefined) carriers.push(report);
    }
  }

  for (const step of aliasSteps(checked)) {
    if (step.fromBaggage) {
      if (findings === undefined) continue;
      const report = baggageReport(step.carrier, findings[step.index], step.syntax, limits);
      if (report !== undefined) carriers.push(report);
    } else {
      const raw = values[step.index];
      if (raw !== undefined) carriers.push(parseReport(step.carrier, raw, step.syntax, limits));
    }
  }

  let winner: CarrierReport | undefined;
  let problems: Problem[] | undefined;
  let conflicts: string[] | undefined;
  for (const report of carriers) {
    if (report.problems.length !== 0) (problems ??= []).push(...report.problems);
    if (report.set.isEmpty) continue;
    if (winner === undefined) winner = report;
    else if (!report.set.equals(winner.set)) (conflicts ??= []).push(report.carrier);
  }
  if (checked.strict && problems !== undefined) throwIfProblems(problems);
  return {
    set: winner?.set ?? OverrideSet.EMPTY,
    source: winner?.carrier,
    problems: problems ?? [],
    conflicts: conflicts ?? [],
    carriers,
  };
}

function parseReport(carrier: string, raw: string, syntax: EntrySyntax, limits: OverrideLimits): CarrierReport {
  // Over-long values are never cached, so do not hash them.
  if (syntax === EntrySyntax.Equals && raw.length <= limits.maxValueBytes) {
    const cached = cachedOverrideSet(limits, CacheKind.Plain, raw);
    if (cached !== undefined) return { carrier, raw, set: cached, problems: [] };
  }
  const { set, problems } = parseCarrierValue(raw, carrier, syntax, limits);
  if (syntax === EntrySyntax.Equals && problems.length === 0 && !set.isEmpty) {
    cacheOverrideSet(limits, CacheKind.Plain, raw, set);
  }
  return { carrier, raw, set, problems };
}

function baggageReport(
  carrier: string,
  finding: MemberFinding | undefined,
  syntax: EntrySyntax,
  limits: OverrideLimits,
): CarrierReport | undefined {
  if (finding === undefined || finding.kind === "absent") return undefined;
  const label = carrierLabel(carrier);
  if (finding.kind === "malformed") {
    return {
      carrier,
      raw: finding.member,
      set: OverrideSet.EMPTY,
      problems: [
        {
          code: "bad-baggage-member",
          message: `${label} ${quoteForMessage(finding.member)} has no '=': write ${carrier === BAGGAGE_HEADER ? BAGGAGE_MEMBER : carrier.slice(8)}=<percent-encoded value>`,
          carrier,
          entry: finding.member,
        },
      ],
    };
  }
  if (finding.kind === "beyond-limit") {
    return {
      carrier,
      raw: "",
      set: OverrideSet.EMPTY,
      problems: [
        {
          code: "baggage-over-limit",
          message: `${label} comes after the first 180 baggage members or 8192 bytes and was not read: put it earlier or trim the baggage header`,
          carrier,
        },
      ],
    };
  }
  const raw = finding.raw;
  if (syntax === EntrySyntax.Equals && raw.length <= 3 * limits.maxValueBytes) {
    const cached = cachedOverrideSet(limits, CacheKind.Encoded, raw);
    if (cached !== undefined) return { carrier, raw, set: cached, problems: [] };
  }
  // `raw` is a slice of the whole baggage header; what may be cached must not keep that alive.
  const own = detachedCopy(raw);
  if (syntax === EntrySyntax.Equals) {
    const fast = parseEncodedOverrides(own, limits);
    if (fast !== undefined) {
      cacheOverrideSet(limits, CacheKind.Encoded, own, fast);
      return { carrier, raw, set: fast, problems: [] };
    }
  }
  const decoded = decodeBaggageValueDetailed(own);
  if (decoded === undefined) {
    return {
      carrier,
      raw,
      set: OverrideSet.EMPTY,
      problems: [
        {
          code: "bad-percent-encoding",
          message: `${label} value ${quoteForMessage(raw)} has a '%' not followed by two hex digits: percent-encode the value (e.g. '=' as %3D, ',' as %2C)`,
          carrier,
          entry: raw,
        },
      ],
    };
  }
  const { set, problems } = parseCarrierValue(decoded.value, carrier, syntax, limits);
  // Canonical text in standard encoding (what our writer and OTel produce): the raw value is the
  // encoded form, so writing the set back reuses it.
  if (syntax === EntrySyntax.Equals && problems.length === 0 && !set.isEmpty) {
    if (decoded.standard && set.toString() === decoded.value) rememberEncodedOverrideText(set, own);
    cacheOverrideSet(limits, CacheKind.Encoded, own, set);
  }
  return { carrier, raw, set, problems };
}
