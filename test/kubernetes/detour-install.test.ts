// Every object `detour kubernetes` and the Helm chart render, for the demo topology and for a
// generated topology of 50 services x 4 versions, in both modes, created on the real API server
// (Kubernetes 1.35 with Istio's and Gateway API's CRDs) with server-side apply (field manager
// detour, strict field validation), read back as written, applied again without a change, and
// deleted; renders broken on purpose (broken-renders.yaml) are refused.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubernetesObject as ClientObject } from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detourConfigSchema, loadConfigFile, type DetourConfig } from "@detour/ext-proc";
import { HELM_CHART_DIR, helmValues, helmValuesYaml } from "../../packages/cli/src/kubernetes/helm-values.js";
import { kubernetesManifests } from "../../packages/cli/src/kubernetes/kubernetes-manifests.js";
import { kubernetesOptions, type KubernetesOptions } from "../../packages/cli/src/kubernetes/kubernetes-options.js";
import type { KubernetesObject } from "@detour/ext-proc/kubernetes";
import { generatedTopology } from "./support/generated-topology.js";
import { helm, helmBin } from "./support/helm.js";
import { refusalOf } from "./support/kubernetes-error.js";
import { ServerSideApplyApi } from "./support/server-side-apply.js";
import { sharedApiServer } from "./support/shared-api-server.js";

const demo = loadConfigFile(fileURLToPath(new URL("../../examples/detour.yaml", import.meta.url)));
const large = generatedTopology(50, 4);

interface Render {
  readonly name: string;
  readonly topology: DetourConfig;
  readonly options: Partial<KubernetesOptions>;
  readonly by: "detour kubernetes" | "helm template";
}

// Each render in namespaces of its own (the suite's API server is shared), its ingress gateway's
// namespace included.
const RENDERS: Render[] = [
  { name: "install-demo-istio", topology: demo, options: { mode: "istio", gatewayHosts: ["shop.example.com"] }, by: "detour kubernetes" },
  { name: "install-demo-gamma", topology: demo, options: { mode: "gamma", servicePort: 8080 }, by: "detour kubernetes" },
  { name: "install-large-istio", topology: large, options: { mode: "istio" }, by: "detour kubernetes" },
  { name: "install-large-gamma", topology: large, options: { mode: "gamma" }, by: "detour kubernetes" },
  { name: "helm-demo-istio", topology: demo, options: { mode: "istio", gatewayHosts: ["shop.example.com"] }, by: "helm template" },
  { name: "helm-large-istio", topology: large, options: { mode: "istio" }, by: "helm template" },
  { name: "helm-large-gamma", topology: large, options: { mode: "gamma" }, by: "helm template" },
  // A server that reads its versions from the cluster: its RBAC, in the namespace it watches.
  { name: "install-discovery", topology: withDiscovery(demo, "install-discovery"), options: { mode: "istio" }, by: "detour kubernetes" },
  { name: "helm-discovery", topology: withDiscovery(demo, "helm-discovery"), options: { mode: "istio" }, by: "helm template" },
];

/** `topology` with a kubernetes section watching `namespace` (the render's own) and writing Istio routing objects. */
function withDiscovery(topology: DetourConfig, namespace: string): DetourConfig {
  return detourConfigSchema.parse({ ...topology, kubernetes: { namespaces: [namespace], routingObjects: "istio" } });
}

interface BrokenRender {
  name: string;
  render: "istio" | "gamma";
  object: string;
  set?: Record<string, unknown>;
  repeatRules?: number;
  code: number;
  contains: string[];
}
const broken = parse(readFileSync(new URL("./broken-renders.yaml", import.meta.url), "utf8")) as BrokenRender[];

