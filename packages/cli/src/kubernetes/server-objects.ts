import type { DetourConfig } from "@detour/ext-proc";
import type { KubernetesOptions } from "./kubernetes-options.js";
import {
  CONFIG_DIR,
  CONFIG_FILE_KEY,
  CONFIG_MAP_NAME,
  GRPC_PORT,
  GRPC_PORT_NAME,
  METRICS_PORT,
  METRICS_PORT_NAME,
  SERVER_NAME,
  SERVER_SELECTOR,
  TOKEN_KEYS_DIR,
} from "./kubernetes-names.js";
import { DISCOVERY_ENV, discoveryRbac, ownedMetadata, type KubernetesObject } from "@detour/ext-proc/kubernetes";

/**
 * The user the server image runs as (the official Node images' `node`, uid 1000). Set by
 * number: `runAsNonRoot` cannot check a user given by name.
 */
export const SERVER_UID = 1000;

/**
 * Requests sized from docs/operations.md (Memory): ~80-90 MiB RSS under load with the heap
 * flags; the limit leaves the 256 MiB old space its room, so a heap that outgrows it fails as
 * a V8 out-of-memory the logs explain rather than a kernel OOM kill. No CPU limit: throttling a
 * server on the request path adds latency to every request that waits on it.
 */
export const SERVER_RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "384Mi" } } as const;

/** Seconds Kubernetes waits after SIGTERM: the server's own drain (server.shutdownGraceMs) plus slack to exit. */
export function terminationGraceSeconds(config: DetourConfig): number {
  return Math.ceil(config.server.shutdownGraceMs / 1000) + 5;
}

function serviceAccount(options: KubernetesOptions, discovery: boolean): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: ownedMetadata(SERVER_NAME, options.namespace, "ext-proc", SERVER_SELECTOR),
    // Without a kubernetes section the server reads only its mounted config: no API token in its
    // pods. With one it watches the cluster as this account (discoveryRbac says what it may do).
    automountServiceAccountToken: discovery,
  };
}


function configMap(options: KubernetesOptions, serverConfigText: string): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMetadata(CONFIG_MAP_NAME, options.namespace, "ext-proc", SERVER_SELECTOR),
    data: { [CONFIG_FILE_KEY]: serverConfigText },
  };
}

function service(options: KubernetesOptions): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(SERVER_NAME, options.namespace, "ext-proc", SERVER_SELECTOR),
    spec: {
      selector: { ...SERVER_SELECTOR },
      ports: [
        { name: GRPC_PORT_NAME, port: GRPC_PORT, targetPort: GRPC_PORT_NAME, protocol: "TCP", appProtocol: "grpc" },
        { name: METRICS_PORT_NAME, port: METRICS_PORT, targetPort: METRICS_PORT_NAME, protocol: "TCP", appProtocol: "http" },
      ],
    },
  };
}

function deployment(options: KubernetesOptions, config: DetourConfig, keyFiles: readonly string[]): KubernetesObject {
  const mounts: Record<string, unknown>[] = [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }];
  const volumes: Record<string, unknown>[] = [{ name: "config", configMap: { name: CONFIG_MAP_NAME } }];
  if (keyFiles.length !== 0) {
    mounts.push({ name: "token-keys", mountPath: TOKEN_KEYS_DIR, readOnly: true });
    volumes.push({ name: "token-keys", secret: { secretName: options.tokenKeysSecret } });
  }
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: METRICS_PORT_NAME },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: ownedMetadata(SERVER_NAME, options.namespace, "ext-proc", SERVER_SELECTOR),
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: { ...SERVER_SELECTOR } },
      // A rollout never drops below the replicas asked for: sidecars fail open, but an override
      // that falls back while servers restart surprises the person who sent it.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...SERVER_SELECTOR },
          // No sidecar of its own: Envoy's ext_proc cluster connects to the pods directly, and
          // a sidecar here would put a second ext_proc filter in the server's own path.
          annotations: { "sidecar.istio.io/inject": "false" },
        },
        spec: {
          serviceAccountName: SERVER_NAME,
          automountServiceAccountToken: config.kubernetes !== undefined,
          terminationGracePeriodSeconds: terminationGraceSeconds(config),
          securityContext: { runAsNonRoot: true, runAsUser: SERVER_UID, runAsGroup: SERVER_UID, seccompProfile: { type: "RuntimeDefault" } },
          // Replicas on different nodes, so losing one node keeps the decisions coming.
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { ...SERVER_SELECTOR } } },
          ],
          containers: [
            {
              name: "ext-proc",
              image: options.image,
              imagePullPolicy: "IfNotPresent",
              // The image's entrypoint runs node with the heap flags (docs/operations.md, Memory).
              args: ["--config", `${CONFIG_DIR}/${CONFIG_FILE_KEY}`],
              ...(config.kubernetes === undefined ? {} : { env: DISCOVERY_ENV.map((entry) => ({ ...entry })) }),
              ports: [
                { name: GRPC_PORT_NAME, containerPort: GRPC_PORT, protocol: "TCP" },
                { name: METRICS_PORT_NAME, containerPort: METRICS_PORT, protocol: "TCP" },
              ],
              readinessProbe: probe("/readyz", 5, 2),
              livenessProbe: probe("/healthz", 10, 3),
              resources: { requests: { ...SERVER_RESOURCES.requests }, limits: { ...SERVER_RESOURCES.limits } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

function podDisruptionBudget(options: KubernetesOptions): KubernetesObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMetadata(SERVER_NAME, options.namespace, "ext-proc", SERVER_SELECTOR),
    // A node drain takes one server at a time; with one replica asked for, drains are not held up.
    spec: { maxUnavailable: 1, selector: { matchLabels: { ...SERVER_SELECTOR } } },
  };
}

/**
 * The ext_proc server in the cluster: ServiceAccount, ConfigMap (the server config), Service
 * (gRPC and metrics ports), Deployment and PodDisruptionBudget; for a config with a kubernetes
 * section also the RBAC its discovery needs (a Role and RoleBinding per watched namespace and
 * one for its Lease), its service-account token and its pod's name and namespace.
 * `serverConfigText` is the ConfigMap's `detour.yaml`: `config` as text.
 */
export function serverObjects(options: KubernetesOptions, config: DetourConfig, keyFiles: readonly string[], serverConfigText: string): KubernetesObject[] {
  const discovery = config.kubernetes === undefined ? [] : discoveryRbac({ serverNamespace: options.namespace, serviceAccount: SERVER_NAME, section: config.kubernetes });
  return [
    serviceAccount(options, config.kubernetes !== undefined),
    ...discovery,
    configMap(options, serverConfigText),
    service(options),
    deployment(options, config, keyFiles),
    podDisruptionBudget(options),
  ];
}
