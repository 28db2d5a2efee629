import { DetourError } from "@detour/core";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Splits `host:port` / `[v6]:port` (validated by the config schema). */
export function listenAddressFromText(text: string, field: string): ListenAddress {
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  let host = text.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DetourError("invalid-config", `${field}: '${text}' is not host:port with a port from 0 to 65535`);
  }
  return { host, port };
}

/** `host:port` again, bracketing IPv6 hosts, as gRPC and people expect. */
export function formatListenAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
