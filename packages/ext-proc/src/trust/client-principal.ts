import type { HeaderPair } from "../header-pair.js";

/** Envoy's client-certificate header (HCM forward_client_cert_details). */
export const XFCC_HEADER = "x-forwarded-client-cert";

/** Splits on `separator` outside double quotes (XFCC values may quote `,` `;` `=`). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted) {
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).replace(/\\(.)/g, "$1") : trimmed;
}

/**
 * The identities of the TLS client that Envoy verified, from `x-forwarded-client-cert`: the
 * URI and DNS SANs of the last element (the element Envoy added for the current connection;
 * with SANITIZE_SET it is the only one). Envoy sets the header only with
 * `forward_client_cert_details: SANITIZE_SET` and `set_current_client_cert_details: { uri: true,
 * dns: true }` on the edge HCM, and removes any copy a client sent (SANITIZE / SANITIZE_SET).
 */
export function principalsFromXfcc(value: string): string[] {
  const elements = splitOutsideQuotes(value, ",");
  const last = elements[elements.length - 1] ?? "";
  const principals: string[] = [];
  for (const pair of splitOutsideQuotes(last, ";")) {
    const equals = pair.indexOf("=");
    if (equals === -1) continue;
    const key = pair.slice(0, equals).trim().toLowerCase();
    if (key === "uri" || key === "dns") {
      const principal = unquote(pair.slice(equals + 1));
      if (principal.length !== 0) principals.push(principal);
    }
  }
  return principals;
}

/**
 * The client identities a request carries in `header` (lower-case). For XFCC, its URI/DNS
 * SANs; for another header (set by a trusted proxy in front), its whole value. More than one
 * line is ambiguous and yields nothing: Envoy writes exactly one.
 */
export function clientPrincipals(headers: readonly HeaderPair[], header: string): string[] {
  let value: string | undefined;
  for (const [name, line] of headers) {
    if (name !== header) continue;
    if (value !== undefined) return [];
    value = line;
  }
  if (value === undefined) return [];
  if (header === XFCC_HEADER) return principalsFromXfcc(value);
  const trimmed = value.trim();
  return trimmed.length === 0 ? [] : [trimmed];
}