const dir = mkdtempSync(join(tmpdir(), "detour-install-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function optionsOf(render: Render): KubernetesOptions {
  return kubernetesOptions({ ...render.options, namespace: render.name, gatewayNamespace: `${render.name}-gateway` });
}

async function rendered(render: Render): Promise<KubernetesObject[]> {
  const options = optionsOf(render);
  const manifests = kubernetesManifests(render.topology, options, render.name);
  if (render.by === "detour kubernetes") return [...manifests.objects];
  const file = join(dir, `${render.name}.values.yaml`);
  writeFileSync(file, helmValuesYaml(helmValues(options, manifests.serverConfigText), render.name));
  const result = await helm(["template", "detour", HELM_CHART_DIR, "-f", file, "--namespace", options.namespace]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

/** What the server must store as written (it adds defaults, status and metadata of its own). */
function writtenFields(object: KubernetesObject): Record<string, unknown> {
  const { metadata, ...rest } = JSON.parse(JSON.stringify(object)) as KubernetesObject & Record<string, unknown>;
  return { ...rest, metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels } };
}

/** Sets a dotted path (numbers index lists) in a copy of `object`; null deletes the field. */
function withChange(object: KubernetesObject, path: string, value: unknown): KubernetesObject {
  const copy = structuredClone(object) as unknown as Record<string, unknown>;
  const keys = path.split(".");
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === null) delete node[last];
  else node[last] = value;
  return copy as unknown as KubernetesObject;
}

describe("detour's rendered installs on a real API server", () => {
  const server = sharedApiServer();
  const api = ServerSideApplyApi.fromKubeConfig(server.kubeConfig());
  const applyNamespace = (name: string) => api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

  beforeAll(() => {
    helmBin();
  }, 1_800_000);

  it.each(RENDERS.map((render) => [`${render.name} (${render.by})`, render] as const))("%s: every object created, read back as written, unchanged by a second apply, deleted", async (_name, render) => {
    const objects = await rendered(render);
    const options = optionsOf(render);
    await applyNamespace(options.namespace);
    await applyNamespace(options.gatewayNamespace);
    const started = performance.now();
    for (const object of objects) {
      const applied = await api.apply(object as ClientObject);
      const stored = await api.readObject(object as ClientObject);
      expect(stored, `${object.kind}/${object.metadata.name}`).toMatchObject(writtenFields(object));
      const again = await api.apply(object as ClientObject);
      expect(again.metadata?.resourceVersion, `${object.kind}/${object.metadata.name} changed on a second apply`).toBe(applied.metadata?.resourceVersion);
    }
    const kinds = [...new Set(objects.map((object) => object.kind))].sort();
    process.stdout.write(`${render.name} (${render.by}): ${objects.length} objects (${kinds.join(", ")}) applied, read and re-applied in ${Math.round(performance.now() - started)} ms\n`);
    expect(objects.length).toBeGreaterThan(render.topology === large ? 100 : 10);
    // Uninstall: every object deleted again. This also frees the Services' cluster IPs: the rig's
    // service range (a /24) holds one large GAMMA install's 200 per-version Services, not two.
    for (const object of objects) await api.delete(object as ClientObject);
    for (const object of objects) expect((await refusalOf(() => api.readObject(object as ClientObject))).code, `${object.kind}/${object.metadata.name} still there`).toBe(404);
  });

  it("kubectl apply takes the stream detour kubernetes prints (deploy/kubernetes/istio.yaml), and kubectl delete removes it", async () => {
    const stream = readFileSync(fileURLToPath(new URL("../../deploy/kubernetes/istio.yaml", import.meta.url)), "utf8");
    const namespaces = [...new Set([...stream.matchAll(/^ {2}namespace: (\S+)$/gm)].map((match) => match[1]!))];
    for (const namespace of namespaces) await applyNamespace(namespace);
    const kubectlBin = process.env.KUBECTL_BIN || "kubectl";
    const kubectl = (args: string[]) =>
      new Promise<{ code: number; output: string }>((resolve) => {
        const child = execFile(kubectlBin, ["--kubeconfig", server.kubeconfigPath, ...args], (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr }),
        );
        child.stdin!.end(stream);
      });
    const applied = await kubectl(["apply", "--server-side", "--field-manager", "detour", "-f", "-"]);
    expect(applied.code, `${applied.output}\n(kubectl from KUBECTL_BIN or PATH; Debian: apt-get install kubernetes-client)`).toBe(0);
    const objects = parseAllDocuments(stream).map((document) => document.toJS() as KubernetesObject | null).filter((object): object is KubernetesObject => object !== null);
    expect(applied.output.trim().split("\n")).toHaveLength(objects.length);
    for (const object of objects) expect(await api.readObject(object as ClientObject)).toMatchObject(writtenFields(object));
    const deleted = await kubectl(["delete", "-f", "-"]);
    expect(deleted.code, deleted.output).toBe(0);
    for (const object of objects) expect((await refusalOf(() => api.readObject(object as ClientObject))).code).toBe(404);
  });

  describe("refuses a render broken on purpose", () => {
    const namespace = "install-broken";
    const renders = {
      istio: kubernetesManifests(demo, kubernetesOptions({ namespace, gatewayNamespace: `${namespace}-gateway` }), "broken").objects,
      gamma: kubernetesManifests(demo, kubernetesOptions({ namespace, mode: "gamma" }), "broken").objects,
    };
    beforeAll(async () => {
      await applyNamespace(namespace);
    });

    it.each(broken.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
      const [kind, name] = testCase.object.split("/") as [string, string];
      let object = renders[testCase.render].find((candidate) => candidate.kind === kind && candidate.metadata.name === name)!;
      expect(object, testCase.object).toBeDefined();
      for (const [path, value] of Object.entries(testCase.set ?? {})) object = withChange(object, path, value);
      if (testCase.repeatRules !== undefined) {
        const rules = (object as unknown as { spec: { rules: unknown[] } }).spec.rules;
        object = withChange(object, "spec.rules", Array.from({ length: testCase.repeatRules }, (_, index) => rules[index % rules.length]));
      }
      // As written, the object is accepted (dry run): the one change is what the server refuses.
      const original = renders[testCase.render].find((candidate) => candidate.kind === kind && candidate.metadata.name === name)!;
      await api.apply(original as ClientObject, { dryRun: true });
      const refusal = await refusalOf(() => api.apply(object as ClientObject));
      expect(refusal.code, refusal.message).toBe(testCase.code);
      for (const words of testCase.contains) expect(refusal.message).toContain(words);
    });
  });
});
