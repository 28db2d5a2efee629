import { stringify } from "yaml";
import type { DetourConfig } from "@detour/ext-proc";

export interface ExtProcConfigOptions {
  /** Address the server binds (host:port), e.g. 0.0.0.0:50051 in a container. */
  readonly listen?: string;
  /** Address of /metrics, /healthz, /readyz. */
  readonly metrics?: string;
  /** Rewrites each version's endpoint (generator-only data the server ignores); undefined drops it. */
  readonly endpoint?: (service: string, version: string) => string | undefined;
}

/**
 * The ext_proc server's config for one deployment of a topology: everything the server reads,
 * defaults written out (so the file states what the server will do), with the addresses of
 * that deployment. Endpoints only matter to the Envoy generators and are dropped unless
 * `endpoint` keeps them.
 */
export function extProcConfigFromTopology(config: DetourConfig, options: ExtProcConfigOptions = {}): DetourConfig {
  const services: DetourConfig["services"] = {};
  for (const [name, service] of Object.entries(config.services)) {
    const versions: DetourConfig["services"][string]["versions"] = {};
    for (const version of Object.keys(service.versions)) {
      const endpoint = options.endpoint?.(name, version);
      versions[version] = endpoint === undefined ? {} : { endpoint };
    }
    services[name] = { ...service, versions };
  }
  return {
    ...config,
    services,
    server: { ...config.server, listen: options.listen ?? config.server.listen, metrics: options.metrics ?? config.server.metrics },
  };
}

/** YAML text of a server config, with a header saying where it came from. */
export function extProcConfigYaml(config: DetourConfig, header: string): string {
  const comment = header
    .split("\n")
    .map((line) => `# ${line}`.trimEnd())
    .join("\n");
  return `${comment}\n${stringify(config, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
