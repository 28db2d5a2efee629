import { TOKEN_COOKIE, TOKEN_HEADER } from "@detour/core";
import { MAX_TOKEN_BYTES } from "../constants.js";
import type { HeaderPair } from "../header-pair.js";
import type { RejectionReason } from "./rejection-reason.js";

/** Where a token travelled: header (API clients), cookie (browsers, mobile), query (opt-in links). */
export type TokenSource = "header" | "cookie" | "query";

export type TokenLocation =
  | { readonly kind: "absent" }
  | { readonly kind: "found"; readonly token: string; readonly source: TokenSource }
  | { readonly kind: "rejected"; readonly reason: RejectionReason; readonly source: TokenSource };

export interface TokenLocationOptions {
  /** Read the detour_token cookie. */
  readonly cookie: boolean;
  /** Read this query parameter of :path (opt-in). */
  readonly queryParameter?: string | undefined;
}

export const ABSENT: TokenLocation = Object.freeze({ kind: "absent" });

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Cookie values named `name` in one Cookie header line (RFC 6265 §4.2.1: `a=1; b=2`). */
function cookieValues(line: string, name: string, into: string[]): void {
  if (!line.includes(name)) return;
  for (const pair of line.split(";")) {
    const equals = pair.indexOf("=");
    if (equals === -1) continue;
    if (pair.slice(0, equals).trim() !== name) continue;
    let value = pair.slice(equals + 1).trim();
    // A cookie-value may be wrapped in DQUOTEs (RFC 6265 §4.1.1).
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    into.push(value);
  }
}

/** Values of query parameter `name` in a :path (names compared percent-decoded, so an encoded name is no way around). */
function queryValues(path: string, name: string, into: string[]): void {
  const question = path.indexOf("?");
  if (question === -1) return;
  const hash = path.indexOf("#", question);
  const query = path.slice(question + 1, hash === -1 ? undefined : hash);
  for (const pair of query.split("&")) {
    const equals = pair.indexOf("=");
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const decodedName = safeDecode(rawName.replace(/\+/g, " "));
    if (decodedName !== name) continue;
    const value = equals === -1 ? "" : (safeDecode(pair.slice(equals + 1).replace(/\+/g, " ")) ?? "\u0000");
    into.push(value);
  }
}

/**
 * Finds the override token of a request: every `x-detour-token` line (a comma-joined line is
 * several tokens: JWS text has no commas), the `detour_token` cookie and, opted in, a query
 * parameter. Exactly one distinct value is a token; two or more are ambiguous and rejected
 * (`duplicate`) rather than guessed between; empty values are ignored. The length limit is
 * checked here, before anything parses the token.
 */
export function locateToken(headers: readonly HeaderPair[], options: TokenLocationOptions): TokenLocation {
  const found: string[] = [];
  const sources: TokenSource[] = [];
  const add = (values: string[], source: TokenSource) => {
    for (const value of values) {
      const token = value.trim();
      if (token.length === 0) continue;
      found.push(token);
      sources.push(source);
    }
  };
  for (const [name, value] of headers) {
    if (name === TOKEN_HEADER) {
      add(value.split(","), "header");
    } else if (name === "cookie" && options.cookie) {
      const values: string[] = [];
      cookieValues(value, TOKEN_COOKIE, values);
      add(values, "cookie");
    } else if (name === ":path" && options.queryParameter !== undefined) {
      const values: string[] = [];
      queryValues(value, options.queryParameter, values);
      add(values, "query");
    }
  }
  if (found.length === 0) return ABSENT;
  const first = found[0]!;
  const source = sources[0]!;
  for (const token of found) {
    if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) return { kind: "rejected", reason: "oversized", source };
  }
  for (const token of found) if (token !== first) return { kind: "rejected", reason: "duplicate", source };
  return { kind: "found", token: first, source };
}
