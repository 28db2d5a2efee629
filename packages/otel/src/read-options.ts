import { DetourError, type AliasSpec, type OverrideLimits } from "@detour/core";

/** How incoming carriers are read: the same aliases and limits as the sidecar (detour.yaml). */
export interface ReadOverrideOptions {
  /** Foreign carriers read after x-detour and the baggage member, in this order. Default none. */
  readonly aliases?: readonly AliasSpec[];
  /** Per-carrier limits; default 32 entries and 1024 bytes (DEFAULT_LIMITS). */
  readonly limits?: Partial<OverrideLimits>;
}

// RFC 9110 §5.1 field-name = token; baggage keys are tokens too (W3C baggage "key").
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An RFC 9110 field name (a token). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/**
 * Checks options once, where they are given (propagator construction, setup, plugin
 * registration), so a typo fails at startup with a message rather than on every request.
 * Returns a frozen copy so later mutation by the caller cannot change behaviour mid-flight.
 */
export function validateReadOptions(options: ReadOverrideOptions | undefined, where: string): ReadOverrideOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new DetourError("invalid-options", `${where}: options must be an object`);
  }
  const result: { aliases?: readonly AliasSpec[]; limits?: Partial<OverrideLimits> } = {};
  if (options.aliases !== undefined) {
    if (!Array.isArray(options.aliases)) {
      throw new DetourError("invalid-options", `${where}: aliases must be an array of { header, format } or { baggage } entries`);
    }
    result.aliases = Object.freeze(options.aliases.map((spec: unknown, i) => validateAlias(spec, `${where}: aliases[${i}]`)));
  }
  if (options.limits !== undefined) {
    const limits: { -readonly [K in keyof OverrideLimits]?: number } = {};
    for (const key of ["maxEntries", "maxValueBytes"] as const) {
      const value: unknown = options.limits[key];
      if (value === undefined) continue;
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
        throw new DetourError("invalid-options", `${where}: limits.${key} must be a positive integer, got ${String(value)}`);
      }
      limits[key] = value;
    }
    result.limits = Object.freeze(limits);
  }
  return Object.freeze(result);
}

function validateAlias(spec: unknown, where: string): AliasSpec {
  if (typeof spec === "object" && spec !== null) {
    const candidate = spec as Record<string, unknown>;
    if (typeof candidate.baggage === "string") {
      if (!TOKEN.test(candidate.baggage)) {
        throw new DetourError("invalid-options", `${where}: baggage key '${candidate.baggage}' is not a token: use letters, digits and -._`);
      }
      return Object.freeze({ baggage: candidate.baggage });
    }
    if (typeof candidate.header === "string") {
      if (!TOKEN.test(candidate.header)) {
        throw new DetourError("invalid-options", `${where}: header '${candidate.header}' is not a valid header name`);
      }
      if (candidate.format !== "pairs" && candidate.format !== "wildcard") {
        throw new DetourError("invalid-options", `${where}: format must be "pairs" (svc:ver,...) or "wildcard" (one key meaning *=key)`);
      }
      return Object.freeze({ header: candidate.header.toLowerCase(), format: candidate.format });
    }
  }
  throw new DetourError("invalid-options", `${where}: write { header: "x-override", format: "pairs" | "wildcard" } or { baggage: "okteto-divert" }`);
}
