import { BlockList, isIP } from "node:net";
import { splitHostPort } from "../address/host-port.js";

/** A set of CIDR ranges (edge.trustedCidrs) that answers "is this peer inside?". */
export interface CidrList {
  /** `address` is an IP, optionally with a port (`127.0.0.1:5123`, `[::1]:5123`) as Envoy's source.address is. */
  contains(address: string | undefined): boolean;
}

/** The IP of `ip`, `ip:port` or `[v6]:port`; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as IPv4. */
export function ipOf(address: string): string | undefined {
  let host = splitHostPort(address.trim()).host;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) host = mapped[1]!;
  return isIP(host) === 0 ? undefined : host;
}

/** Compiles validated CIDR texts (the schema checked them) into a node:net BlockList. */
export function cidrListFromConfig(cidrs: readonly string[]): CidrList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf("/");
    const address = slash === -1 ? cidr : cidr.slice(0, slash);
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    const prefix = slash === -1 ? (family === "ipv6" ? 128 : 32) : Number(cidr.slice(slash + 1));
    list.addSubnet(address, prefix, family);
  }
  return {
    contains(address) {
      if (address === undefined) return false;
      const ip = ipOf(address);
      if (ip === undefined) return false;
      return list.check(ip, isIP(ip) === 6 ? "ipv6" : "ipv4");
    },
  };
}
