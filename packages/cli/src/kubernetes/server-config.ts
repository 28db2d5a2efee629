import { basename } from "node:path";
import { DetourError } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { extProcConfigFromTopology } from "../generate/ext-proc-config.js";
import { GRPC_PORT, METRICS_PORT, TOKEN_KEYS_DIR } from "./kubernetes-names.js";

export interface ClusterServerConfig {
  /** What the ConfigMap holds: `detour ext-proc-config` for the pod's addresses, key files in the Secret's directory. */
  readonly config: DetourConfig;
  /** File names the token-keys Secret must hold (its keys), in the order the config names them. */
  readonly keyFiles: readonly string[];
}

type TokenKey = NonNullable<NonNullable<DetourConfig["edge"]>["tokens"]>["keys"][number];

function keyFileOf(key: TokenKey): string {
  if ("secretFile" in key) return key.secretFile;
  if ("publicKeyFile" in key) return key.publicKeyFile;
  return key.jwksFile;
}

function withKeyFile(key: TokenKey, file: string): TokenKey {
  if ("secretFile" in key) return { ...key, secretFile: file };
  if ("publicKeyFile" in key) return { ...key, publicKeyFile: file };
  return { ...key, jwksFile: file };
}

/**
 * The server config of a topology as a pod runs it: the same config `detour ext-proc-config`
 * writes, bound to every interface on the pod's ports, with each edge.tokens key file read from
 * the token-keys Secret's mount (by its file name, which is then the Secret's key).
 */
export function serverConfigForCluster(topology: DetourConfig): ClusterServerConfig {
  const config = extProcConfigFromTopology(topology, { listen: `0.0.0.0:${GRPC_PORT}`, metrics: `0.0.0.0:${METRICS_PORT}` });
  const tokens = config.edge?.tokens;
  if (tokens === undefined) return { config, keyFiles: [] };
  const seen = new Map<string, string>();
  const keys = tokens.keys.map((key, index) => {
    const file = keyFileOf(key);
    const name = basename(file);
    const other = seen.get(name);
    if (other !== undefined && other !== file) {
      throw new DetourError(
        "invalid-config",
        `edge.tokens.keys.${index}: '${file}' and '${other}' have the same file name '${name}': in the cluster both would be key '${name}' of one Secret; rename one`,
      );
    }
    seen.set(name, file);
    return withKeyFile(key, `${TOKEN_KEYS_DIR}/${name}`);
  });
  return { config: { ...config, edge: { ...config.edge!, tokens: { ...tokens, keys } } }, keyFiles: [...seen.keys()] };
}
