import type { DetourConfig } from "@detour/ext-proc";
import { stringify } from "yaml";
import type { RoutingConflict } from "./existing-routing.js";
import { destinationRule, detourHttpRoutes, subsetName } from "@detour/ext-proc/kubernetes";
import { serviceRouting } from "./istio-routes.js";
import type { KubernetesOptions } from "./kubernetes-options.js";

function indent(text: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return text
    .trimEnd()
    .split("\n")
    .map((line) => pad + line)
    .join("\n");
}

/**
 * What the owner of each conflicting object merges so that detour's routing works for its host:
 * the version routes at the top of the VirtualService's `http:` (they match only requests the
 * sidecar's ext_proc routed), and the subsets into the DestinationRule. Exact YAML, ready to paste.
 */
export function mergeInstructions(conflicts: readonly RoutingConflict[], config: DetourConfig, options: KubernetesOptions): string {
  const parts: string[] = [];
  for (const conflict of conflicts) {
    const baseline = subsetName(config.services[conflict.service]!.baseline);
    if (conflict.kind === "VirtualService") {
      const routes = detourHttpRoutes(serviceRouting(conflict.service, config, options)).slice(0, -1);
      parts.push(
        `VirtualService ${conflict.object} routes ${conflict.service}: add these routes at the top of its spec.http, and send its own routes to subset '${baseline}' (without a subset, every version's pods share them):\n` +
          indent(stringify({ http: routes }, { lineWidth: 0, aliasDuplicateObjects: false }), 2),
      );
    } else {
      const subsets = (destinationRule(serviceRouting(conflict.service, config, options)).spec as { subsets: unknown[] }).subsets;
      parts.push(`DestinationRule ${conflict.object} holds ${conflict.service}'s subsets: add these to its spec.subsets (names the VirtualService routes use):\n` + indent(stringify({ subsets }, { lineWidth: 0, aliasDuplicateObjects: false }), 2));
    }
  }
  return parts.join("\n\n");
}
