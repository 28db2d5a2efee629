import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { ServerSideApplyApi } from "./server-side-apply.js";

/** The field manager of what a team deploys (not detour's: detour never owns these objects). */
export const TEAM_FIELD_MANAGER = "team";

export interface VersionOptions {
  /** Pods of the version (each made Ready unless `ready: false`). Default 1. */
  readonly pods?: number;
  readonly ready?: boolean;
  /** Annotations of the Deployment (detour.dev/expires-at, detour.dev/ttl). */
  readonly annotations?: Record<string, string>;
  /** Annotations of the pod template and its pods (detour.dev/inject). */
  readonly templateAnnotations?: Record<string, string>;
  /** Pod labels; default `app: <service>`, `version: <version>`. */
  readonly labels?: Record<string, string>;
}

export interface DeployedVersion {
  readonly deployment: string;
  readonly pods: readonly string[];
  /** performance.now() just before the first pod's Ready status was written (undefined when not made Ready). */
  readonly readyWrittenAt: number | undefined;
}

/**
 * Workloads as a team deploys them, in one namespace of a real API server with no controllers:
 * a Deployment and, since no ReplicaSet controller runs, its Pods created directly with the
 * template's labels and annotations, then made Ready by writing their status as a kubelet would.
 */
export class ClusterWorkloads {
  readonly api: ServerSideApplyApi;
  private readonly objects: KubernetesObjectApi;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
  ) {
    this.api = ServerSideApplyApi.fromKubeConfig(kubeConfig);
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  private apply(object: KubernetesObject): Promise<KubernetesObject> {
    return this.api.apply(object, { fieldManager: TEAM_FIELD_MANAGER });
  }

  async createNamespace(): Promise<void> {
    await this.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: this.namespace } });
  }

  /**
   * The Service of `name` with detour.dev annotations (baseline, miss). `headless` allocates no
   * cluster IP: the rig's service range (a /24) holds only 254.
   */
  async service(name: string, annotations: Record<string, string> = {}, options: { headless?: boolean } = {}): Promise<void> {
    await this.apply({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: this.namespace, annotations },
      spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: 8080 }], ...(options.headless === true ? { clusterIP: "None" } : {}) },
    } as KubernetesObject);
  }

  /** A service as a team runs it: its Service naming the baseline (the first version), and a Ready pod of each version. */
  async serviceWithVersions(service: string, versions: readonly string[], annotations: Record<string, string> = {}): Promise<void> {
    await this.service(service, { "detour.dev/baseline": versions[0]!, ...annotations });
    for (const version of versions) await this.deployVersion(service, version);
  }

  /** `pricing-pr-7`. */
  deploymentName(service: string, version: string): string {
    return `${service}-${version}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  }

  async deployVersion(service: string, version: string, options: VersionOptions = {}): Promise<DeployedVersion> {
    const name = this.deploymentName(service, version);
    const labels = options.labels ?? { app: service, version };
    const template = { labels, annotations: options.templateAnnotations ?? {} };
    await this.apply({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: this.namespace, annotations: options.annotations ?? {} },
      spec: {
        replicas: options.pods ?? 1,
        selector: { matchLabels: labels },
        template: { metadata: template, spec: { containers: [{ name: "app", image: `example.com/${service}:${version}` }] } },
      },
    } as KubernetesObject);
    const pods: string[] = [];
    for (let index = 0; index < (options.pods ?? 1); index++) {
      const pod = `${name}-${index}`;
      pods.push(pod);
      await this.apply({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: pod, namespace: this.namespace, labels, annotations: template.annotations },
        spec: { containers: [{ name: "app", image: `example.com/${service}:${version}` }] },
      } as KubernetesObject);
    }
    let readyWrittenAt: number | undefined;
    if (options.ready !== false) {
      for (const pod of pods) {
        readyWrittenAt ??= performance.now();
        await this.setReady(pod, true);
      }
    }
    return { deployment: name, pods, readyWrittenAt };
  }

  /** Writes the pod's Ready condition (and phase Running), as its kubelet would report it. */
  async setReady(pod: string, ready: boolean): Promise<void> {
    const status = ready ? "True" : "False";
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    await this.api.applyStatus(
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: pod, namespace: this.namespace },
        status: {
          phase: "Running",
          conditions: [
            { type: "Ready", status, lastTransitionTime: now },
            { type: "ContainersReady", status, lastTransitionTime: now },
          ],
        },
      } as KubernetesObject,
      { fieldManager: "kubelet" },
    );
  }

  async deletePod(pod: string): Promise<void> {
    await this.objects.delete({ apiVersion: "v1", kind: "Pod", metadata: { name: pod, namespace: this.namespace } }, undefined, undefined, 0);
  }

  /** Deletes the version's Pods and its Deployment (what deleting a Deployment ends in once its controllers ran). */
  async deleteVersion(deployed: DeployedVersion): Promise<void> {
    for (const pod of deployed.pods) await this.deletePod(pod);
    await this.objects.delete({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: deployed.deployment, namespace: this.namespace } }, undefined, undefined, 0);
  }

  /**
   * Sets annotations of a Deployment as `kubectl annotate` would: under a field manager of its
   * own, so the team's other fields stay as they are.
   */
  async annotateDeployment(name: string, annotations: Record<string, string>): Promise<void> {
    await this.api.apply({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: this.namespace, annotations } } as KubernetesObject, { fieldManager: "kubectl-annotate" });
  }
}
