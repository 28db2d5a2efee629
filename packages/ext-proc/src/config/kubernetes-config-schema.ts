import { z } from "zod";

/*
 * The `kubernetes:` section of detour.yaml: read the topology from a cluster (docs/kubernetes.md,
 * Discovery). Without it the server never loads a Kubernetes client.
 */

/** A namespace name: a DNS-1123 label. */
const NAMESPACE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An object name such as a Lease's: a DNS-1123 subdomain. */
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
/** A label key: an optional DNS subdomain prefix and '/', then 1-63 characters, alphanumeric at both ends. */
const LABEL_KEY = /^(?:(?=[^/]{1,253}\/)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?(?=[^/]{1,63}$)[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const labelKeys = (what: string, defaults: readonly string[]) =>
  z
    .array(z.string().regex(LABEL_KEY, "must be a Kubernetes label key, e.g. app or app.kubernetes.io/name"))
    .min(1)
    .refine((keys) => new Set(keys).size === keys.length, "a label key is listed twice")
    .default([...defaults])
    .describe(`pod label keys holding a workload's ${what}, tried in this order (the first one a pod carries counts)`);

/** Istio's labels for a workload's service and version, then the Kubernetes recommended ones. */
export const DEFAULT_SERVICE_LABELS: readonly string[] = ["app", "app.kubernetes.io/name"];
export const DEFAULT_VERSION_LABELS: readonly string[] = ["version", "app.kubernetes.io/version"];

/**
 * Lease timings of the leader election, as client-go's leader election takes them. A replica
 * that stops renewing loses the lease after `leaseDurationSeconds`; the others look every
 * `retryPeriodSeconds`, so a killed leader is replaced within about leaseDuration + 2 x retryPeriod.
 */
export const DEFAULT_LEASE_DURATION_SECONDS = 10;
export const DEFAULT_RENEW_DEADLINE_SECONDS = 7;
export const DEFAULT_RETRY_PERIOD_SECONDS = 2;
/** The Lease's name unless configured: the server's Deployment name. */
export const DEFAULT_LEASE_NAME = "detour-ext-proc";

export const leaderElectionSchema = z
  .strictObject({
    lease: z.string().regex(SUBDOMAIN, "must be a Kubernetes object name (lower-case DNS subdomain)").default(DEFAULT_LEASE_NAME).describe("name of the coordination.k8s.io Lease the replicas elect their writer on"),
    namespace: z
      .string()
      .regex(NAMESPACE, "must be a namespace name (lower-case DNS label)")
      .optional()
      .describe("namespace of the Lease; default the server's own (POD_NAMESPACE, else the service account's), else the first watched namespace"),
    leaseDurationSeconds: z.int().min(2).max(300).default(DEFAULT_LEASE_DURATION_SECONDS).describe("how long a lease that is not renewed stays held"),
    renewDeadlineSeconds: z.int().min(1).max(300).default(DEFAULT_RENEW_DEADLINE_SECONDS).describe("how long the leader keeps trying to renew before it stops writing"),
    retryPeriodSeconds: z.int().min(1).max(60).default(DEFAULT_RETRY_PERIOD_SECONDS).describe("how often every replica tries to acquire or renew"),
  })
  .superRefine((election, ctx) => {
    if (election.renewDeadlineSeconds >= election.leaseDurationSeconds) {
      ctx.addIssue({ code: "custom", path: ["renewDeadlineSeconds"], message: `must be less than leaseDurationSeconds (${election.leaseDurationSeconds}): a leader must give up writing before others may take over` });
    }
    if (election.retryPeriodSeconds >= election.renewDeadlineSeconds) {
      ctx.addIssue({ code: "custom", path: ["retryPeriodSeconds"], message: `must be less than renewDeadlineSeconds (${election.renewDeadlineSeconds}): the leader needs more than one try to renew` });
    }
  });

export const kubernetesSchema = z
  .strictObject({
    namespaces: z
      .array(z.string().regex(NAMESPACE, "must be a namespace name (lower-case DNS label)"))
      .min(1, "name at least one namespace to watch")
      .refine((names) => new Set(names).size === names.length, "a namespace is listed twice")
      .describe("namespaces whose Pods, Services and Deployments make the topology"),
    serviceLabels: labelKeys("service name", DEFAULT_SERVICE_LABELS),
    versionLabels: labelKeys("version", DEFAULT_VERSION_LABELS),
    kubeconfig: z
      .string()
      .min(1)
      .optional()
      .describe("kubeconfig file to reach the API server with (relative to this file); default the pod's in-cluster service account"),
    context: z.string().min(1).optional().describe("context of the kubeconfig to use; default its current-context"),
    routingObjects: z
      .enum(["none", "istio"])
      .default("none")
      .describe("routing objects the elected replica keeps in step with the discovered versions: istio = each service's DestinationRule and VirtualService (only those detour owns); none = leave routing to the installed objects"),
    clusterDomain: z
      .string()
      .regex(/^[a-z0-9.-]+$/, "must be a domain such as cluster.local")
      .default("cluster.local")
      .describe("the cluster's DNS domain, for the service hosts the routing objects name"),
    leaderElection: leaderElectionSchema.default({
      lease: DEFAULT_LEASE_NAME,
      leaseDurationSeconds: DEFAULT_LEASE_DURATION_SECONDS,
      renewDeadlineSeconds: DEFAULT_RENEW_DEADLINE_SECONDS,
      retryPeriodSeconds: DEFAULT_RETRY_PERIOD_SECONDS,
    }),
  })
  .superRefine((section, ctx) => {
    if (section.context !== undefined && section.kubeconfig === undefined) {
      ctx.addIssue({ code: "custom", path: ["context"], message: "a context belongs to a kubeconfig: set kubeconfig too, or drop context to use the in-cluster service account" });
    }
  });

export type KubernetesConfig = z.output<typeof kubernetesSchema>;
export type LeaderElectionConfig = z.output<typeof leaderElectionSchema>;
