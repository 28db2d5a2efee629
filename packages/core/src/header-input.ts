/**
 * The structural part of the WHATWG `Headers` class detour uses (`get` is case-insensitive and
 * joins repeated fields with ", "). Structural so undici's, Node's global and polyfilled
 * `Headers` all fit.
 */
export interface HeadersLike {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  delete(name: string): void;
  [Symbol.iterator](): Iterator<[string, string]>;
}

/**
 * Request headers in any shape a Node program has: WHATWG `Headers`, a plain object or Node's
 * `IncomingHttpHeaders` (array values for repeated fields), or an iterable of `[name, value]`
 * pairs with one entry per field line (what Envoy's ext_proc delivers). Names are matched
 * case-insensitively; repeated fields form one comma-separated list (RFC 9110 §5.3).
 */
export type HeaderInput =
  | HeadersLike
  | Readonly<Record<string, string | readonly string[] | number | undefined>>
  | Iterable<readonly [string, string]>;

/** Compares a header name with an already lower-case name without allocating. */
export function nameEquals(name: string, lowerName: string): boolean {
  if (name === lowerName) return true;
  if (name.length !== lowerName.length) return false;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lowerName.charCodeAt(i)) return false;
  }
  return true;
}

export function isHeadersLike(input: unknown): input is HeadersLike {
  if (typeof input !== "object" || input === null || isPlainRecord(input) || input instanceof Map) return false;
  const candidate = input as Partial<HeadersLike>;
  return typeof candidate.get === "function" && typeof candidate.has === "function" && typeof candidate.set === "function";
}

function isIterable(input: object): input is Iterable<readonly [string, string]> {
  return typeof (input as Partial<Iterable<unknown>>)[Symbol.iterator] === "function";
}

function append(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous},${value}`;
}

/**
 * Reads the fields named `lowerNames` (lower-case) in one pass over the input. Each result is the
 * field's lines joined with "," (undefined when absent). Values that are not strings (numbers in
 * Node's outgoing headers) are stringified; anything else is skipped, never thrown on.
 */
export function readHeaderValues(input: HeaderInput, lowerNames: readonly string[]): (string | undefined)[] {
  const values: (string | undefined)[] = new Array<string | undefined>(lowerNames.length).fill(undefined);
  if (typeof input !== "object" || input === null) return values;
  if (isPlainRecord(input)) {
    readRecord(input as Readonly<Record<string, unknown>>, lowerNames, values);
    return values;
  }
  if (isHeadersLike(input)) {
    for (let i = 0; i < lowerNames.length; i++) {
      const value = input.get(lowerNames[i] as string);
      if (value !== null) values[i] = value;
    }
    return values;
  }
  if (isIterable(input)) {
    for (const pair of input as Iterable<unknown>) {
      if (!Array.isArray(pair)) continue;
      const name: unknown = pair[0];
      const value: unknown = pair[1];
      if (typeof name !== "string") continue;
      for (let i = 0; i < lowerNames.length; i++) {
        if (nameEquals(name, lowerNames[i] as string)) {
          const text = lineText(value);
          if (text !== undefined) values[i] = append(values[i], text);
          break;
        }
      }
    }
    return values;
  }
  readRecord(input as Readonly<Record<string, unknown>>, lowerNames, values);
  return values;
}

function readRecord(record: Readonly<Record<string, unknown>>, lowerNames: readonly string[], values: (string | undefined)[]): void {
  for (const name in record) {
    for (let i = 0; i < lowerNames.length; i++) {
      if (nameEquals(name, lowerNames[i] as string)) {
        const value = record[name];
        if (Array.isArray(value)) {
          for (const line of value as readonly unknown[]) {
            const text = lineText(line);
            if (text !== undefined) values[i] = append(values[i], text);
          }
        } else {
          const text = lineText(value);
          if (text !== undefined) values[i] = append(values[i], text);
        }
        break;
      }
    }
  }
}

function lineText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

/** Plain objects (Node's IncomingHttpHeaders included) are records; checked first, as the common case. */
function isPlainRecord(input: object): boolean {
  const proto: unknown = Object.getPrototypeOf(input);
  return proto === Object.prototype || proto === null;
}

/** Joins repeated header lines into one list value (RFC 9110 §5.3). */
export function joinLines(value: string | readonly string[] | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  if (value.length === 1) return typeof value[0] === "string" ? value[0] : "";
  let text = "";
  for (const line of value) {
    if (typeof line !== "string") continue;
    text = text.length === 0 ? line : `${text},${line}`;
  }
  return text;
}
