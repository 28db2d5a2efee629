import { HttpMethod, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";

/** The field manager detour's objects are applied with. */
export const DETOUR_FIELD_MANAGER = "detour";

/** How the API server treats fields its schema does not know (Kubernetes' `fieldValidation`). */
export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface ApplyOptions {
  /** Default: {@link DETOUR_FIELD_MANAGER}. */
  fieldManager?: string;
  /** Default: Strict, so a misspelt field is an error rather than silently dropped. */
  fieldValidation?: FieldValidation;
  /** Take over fields another manager owns. Default: false (a conflict is an error). */
  force?: boolean;
  /** Validate and admit without persisting. */
  dryRun?: boolean;
}

/**
 * The official client's object API with server-side apply of an object exactly as written.
 * `KubernetesObjectApi.patch` runs built-in kinds through the generated model serializer,
 * which drops every field the model does not know: an unknown field would never reach strict
 * validation, and a field newer than the client would be lost. This sends the object's own
 * JSON (valid apply YAML) through the same configuration, authentication and URL resolution.
 */
export class ServerSideApplyApi extends KubernetesObjectApi {
  static fromKubeConfig(kc: KubeConfig): ServerSideApplyApi {
    const api = kc.makeApiClient(ServerSideApplyApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  async apply<T extends KubernetesObject>(object: T, options: ApplyOptions = {}): Promise<T> {
    return this.applyAt(await this.specUriPath(object, "patch"), object, options);
  }

  /**
   * Server-side apply to the object's status subresource, forced (the status belongs to whoever
   * reports it): how a test without a kubelet makes a Pod Ready, as a kubelet would report it.
   */
  async applyStatus<T extends KubernetesObject>(object: T, options: ApplyOptions = {}): Promise<T> {
    return this.applyAt(`${await this.specUriPath(object, "patch")}/status`, object, { ...options, force: true });
  }

  private async applyAt<T extends KubernetesObject>(path: string, object: T, options: ApplyOptions): Promise<T> {
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    context.setHeaderParam("Accept", "application/json");
    context.setHeaderParam("Content-Type", PatchStrategy.ServerSideApply);
    context.setQueryParam("fieldManager", options.fieldManager ?? DETOUR_FIELD_MANAGER);
    context.setQueryParam("fieldValidation", options.fieldValidation ?? "Strict");
    if (options.force === true) context.setQueryParam("force", "true");
    if (options.dryRun === true) context.setQueryParam("dryRun", "All");
    context.setBody(JSON.stringify(object));
    return this.requestPromise<T>(context, "KubernetesObject");
  }

  /** The object as the server stores it, without the generated model's typing. */
  async readObject<T extends KubernetesObject>(object: KubernetesObject): Promise<T> {
    const path = await this.specUriPath(object, "read");
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    context.setHeaderParam("Accept", "application/json");
    return this.requestPromise<T>(context, "KubernetesObject");
  }
}
