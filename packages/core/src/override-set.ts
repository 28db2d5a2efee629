import { DetourError } from "./detour-error.js";
import { isValidVersion, normalizeService, checkService, ServiceCheck } from "./override-grammar.js";
import { quoteForMessage } from "./problem.js";

/** One override: `service` is a lower-case DNS label, or `*` for the wildcard (sandbox) entry. */
export interface OverrideEntry {
  readonly service: string;
  readonly version: string;
}

export const WILDCARD = "*";

let encodedOf: (set: OverrideSet, encode: (text: string) => string) => string;
let rememberEncoded: (set: OverrideSet, encoded: string) => void;

let createTrusted: (
  named: ReadonlyMap<string, string>,
  wildcard: string | undefined,
  text: string | undefined,
) => OverrideSet;

/**
 * An immutable override set: service → version plus an optional wildcard `*=key`.
 * Named entries keep first-insertion order (a later duplicate replaces the version in place);
 * the wildcard is always listed last, so the canonical text reads "these services, then every
 * other one".
 */
export class OverrideSet {
  static readonly EMPTY: OverrideSet = new OverrideSet(new Map(), undefined);

  readonly #named: ReadonlyMap<string, string>;
  readonly #wildcard: string | undefined;
  #entries: readonly OverrideEntry[] | undefined;
  #text: string | undefined;
  /** Cache of the percent-encoded canonical text (the baggage member value). */
  #encoded: string | undefined;

  static {
    createTrusted = (named, wildcard, text) =>
      named.size === 0 && wildcard === undefined ? OverrideSet.EMPTY : new OverrideSet(named, wildcard, text);
    encodedOf = (set, encode) => (set.#encoded ??= encode(set.toString()));
    rememberEncoded = (set, encoded) => {
      if (set !== OverrideSet.EMPTY) set.#encoded = encoded;
    };
  }

  private constructor(named: ReadonlyMap<string, string>, wildcard: string | undefined, text?: string) {
    this.#named = named;
    this.#wildcard = wildcard;
    this.#text = text;
  }

  /**
   * Builds a set from entries or `[service, version]` pairs, validating each by the wire grammar
   * (services are lower-cased; a later duplicate wins). Throws DetourError ("invalid-service",
   * "invalid-version") on invalid input: this is for code and configuration, not request data;
   * use parseOverrides for that.
   */
  static fromEntries(entries: Iterable<OverrideEntry | readonly [string, string]>): OverrideSet {
    const named = new Map<string, string>();
    let wildcard: string | undefined;
    for (const item of entries) {
      const service: unknown = isPair(item) ? item[0] : item.service;
      const version: unknown = isPair(item) ? item[1] : item.version;
      if (typeof service !== "string" || checkService(service, 0, service.length) === ServiceCheck.Invalid) {
        throw new DetourError(
          "invalid-service",
          `override service ${quoteForMessage(String(service))} is invalid: use '*' or a DNS label (letters, digits, '-', at most 63 characters)`,
        );
      }
      if (typeof version !== "string" || !isValidVersion(version)) {
        throw new DetourError(
          "invalid-version",
          `override version ${quoteForMessage(String(version))} for ${quoteForMessage(service)} is invalid: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
        );
      }
      if (service === WILDCARD) wildcard = version;
      else named.set(normalizeService(service), version);
    }
    return createTrusted(named, wildcard, undefined);
  }

  /** The version for `service`: its named entry, else the wildcard, else undefined (baseline). */
  versionFor(service: string): string | undefined {
    const version = this.#named.get(service);
    if (version !== undefined) return version;
    if (this.#named.size !== 0) {
      const lower = normalizeService(service);
      if (lower !== service) {
        const found = this.#named.get(lower);
        if (found !== undefined) return found;
      }
    }
    return this.#wildcard;
  }

  /** The wildcard (`*=key`) version, if any. */
  get wildcard(): string | undefined {
    return this.#wildcard;
  }

  /** Canonical order: named entries in insertion order, then the wildcard. Frozen. */
  entries(): readonly OverrideEntry[] {
    if (this.#entries === undefined) {
      const list: OverrideEntry[] = [];
      for (const [service, version] of this.#named) list.push(Object.freeze({ service, version }));
      if (this.#wildcard !== undefined) list.push(Object.freeze({ service: WILDCARD, version: this.#wildcard }));
      this.#entries = Object.freeze(list);
    }
    return this.#entries;
  }

  [Symbol.iterator](): Iterator<OverrideEntry> {
    return this.entries()[Symbol.iterator]();
  }

  get isEmpty(): boolean {
    return this.#named.size === 0 && this.#wildcard === undefined;
  }

  /** Number of entries, the wildcard included. */
  get size(): number {
    return this.#named.size + (this.#wildcard === undefined ? 0 : 1);
  }

  /** Canonical wire value: `svc=ver,svc=ver,*=key` (no spaces; "" for the empty set). */
  toString(): string {
    if (this.#text === undefined) {
      let text = "";
      for (const [service, version] of this.#named) {
        text += text.length === 0 ? `${service}=${version}` : `,${service}=${version}`;
      }
      if (this.#wildcard !== undefined) text += text.length === 0 ? `*=${this.#wildcard}` : `,*=${this.#wildcard}`;
      this.#text = text;
    }
    return this.#text;
  }

  /** Structured loggers (pino) print the canonical text. */
  toJSON(): string {
    return this.toString();
  }

  /** util.inspect / console output in Node: `OverrideSet(pricing=v2,*=sandbox)`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `OverrideSet(${this.toString()})`;
  }

  /**
   * Merges `defaults` under this set (workload injection): for every service,
   * `result.versionFor(s) === this.versionFor(s) ?? defaults.versionFor(s)`. A wildcard here
   * already answers every service, so then the defaults add nothing.
   */
  withDefaults(defaults: OverrideSet): OverrideSet {
    if (defaults.isEmpty || this.#wildcard !== undefined) return this;
    if (this.isEmpty) return defaults;
    const named = new Map(this.#named);
    let changed = false;
    for (const [service, version] of defaults.#named) {
      if (!named.has(service)) {
        named.set(service, version);
        changed = true;
      }
    }
    if (!changed && defaults.#wildcard === undefined) return this;
    return createTrusted(named, defaults.#wildcard, undefined);
  }

  /** Same services with the same versions (and the same wildcard); order does not matter. */
  equals(other: OverrideSet): boolean {
    if (other === this) return true;
    if (other.#wildcard !== this.#wildcard || other.#named.size !== this.#named.size) return false;
    for (const [service, version] of this.#named) {
      if (other.#named.get(service) !== version) return false;
    }
    return true;
  }
}

function isPair(item: OverrideEntry | readonly [string, string]): item is readonly [string, string] {
  return Array.isArray(item);
}

/**
 * Internal: builds a set from already-validated, already-normalized data (parser output).
 * `text`, when given, must be exactly the canonical form (the parser checks this).
 */
export function trustedOverrideSet(
  named: ReadonlyMap<string, string>,
  wildcard: string | undefined,
  text?: string,
): OverrideSet {
  return createTrusted(named, wildcard, text);
}

/** Internal: the set's percent-encoded canonical text, computed once per set. */
export function encodedOverrideText(set: OverrideSet, encode: (text: string) => string): string {
  return encodedOf(set, encode);
}

/**
 * Internal: records that `encoded` is exactly `encode(set.toString())` (the reader saw it on the
 * wire in standard form), so writing the same set back costs no encoding.
 */
export function rememberEncodedOverrideText(set: OverrideSet, encoded: string): void {
  rememberEncoded(set, encoded);
}
