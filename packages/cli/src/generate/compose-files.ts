import { join, relative, sep } from "node:path";
import { DetourError } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { DEFAULT_SIDECAR_BASE_PORT, detourEnvoyYaml, sidecarPortsFrom } from "../envoy-config/detour-envoy-bootstrap.js";
import { composeYaml } from "./compose-file.js";
import { generatedHeader } from "./generated-header.js";

/** File names inside the output directory. */
export const COMPOSE_FILE = "docker-compose.yml";
export const COMPOSE_ENVOY_CONFIG = join("envoy", "envoy.yaml");
/** Envoy's usual admin port; the admin listener binds 127.0.0.1 only. */
export const DEFAULT_ADMIN_PORT = 9901;

export interface ComposeFilesOptions {
  /** Absolute path of the topology file. */
  readonly topology: string;
  /** Absolute output directory. */
  readonly out: string;
  /** Absolute path of the repository the containers run. */
  readonly repo: string;
  readonly sidecarBasePort?: number;
  readonly envoyImage?: string;
  readonly nodeImage?: string;
}

export interface ComposeFiles {
  readonly composeFile: string;
  readonly composeText: string;
  readonly envoyFile: string;
  readonly envoyText: string;
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

/**
 * What `detour compose` writes, as text: docker-compose.yml and the Envoy bootstrap it mounts
 * (identical to what `detour envoy` writes for the same topology). Pure: the golden test
 * compares it with the repository's files.
 */
export function composeFiles(config: DetourConfig, options: ComposeFilesOptions): ComposeFiles {
  const topologyInRepo = toPosix(relative(options.repo, options.topology));
  if (topologyInRepo.startsWith("..")) {
    throw new DetourError("usage", `${options.topology} is outside the repository ${options.repo}: the containers only see the repository (pass --repo, or move the topology into it)`);
  }
  const sidecarPorts = sidecarPortsFrom(config, options.sidecarBasePort ?? DEFAULT_SIDECAR_BASE_PORT);
  const envoyFile = join(options.out, COMPOSE_ENVOY_CONFIG);
  const composeFile = join(options.out, COMPOSE_FILE);
  const envoyText = detourEnvoyYaml(config, { sidecarPorts, adminPort: DEFAULT_ADMIN_PORT, header: generatedHeader("envoy", options.topology, options.repo) });
  const composeText = composeYaml(config, {
    repoFromCompose: toPosix(relative(options.out, options.repo)) || ".",
    topologyInRepo,
    envoyConfigFromCompose: `./${toPosix(relative(options.out, envoyFile))}`,
    sidecarPorts,
    envoyImage: options.envoyImage,
    nodeImage: options.nodeImage,
    header: generatedHeader("compose", options.topology, options.repo),
  });
  return { composeFile, composeText, envoyFile, envoyText };
}
