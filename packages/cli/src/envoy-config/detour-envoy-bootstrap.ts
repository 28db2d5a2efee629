import { stringify } from "yaml";
import type { DetourConfig } from "@detour/ext-proc";
import { edgeListener } from "./edge-listener.js";
import { edgeSettingsFromTopology } from "./edge-settings.js";
import { envoyBootstrapFromTopology, type EnvoyConfigOptions } from "./envoy-config-from-topology.js";

/** First port of the sidecar listeners in generated reference configs (Istio's outbound port). */
export const DEFAULT_SIDECAR_BASE_PORT = 15001;

export interface DetourEnvoyOptions extends Omit<EnvoyConfigOptions, "listeners" | "basePort"> {
  /** Port of each workload's sidecar listener (0 = any free port, as the demo uses). */
  readonly sidecarPorts: Readonly<Record<string, number>>;
  /** Edge listener port; default the port of `edge.listen`. */
  readonly edgePort?: number;
  /** Edge listener address; default the host of `edge.listen`. */
  readonly edgeAddress?: string;
}

/** Sidecar listener ports `basePort`, `basePort + 1`, ... in the topology's workload order. */
export function sidecarPortsFrom(config: DetourConfig, basePort: number): Record<string, number> {
  return Object.fromEntries(Object.keys(config.workloads).map((workload, index) => [workload, basePort + index]));
}

/**
 * The one Envoy process of a detour deployment on one host: a sidecar listener per workload
 * (`outbound:<service>/<version>`) and, when the topology has an `edge:` section, the front
 * door listener `edge`.
 */
export function detourEnvoyBootstrap(config: DetourConfig, options: DetourEnvoyOptions): Record<string, unknown> {
  const bootstrap = envoyBootstrapFromTopology(config, { ...options, listeners: options.sidecarPorts });
  const edge = edgeSettingsFromTopology(config);
  if (edge !== undefined) {
    const resources = bootstrap.static_resources as { listeners: unknown[] };
    resources.listeners.push(edgeListener(config, edge, { port: options.edgePort, address: options.edgeAddress, messageTimeoutMs: options.messageTimeoutMs }));
  }
  return bootstrap;
}

/** The bootstrap as YAML text for `envoy -c`, with a comment header. */
export function detourEnvoyYaml(config: DetourConfig, options: DetourEnvoyOptions & { header?: string }): string {
  const yaml = stringify(detourEnvoyBootstrap(config, options), { lineWidth: 0, aliasDuplicateObjects: false });
  if (options.header === undefined) return yaml;
  const comment = options.header
    .split("\n")
    .map((line) => `# ${line}`.trimEnd())
    .join("\n");
  return `${comment}\n${yaml}`;
}
