import { isIP } from "node:net";
import { DetourError } from "@detour/core";
import { parseHostPort } from "@detour/ext-proc";

type Json = Record<string, unknown>;

/** A cluster of one address (host:port). An IP needs no resolver; a name (container, Kubernetes service) is re-resolved by DNS. */
export function staticCluster(name: string, address: string, what: string, extra: Json = {}): Json {
  const parsed = parseHostPort(address);
  if (parsed === undefined) throw new DetourError("invalid-address", `${what}: '${address}' is not host:port`);
  const { host, port } = parsed;
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
