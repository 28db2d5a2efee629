import { isIP } from "node:net";
import { DetourError } from "@detour/core";

type Json = Record<string, unknown>;

/** `host:port` (or `[v6]:port`) split, with a message naming `what` when it is not that. */
export function splitHostPort(text: string, what: string): { host: string; port: number } {
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  let host = text.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DetourError("invalid-address", `${what}: '${text}' is not host:port`);
  }
  return { host, port };
}

/** A cluster of one address. An IP needs no resolver; a name (container, Kubernetes service) is re-resolved by DNS. */
export function staticCluster(name: string, address: string, what: string, extra: Json = {}): Json {
  const { host, port } = splitHostPort(address, what);
  return {
    name,
    type: isIP(host) === 0 ? "STRICT_DNS" : "STATIC",
    connect_timeout: "1s",
    ...extra,
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
    },
  };
}
