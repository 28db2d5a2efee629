import type { KubernetesConfig } from "../config/kubernetes-config-schema.js";
import { ownedMetadata, type KubernetesObject } from "./detour-ownership.js";

/** Name of the Role (and RoleBinding) in each watched namespace. */
export const DISCOVERY_ROLE_NAME = "detour-ext-proc-discovery";
/** Name of the Role (and RoleBinding) for the Lease, in the Lease's namespace. */
export const LEADER_ELECTION_ROLE_NAME = "detour-ext-proc-leader-election";

export interface DiscoveryRbacOptions {
  /** Namespace the server runs in: its ServiceAccount's, and the Lease's unless the section names another. */
  readonly serverNamespace: string;
  /** The server's ServiceAccount. */
  readonly serviceAccount: string;
  readonly section: KubernetesConfig;
}

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/**
 * The rules of each watched namespace, exactly the calls the server makes there: list and watch
 * of Pods, Services and Deployments (its informers), create of Events (an expired version's,
 * on its Deployment) and, with `routingObjects: istio`, get, create and patch of
 * DestinationRules and VirtualServices (read before writing, then server-side apply: a patch,
 * which the API server also authorizes as a create when the object is new). Nothing else: no
 * Secrets, no writes to workloads, no deletes.
 */
export function discoveryRules(section: Pick<KubernetesConfig, "routingObjects">): PolicyRule[] {
  const rules: PolicyRule[] = [
    { apiGroups: [""], resources: ["pods", "services"], verbs: ["list", "watch"] },
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["list", "watch"] },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
  ];
  if (section.routingObjects === "istio") rules.push({ apiGroups: ["networking.istio.io"], resources: ["destinationrules", "virtualservices"], verbs: ["get", "create", "patch"] });
  return rules;
}

/**
 * The rules of the Lease's namespace: create the Lease (Kubernetes cannot limit a create to a
 * name), then get and update only that Lease.
 */
export function leaderElectionRules(lease: string): PolicyRule[] {
  return [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [lease], verbs: ["get", "update"] },
  ];
}

function roleAndBinding(name: string, namespace: string, rules: readonly PolicyRule[], options: DiscoveryRbacOptions): KubernetesObject[] {
  return [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: ownedMetadata(name, namespace, "ext-proc"), rules },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: ownedMetadata(name, namespace, "ext-proc"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name: options.serviceAccount, namespace: options.serverNamespace }],
    },
  ];
}

/**
 * RBAC for a server with a `kubernetes:` section, as narrow as its calls: a Role and RoleBinding
 * per watched namespace (no ClusterRole: it reads only the namespaces it is given) and one for
 * its Lease. Which DestinationRules and VirtualServices it changes RBAC cannot narrow (their
 * names follow the services); the server itself changes only those with detour's ownership mark.
 */
export function discoveryRbac(options: DiscoveryRbacOptions): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const namespace of options.section.namespaces) objects.push(...roleAndBinding(DISCOVERY_ROLE_NAME, namespace, discoveryRules(options.section), options));
  const leaseNamespace = options.section.leaderElection.namespace ?? options.serverNamespace;
  objects.push(...roleAndBinding(LEADER_ELECTION_ROLE_NAME, leaseNamespace, leaderElectionRules(options.section.leaderElection.lease), options));
  return objects;
}

/** The pod's own name and namespace from the downward API: the Lease identity and namespace of a server with discovery. */
export const DISCOVERY_ENV = [
  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
] as const;
