import { DetourError } from "@detour/core";
import { stringify } from "yaml";
import { EXT_PROC_NODE_FLAGS, parseHostPort, type DetourConfig, type HostPort } from "@detour/ext-proc";
import { ENVOY_VERSION } from "../envoy-binary.js";
import { edgeSettingsFromTopology } from "../envoy-config/edge-settings.js";

/** The official images docker-compose.yml runs (docker/images.env names the same tags). */
export const DEFAULT_ENVOY_IMAGE = `envoyproxy/envoy:v${ENVOY_VERSION}`;
/** The Node line the server is recommended on (24, the active LTS), slim Debian bookworm. */
export const DEFAULT_NODE_IMAGE = "node:24-bookworm-slim";

/** Where the repository is mounted in the Node containers. */
const APP_DIR = "/app";
/** Where the official Envoy image reads its bootstrap by default. */
const ENVOY_CONFIG_IN_CONTAINER = "/etc/envoy/envoy.yaml";

export interface ComposeOptions {
  /** The repository root as seen from the compose file's directory ("." for the top level). */
  readonly repoFromCompose: string;
  /** The topology file, relative to the repository root (POSIX separators). */
  readonly topologyInRepo: string;
  /** The generated Envoy bootstrap, relative to the compose file's directory. */
  readonly envoyConfigFromCompose: string;
  /** Each workload's sidecar listener port in that bootstrap. */
  readonly sidecarPorts: Readonly<Record<string, number>>;
  readonly envoyImage?: string;
  readonly nodeImage?: string;
}

/** The parts of an address the topology schema validated. */
function addressOf(address: string): HostPort {
  const parsed = parseHostPort(address);
  if (parsed === undefined) throw new DetourError("invalid-config", `'${address}' is not host:port`);
  return parsed;
}

function portOf(address: string): number {
  return addressOf(address).port;
}

function hostOf(address: string): string {
  return addressOf(address).host;
}

/** A healthcheck that needs only node (the slim image has no curl). */
function nodeHttpCheck(url: string): Record<string, unknown> {
  return {
    test: ["CMD", "node", "-e", `fetch(${JSON.stringify(url)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
    interval: "2s",
    timeout: "2s",
    retries: 30,
  };
}

/**
 * docker-compose.yml for the demo: the ext_proc server and every example service version on
 * the official Node image (running the repository's built code, mounted read-only), and one
 * Envoy on the official Envoy image with the same bootstrap `detour envoy` writes.
 *
 * Every container uses the host network, so the addresses are exactly those of the topology
 * (127.0.0.1 endpoints, sidecar listeners, edge) and the native demo and the compose demo are
 * one layout. Host networking is what Docker Engine on Linux offers everywhere (Docker Desktop
 * has it as an opt-in); it also runs on daemons without a bridge network.
 */
export function composeFromTopology(config: DetourConfig, options: ComposeOptions): Record<string, unknown> {
  const nodeImage = options.nodeImage ?? DEFAULT_NODE_IMAGE;
  const repoVolume = `${options.repoFromCompose}:${APP_DIR}:ro`;
  const nodeService = (command: string[], extra: Record<string, unknown> = {}) => ({
    image: nodeImage,
    network_mode: "host",
    working_dir: APP_DIR,
    volumes: [repoVolume],
    command,
    ...extra,
  });

  const services: Record<string, unknown> = {};
  services["ext-proc"] = nodeService(["node", ...EXT_PROC_NODE_FLAGS, "packages/ext-proc/dist/bin.js", "--config", options.topologyInRepo], {
    healthcheck: nodeHttpCheck(`http://${hostOf(config.server.metrics)}:${portOf(config.server.metrics)}/readyz`),
  });
  services.envoy = {
    image: options.envoyImage ?? DEFAULT_ENVOY_IMAGE,
    network_mode: "host",
    volumes: [`${options.envoyConfigFromCompose}:${ENVOY_CONFIG_IN_CONTAINER}:ro`],
    command: ["envoy", "-c", ENVOY_CONFIG_IN_CONTAINER, "--log-level", "warning"],
    depends_on: { "ext-proc": { condition: "service_healthy" } },
  };
  for (const [service, spec] of Object.entries(config.services)) {
    for (const [version, versionSpec] of Object.entries(spec.versions)) {
      const endpoint = versionSpec.endpoint ?? "127.0.0.1:0";
      const environment: Record<string, string> = {
        SERVICE: service,
        VERSION: version,
        HOST: hostOf(endpoint),
        PORT: String(portOf(endpoint)),
      };
      const sidecar = options.sidecarPorts[`${service}/${version}`];
      if (sidecar !== undefined) environment.SIDECAR = `127.0.0.1:${sidecar}`;
      services[`${service}-${version}`.toLowerCase().replace(/[^a-z0-9-]/g, "-")] = nodeService(["node", `examples/dist/${service}.js`], {
        environment,
        depends_on: { envoy: { condition: "service_started" } },
        healthcheck: nodeHttpCheck(`http://${hostOf(endpoint)}:${portOf(endpoint)}/healthz`),
      });
    }
  }
  return { services };
}

/** The compose file as YAML text, with a comment header (where it came from, how to run it). */
export function composeYaml(config: DetourConfig, options: ComposeOptions & { header: string }): string {
  const edge = edgeSettingsFromTopology(config);
  const lines = [
    ...options.header.split("\n"),
    "",
    "Build first (the containers run the repository's built code): npm ci && npm run build",
    "Then: docker compose up   (host network: every address below is on this machine's loopback)",
    ...(edge ? [`Try:  curl -s -H 'x-detour: catalog=v2,pricing=v2' http://${hostOf(edge.listen)}:${portOf(edge.listen)}/`] : []),
  ];
  const comment = lines.map((line) => `# ${line}`.trimEnd()).join("\n");
  return `${comment}\n${stringify(composeFromTopology(config, options), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
