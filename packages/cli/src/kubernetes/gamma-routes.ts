import { ownedMetadata, versionLabelValue, versionServiceName, type KubernetesObject } from "@detour/ext-proc/kubernetes";
import type { KubernetesOptions } from "./kubernetes-options.js";

/** A Service per version (`detour-pricing-v2`) selecting that version's pods: the backendRef GAMMA routes need. */
export function versionService(service: string, version: string, options: KubernetesOptions): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(versionServiceName(service, version), options.namespace, "routing"),
    spec: {
      selector: { [options.appLabel]: service, [options.versionLabel]: versionLabelValue(service, version, options.versionLabel) },
      ports: [{ name: "http", port: options.servicePort, targetPort: options.targetPort ?? options.servicePort, protocol: "TCP", appProtocol: "http" }],
    },
  };
}
