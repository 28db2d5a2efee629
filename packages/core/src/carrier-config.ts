import { aliasName, aliasProblems, normalizedAlias, type AliasSpec } from "./aliases.js";
import { configPath, type ConfigProblem } from "./config-problem.js";
import { DetourError } from "./detour-error.js";
import { BAGGAGE_HEADER, BAGGAGE_MEMBER, DETOUR_HEADER } from "./headers.js";
import { DEFAULT_LIMITS, lenientLimits, limitsProblems, resolveLimits, type OverrideLimits } from "./limits.js";
import { EntrySyntax } from "./parse-overrides.js";

/** How carriers are read, as configured (a detour.yaml section, propagator or middleware options). */
export interface CarrierOptions {
  /** Foreign carriers read after x-detour and the baggage member, in this order. Default none. */
  readonly aliases?: readonly AliasSpec[];
  /** Per-carrier limits, each within LIMIT_RANGES; default DEFAULT_LIMITS (32 entries, 1024 bytes). */
  readonly limits?: Partial<OverrideLimits>;
  /** Throw a DetourError when any present carrier has a problem (an edge that rejects rather than guesses). */
  readonly strict?: boolean;
}

declare const checked: unique symbol;

/**
 * Carrier options that passed every rule, in the form readCarriers uses. Made only by
 * createCarrierConfig, so a request path holding one has nothing left to check.
 */
export interface CarrierConfig {
  /** The aliases, header names lower-cased. */
  readonly aliases: readonly AliasSpec[];
  readonly limits: OverrideLimits;
  readonly strict: boolean;
  /** Header names a reader looks up, lower-case: x-detour, baggage, then alias headers. */
  readonly headerNames: readonly string[];
  /** Baggage member keys that carry an override: `detour`, then baggage aliases. */
  readonly baggageKeys: readonly string[];
  readonly [checked]: true;
}

/** Every problem of `options` (an untrusted value), paths from its root. Empty when createCarrierConfig accepts it. */
export function carrierConfigProblems(options: unknown): ConfigProblem[] {
  if (options === undefined) return [];
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return [{ path: [], message: "options must be an object: { aliases, limits }" }];
  }
  const { aliases, limits, strict } = options as { aliases?: unknown; limits?: unknown; strict?: unknown };
  const problems: ConfigProblem[] = [];
  if (Array.isArray(aliases)) {
    aliases.forEach((spec: unknown, index) => problems.push(...aliasProblems(spec, index)));
  } else if (aliases !== undefined) {
    problems.push({ path: ["aliases"], message: "must be a list of { header, format } or { baggage } entries" });
  }
  problems.push(...limitsProblems(limits));
  if (strict !== undefined && typeof strict !== "boolean") problems.push({ path: ["strict"], message: "must be true or false" });
  return problems;
}

/** Where an alias is found among a config's names and how its value is parsed, compiled once. */
export interface AliasStep {
  readonly carrier: string;
  readonly syntax: EntrySyntax;
  /** Index into headerNames (header alias) or baggageKeys (baggage alias). */
  readonly index: number;
  readonly fromBaggage: boolean;
}

/**
 * A config's alias steps sit under this module-private symbol, which also marks the object as
 * made here (checked): a property read per request, where a WeakSet would be a hash lookup.
 */
const STEPS = Symbol("detour.aliasSteps");

/** The compiled alias steps of a config made by createCarrierConfig or carrierConfigFor. */
export function aliasSteps(config: CarrierConfig): readonly AliasStep[] {
  return (config as unknown as { [STEPS]: readonly AliasStep[] })[STEPS];
}

function isCarrierConfig(value: object): value is CarrierConfig {
  return STEPS in value;
}

function build(aliases: readonly AliasSpec[], limits: OverrideLimits, strict: boolean): CarrierConfig {
  const headerNames = [DETOUR_HEADER, BAGGAGE_HEADER];
  const baggageKeys = [BAGGAGE_MEMBER];
  const normalized = aliases.map(normalizedAlias);
  for (const spec of normalized) {
    if ("baggage" in spec) {
      if (!baggageKeys.includes(spec.baggage)) baggageKeys.push(spec.baggage);
    } else if (!headerNames.includes(aliasName(spec))) {
      headerNames.push(aliasName(spec));
    }
  }
  const steps = normalized.map((spec): AliasStep => {
    const carrier = aliasName(spec);
    if ("baggage" in spec) return { carrier, syntax: EntrySyntax.WildcardKey, index: baggageKeys.indexOf(spec.baggage), fromBaggage: true };
    return { carrier, syntax: spec.format === "pairs" ? EntrySyntax.Colon : EntrySyntax.WildcardKey, index: headerNames.indexOf(carrier), fromBaggage: false };
  });
  // The name lists stay unfrozen arrays: they are read on every request, and frozen ones made
  // readCarriers measurably slower (bench/codec.mjs, warm geometric mean ~4.3x against ~5.5x
  // over OTel). The config's type makes them readonly; nothing in core writes them after this.
  const fields: Omit<CarrierConfig, typeof checked> = { aliases: Object.freeze(normalized), limits, strict, headerNames, baggageKeys };
  Object.defineProperty(fields, STEPS, { value: Object.freeze(steps), enumerable: false });
  return Object.freeze(fields) as CarrierConfig;
}

const DEFAULT_CONFIG = build([], DEFAULT_LIMITS, false);

/**
 * Checks carrier options once, where they are configured (config load, propagator construction,
 * middleware registration), and returns them in the form readCarriers uses. Throws DetourError
 * naming every bad field: `DetourPropagator: aliases[0].header 'x-detour-token' is one of
 * detour's own headers: remove this alias` (code `invalid-alias`, `invalid-limits` or
 * `invalid-options`, after the first problem). `where` names the caller in the message.
 */
export function createCarrierConfig(options?: CarrierOptions, where?: string): CarrierConfig {
  if (options === undefined) return DEFAULT_CONFIG;
  if (typeof options === "object" && options !== null && isCarrierConfig(options)) return options;
  const problems = carrierConfigProblems(options);
  const first = problems[0];
  if (first !== undefined) {
    const code = first.path[0] === "aliases" ? "invalid-alias" : first.path[0] === "limits" ? "invalid-limits" : "invalid-options";
    const text = problems.map((problem) => (problem.path.length === 0 ? problem.message : `${configPath(problem.path)} ${problem.message}`)).join("; ");
    throw new DetourError(code, where === undefined ? text : `${where}: ${text}`, { cause: problems });
  }
  return build(options.aliases ?? [], resolveLimits(options.limits), options.strict === true);
}

const lenient = new WeakMap<object, CarrierConfig>();

/**
 * The config a reader uses for `given`: a CarrierConfig as it is; anything else (unchecked
 * options from plain JavaScript) with only its valid aliases, and limits outside their range
 * replaced by the defaults. Never throws: it is called on the request path.
 */
export function carrierConfigFor(given: CarrierConfig | CarrierOptions | undefined): CarrierConfig {
  if (given === undefined) return DEFAULT_CONFIG;
  if (typeof given !== "object" || given === null) return DEFAULT_CONFIG;
  if (isCarrierConfig(given)) return given;
  const known = lenient.get(given);
  if (known !== undefined) return known;
  const aliases = Array.isArray(given.aliases) ? given.aliases.filter((spec: unknown, index) => aliasProblems(spec, index).length === 0) : [];
  const config = build(aliases, lenientLimits(given.limits), given.strict === true);
  lenient.set(given, config);
  return config;
}
