import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DetourError } from "@detour/core";
import { ApiException, HttpMethod, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import type { KubernetesConfig } from "../config/kubernetes-config-schema.js";

/** The field manager of every object detour applies: one, so its ownership of fields is one set. */
export const FIELD_MANAGER = "detour";

/** Where a pod's service-account token is mounted (Kubernetes' fixed path). */
const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/**
 * The client configuration of the `kubernetes:` section: its kubeconfig (relative to the config
 * file's folder) and context, else the pod's in-cluster service account. Throws DetourError
 * ("kubernetes-config") with what to set when neither is usable.
 */
export function kubeConfigFromSection(section: KubernetesConfig, baseDir: string): KubeConfig {
  const kc = new KubeConfig();
  if (section.kubeconfig !== undefined) {
    const path = resolve(baseDir, section.kubeconfig);
    try {
      kc.loadFromFile(path);
    } catch (error) {
      throw new DetourError("kubernetes-config", `kubernetes.kubeconfig: cannot load ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (section.context !== undefined) {
      if (kc.getContextObject(section.context) === null) {
        throw new DetourError("kubernetes-config", `kubernetes.context: '${section.context}' is not a context of ${path} (contexts: ${kc.getContexts().map((context) => context.name).join(", ")})`);
      }
      kc.setCurrentContext(section.context);
    }
  } else {
    if (process.env.KUBERNETES_SERVICE_HOST === undefined || !existsSync(IN_CLUSTER_TOKEN)) {
      throw new DetourError(
        "kubernetes-config",
        "kubernetes: no kubeconfig is set and this is not a pod with a service-account token (KUBERNETES_SERVICE_HOST unset or no token mounted): set kubernetes.kubeconfig, or run in the cluster with automountServiceAccountToken",
      );
    }
    kc.loadFromCluster();
  }
  if (kc.getCurrentCluster() === null) throw new DetourError("kubernetes-config", "kubernetes: the kubeconfig has no current cluster: set kubernetes.context");
  return kc;
}

/**
 * A client configuration for a person's command: the kubeconfig file given, else the usual
 * lookup (KUBECONFIG, ~/.kube/config, in-cluster), with `context` when given.
 */
export function kubeConfigFromFile(path: string | undefined, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path === undefined) kc.loadFromDefault();
    else kc.loadFromFile(path);
  } catch (error) {
    throw new DetourError("kubernetes-config", `cannot load the kubeconfig${path === undefined ? "" : ` ${path}`}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (context !== undefined) {
    if (kc.getContextObject(context) === null) throw new DetourError("kubernetes-config", `--context ${context} is not a context of the kubeconfig (contexts: ${kc.getContexts().map((entry) => entry.name).join(", ")})`);
    kc.setCurrentContext(context);
  }
  if (kc.getCurrentCluster() === null) throw new DetourError("kubernetes-config", "the kubeconfig has no current cluster: pass --context or --kubeconfig");
  return kc;
}

/** The namespace this process runs in: POD_NAMESPACE (downward API), else the service account's, else undefined. */
export function ownNamespace(): string | undefined {
  const fromEnv = process.env.POD_NAMESPACE;
  if (fromEnv !== undefined && fromEnv.length !== 0) return fromEnv;
  try {
    // Read only when mounted (in a pod); outside one there is no namespace of our own.
    return existsSync(IN_CLUSTER_NAMESPACE) ? readFileSync(IN_CLUSTER_NAMESPACE, "utf8").trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** A list as the API server sends it, items untouched. */
export interface RawList {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items: readonly unknown[];
}

export interface ApplyOptions {
  /** Take over fields another manager owns. Default false: a conflict is an error. */
  readonly force?: boolean;
}

/**
 * The official client's object API with the calls detour makes as JSON exactly as the API server
 * sends and takes it: the client's typed models drop fields they do not know and turn timestamps
 * into Dates, and its own patch() runs built-in kinds through them, so an unknown field would
 * never reach strict validation.
 */
export class DetourKubernetesApi extends KubernetesObjectApi {
  static fromKubeConfig(kc: KubeConfig): DetourKubernetesApi {
    const api = kc.makeApiClient(DetourKubernetesApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  /** GET of a collection path (`/api/v1/namespaces/shop/pods`), items as sent. */
  async listRaw(path: string): Promise<RawList> {
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    context.setHeaderParam("Accept", "application/json");
    return this.requestPromise<KubernetesObject & RawList>(context, "KubernetesObject");
  }

  /** Server-side apply with field manager `detour` and strict field validation. */
  async apply<T extends KubernetesObject>(object: T, options: ApplyOptions = {}): Promise<T> {
    const path = await this.specUriPath(object, "patch");
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    context.setHeaderParam("Accept", "application/json");
    context.setHeaderParam("Content-Type", PatchStrategy.ServerSideApply);
    context.setQueryParam("fieldManager", FIELD_MANAGER);
    context.setQueryParam("fieldValidation", "Strict");
    if (options.force === true) context.setQueryParam("force", "true");
    context.setBody(JSON.stringify(object));
    return this.requestPromise<T>(context, "KubernetesObject");
  }

  /** The object as stored, or undefined when it does not exist. */
  async readRaw<T extends KubernetesObject>(object: KubernetesObject): Promise<T | undefined> {
    const path = await this.specUriPath(object, "read");
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    context.setHeaderParam("Accept", "application/json");
    try {
      return await this.requestPromise<T>(context, "KubernetesObject");
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** POST of a new object to its collection; resolves false when one of that name exists already. */
  createRaw(object: KubernetesObject): Promise<boolean> {
    return this.writeUnlessConflict(object, "create", HttpMethod.POST);
  }

  /**
   * PUT of a whole object read before (its metadata.resourceVersion is the precondition):
   * resolves false when someone changed it since (409), so the caller reads again.
   */
  replaceRaw(object: KubernetesObject): Promise<boolean> {
    return this.writeUnlessConflict(object, "replace", HttpMethod.PUT);
  }

  /** Writes `object` as JSON; false when the API server answers 409 Conflict. */
  private async writeUnlessConflict(object: KubernetesObject, action: "create" | "replace", method: HttpMethod): Promise<boolean> {
    const path = await this.specUriPath(object, action);
    const context = this.configuration.baseServer.makeRequestContext(path, method);
    context.setHeaderParam("Accept", "application/json");
    context.setHeaderParam("Content-Type", "application/json");
    context.setQueryParam("fieldManager", FIELD_MANAGER);
    context.setBody(JSON.stringify(object));
    try {
      await this.requestPromise(context, "KubernetesObject");
      return true;
    } catch (error) {
      if (statusCode(error) === 409) return false;
      throw error;
    }
  }

  /**
   * A merge patch of an existing object someone else owns (e.g. one annotation, as `kubectl
   * annotate` does), under the field manager given.
   */
  async mergePatch(object: KubernetesObject, patch: unknown, fieldManager: string): Promise<void> {
    const path = await this.specUriPath(object, "patch");
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    context.setHeaderParam("Accept", "application/json");
    context.setHeaderParam("Content-Type", PatchStrategy.MergePatch);
    context.setQueryParam("fieldManager", fieldManager);
    context.setBody(JSON.stringify(patch));
    await this.requestPromise(context, "KubernetesObject");
  }
}

/** The HTTP status of a failed call (0 when it never got one: connection refused, timeout). */
export function statusCode(error: unknown): number {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown; statusCode?: unknown } | null)?.statusCode ?? (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : 0;
}

/** One line about a failed call: the API server's message when it sent one. */
export function failureMessage(error: unknown): string {
  if (error instanceof ApiException) {
    // The client hands the API server's Status over parsed, or for some calls as its JSON text.
    let body: unknown = error.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        // Not JSON: the text itself is the message.
      }
    }
    const status = body as { message?: unknown } | string | null | undefined;
    const message = typeof status === "object" && status !== null && typeof status.message === "string" ? status.message : typeof status === "string" ? status : error.message;
    return `HTTP ${error.code}: ${message.split("\n")[0]}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
