import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { waitFor } from "../../support/wait-for.js";
import { ServerSideApplyApi } from "./server-side-apply.js";

/** The field manager that owns what the rig itself installs (not detour's objects). */
const RIG_FIELD_MANAGER = "detour-test-rig";

/** Every object of every *.yaml file under `dir` (recursively), in file-name order. */
export function objectsInDirectory(dir: string): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }).sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
    if (!entry.isFile() || !entry.name.endsWith(".yaml")) continue;
    const path = join(entry.parentPath, entry.name);
    for (const document of parseAllDocuments(readFileSync(path, "utf8"))) {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]!.message}`);
      const object = document.toJS() as KubernetesObject | null;
      if (object !== null) objects.push(object);
    }
  }
  return objects;
}

/**
 * Applies the CRDs (and whatever else the directory ships, such as Gateway API's admission
 * policy) and waits until every CRD is Established, that is, its kinds are served.
 */
export async function installCrds(kc: KubeConfig, dir: string): Promise<{ crds: string[] }> {
  const objects = objectsInDirectory(dir);
  const api = ServerSideApplyApi.fromKubeConfig(kc);
  for (const object of objects) await api.apply(object, { fieldManager: RIG_FIELD_MANAGER, force: true });
  const crds = objects.filter((object) => object.kind === "CustomResourceDefinition").map((object) => object.metadata!.name!);
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  await waitFor(
    async () => {
      const list = await extensions.listCustomResourceDefinition();
      const established = new Set(
        list.items.filter((crd) => crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")).map((crd) => crd.metadata!.name!),
      );
      return crds.every((name) => established.has(name));
    },
    { what: `${crds.length} CRDs from ${dir} to be Established`, timeoutMs: 60_000, intervalMs: 100 },
  );
  return { crds };
}
