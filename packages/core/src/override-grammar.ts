import { MAX_SERVICE_LENGTH, MAX_VERSION_LENGTH } from "./limits.js";

/*
 * The entry grammar of docs/spec.md §2, checked with character tables instead of
 * regular expressions: one pass, no backtracking, no substring allocation for rejected input.
 */

/** Character classes as bits, so a scan can OR them together and test the union once. */
export const ALNUM_LOWER = 1; // a-z 0-9: may start/end a service label
export const ALNUM_UPPER = 2; // A-Z: allowed in a service, lower-cased on parse
export const HYPHEN = 4; // '-': inside a service label or a version
export const VERSION_PUNCT = 8; // '.' '_': inside a version only
export const OTHER = 16; // anything else (OWS, '*', separators, non-ASCII)

const CLASS = new Uint8Array(128).fill(OTHER);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = ALNUM_LOWER;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = ALNUM_LOWER;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = ALNUM_UPPER;
CLASS[0x2d] = HYPHEN;
CLASS[0x2e] = VERSION_PUNCT;
CLASS[0x5f] = VERSION_PUNCT;

/** The class bit of one UTF-16 code unit. */
export function charClass(code: number): number {
  return code < 128 ? (CLASS[code] as number) : OTHER;
}

/** Result of checking a service name inside a larger string (plain numbers: no enum object on the hot path). */
export const ServiceCheck = {
  Invalid: 0,
  /** A DNS label already in lower case: the slice can be used as-is. */
  Lower: 1,
  /** A DNS label with upper-case letters: lower-case it before use. */
  Mixed: 2,
  Wildcard: 3,
} as const;
export type ServiceCheck = (typeof ServiceCheck)[keyof typeof ServiceCheck];

/** Checks `text.slice(start, end)` as a service without allocating it. */
export function checkService(text: string, start: number, end: number): ServiceCheck {
  const length = end - start;
  if (length === 1 && text.charCodeAt(start) === 0x2a /* * */) return ServiceCheck.Wildcard;
  if (length < 1 || length > MAX_SERVICE_LENGTH) return ServiceCheck.Invalid;
  const alnum = ALNUM_LOWER | ALNUM_UPPER;
  if ((charClass(text.charCodeAt(start)) & alnum) === 0) return ServiceCheck.Invalid;
  if ((charClass(text.charCodeAt(end - 1)) & alnum) === 0) return ServiceCheck.Invalid;
  let seen = 0;
  for (let i = start; i < end; i++) {
    const k = charClass(text.charCodeAt(i));
    if ((k & (VERSION_PUNCT | OTHER)) !== 0) return ServiceCheck.Invalid;
    seen |= k;
  }
  return (seen & ALNUM_UPPER) !== 0 ? ServiceCheck.Mixed : ServiceCheck.Lower;
}

/** Checks `text.slice(start, end)` as a version without allocating it. */
export function checkVersion(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length < 1 || length > MAX_VERSION_LENGTH) return false;
  if ((charClass(text.charCodeAt(start)) & (ALNUM_LOWER | ALNUM_UPPER)) === 0) return false;
  for (let i = start + 1; i < end; i++) {
    if (charClass(text.charCodeAt(i)) === OTHER) return false;
  }
  return true;
}

/**
 * True when `service` is `*` or a DNS label (`[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`, any case;
 * detour lower-cases it). Use it to validate service names in configuration.
 */
export function isValidService(service: string): boolean {
  return checkService(service, 0, service.length) !== ServiceCheck.Invalid;
}

/** True when `version` matches `[A-Za-z0-9][A-Za-z0-9._-]{0,62}` (Kubernetes label-value syntax). */
export function isValidVersion(version: string): boolean {
  return checkVersion(version, 0, version.length);
}

/** Lower-cases ASCII letters only (service names are ASCII; `toLowerCase` is locale-free anyway). */
export function normalizeService(service: string): string {
  for (let i = 0; i < service.length; i++) {
    const c = service.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return service.toLowerCase();
  }
  return service;
}

/*
 * The grammar as regular-expression sources, for config schemas (zod) and generated configs.
 * The character tables above are the reader's implementation of the same rules; the property
 * tests check that both agree.
 */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const LOWER_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const VERSION = "[A-Za-z0-9][A-Za-z0-9._-]{0,62}";

/** A service as an override entry names it: `*` or a DNS label in any case (a reader lower-cases it). */
export const SERVICE_PATTERN = `^(?:\\*|${LABEL})$`;
/** A service name as a topology declares it: a DNS label in lower case, the form entries are compared in. */
export const SERVICE_NAME_PATTERN = `^${LOWER_LABEL}$`;
/** A version: 1-63 letters, digits, `.`, `_`, `-`, starting with a letter or digit (Kubernetes label-value syntax). */
export const VERSION_PATTERN = `^${VERSION}$`;
/** A workload, one deployed version of a service: `service/version` (`cart/pr-7`). */
export const WORKLOAD_PATTERN = `^${LOWER_LABEL}/${VERSION}$`;
