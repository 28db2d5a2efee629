import { Agent, buildConnector } from "undici";

/**
 * An undici dispatcher that sends every request to the workload's sidecar listener while the
 * URL (and so the Host header) keeps naming the peer: `fetch("http://pricing/quote")` reaches
 * the sidecar, whose ext_proc resolves the destination from `:authority`. This is what a
 * transparent sidecar (iptables redirect) does in a cluster; Node's fetch ignores a `host`
 * header, so the redirect has to happen in the connector.
 */
export function createSidecarDispatcher(sidecar: { host: string; port: number }): Agent {
  const connect = buildConnector({});
  return new Agent({
    connect: (options, callback) =>
      connect({ ...options, protocol: "http:", hostname: sidecar.host, host: sidecar.host, port: String(sidecar.port) }, callback),
  });
}
