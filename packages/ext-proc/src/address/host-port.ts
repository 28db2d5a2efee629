/*
 * The one host:port grammar of detour: addresses in detour.yaml (`server.listen`,
 * `server.metrics`, version endpoints, `edge.listen`), the `:authority` of a hop and Envoy's
 * `source.address` attribute. IPv6 hosts are written in brackets (`[::1]:50051`, RFC 3986 §3.2.2).
 */

/** `host:port` or `[v6]:port` with 1-5 port digits, for config schemas (parseHostPort also checks the range). */
export const HOST_PORT_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export interface HostPort {
  /** The host, IPv6 brackets removed. */
  readonly host: string;
  readonly port: number;
}

/**
 * Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address (two colons or more, no
 * brackets: all host) into its host, brackets removed, and the port text after the last colon,
 * if any. Only the shape is read; nothing is validated.
 */
export function splitHostPort(text: string): { readonly host: string; readonly port: string | undefined } {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) return { host: text, port: undefined };
    return { host: text.slice(1, close), port: text[close + 1] === ":" ? text.slice(close + 2) : undefined };
  }
  const colon = text.lastIndexOf(":");
  if (colon === -1 || text.indexOf(":") !== colon) return { host: text, port: undefined };
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** A `host:port` address with a port from 0 to 65535 (port 0: any free port); undefined otherwise. */
export function parseHostPort(text: string): HostPort | undefined {
  if (!HOST_PORT_PATTERN.test(text)) return undefined;
  const { host, port } = splitHostPort(text);
  const number = Number(port);
  return port !== undefined && number <= 65_535 ? { host, port: number } : undefined;
}

/** `host:port` again, bracketing an IPv6 host, as gRPC, Envoy and people expect. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
