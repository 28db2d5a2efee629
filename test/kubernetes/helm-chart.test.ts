// The Helm chart (deploy/helm/detour) renders the same objects as `detour kubernetes` for the
// same inputs: for each case, the command's objects and `helm template` of the chart with the
// values `detour kubernetes --helm-values` writes are compared object by object. And `helm lint`
// is clean. helm v4 comes from scripts/install-helm (HELM_BIN overrides).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detourConfigSchema, loadConfigFile, type DetourConfig } from "@detour/ext-proc";
import type { RoutingConflict } from "../../packages/cli/src/kubernetes/existing-routing.js";
import { HELM_CHART_DIR, helmValues, helmValuesYaml } from "../../packages/cli/src/kubernetes/helm-values.js";
import { kubernetesManifests } from "../../packages/cli/src/kubernetes/kubernetes-manifests.js";
import { kubernetesOptions, type KubernetesOptions } from "../../packages/cli/src/kubernetes/kubernetes-options.js";
import type { KubernetesObject } from "@detour/ext-proc/kubernetes";
import { generatedTopology } from "./support/generated-topology.js";
import { helm, helmBin } from "./support/helm.js";

const demo = loadConfigFile(fileURLToPath(new URL("../../examples/detour.yaml", import.meta.url)));
const edgeSuite = loadConfigFile(fileURLToPath(new URL("../edge/edge-topology.yaml", import.meta.url)));
/** Names that need folding and hashing, and a service with more versions than one HTTPRoute holds. */
const oddNames = detourConfigSchema.parse({
  services: {
    "checkout-service-with-a-name-long-enough-to-need-shortening-x": {
      baseline: "V1.0_rc",
      versions: { "V1.0_rc": {}, "v1.0": {}, "v1-0": {}, "2024.06.01": {}, ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`pr-${100 + i}`, {}])) },
    },
  },
  workloads: { "checkout-service-with-a-name-long-enough-to-need-shortening-x/v1.0": { inject: "*=pr-101" } },
});

interface ChartCase {
  name: string;
  topology: DetourConfig;
  options: Partial<KubernetesOptions>;
  leaveOut?: RoutingConflict[];
  /** Leave values.namespace empty: the chart takes the release namespace (helm template -n). */
  releaseNamespace?: boolean;
}

const CASES: ChartCase[] = [
  { name: "demo, istio, defaults", topology: demo, options: { namespace: "shop" } },
  { name: "demo, istio, namespace from the release", topology: demo, options: { namespace: "staging" }, releaseNamespace: true },
  { name: "demo, gamma with EnvoyFilters, named target port", topology: demo, options: { namespace: "shop", mode: "gamma", servicePort: 8080, targetPort: "http", envoyFilters: true } },
  {
    name: "edge suite: aliases, tokens, trusted sources, gateway routes, other labels and knobs",
    topology: edgeSuite,
    options: {
      namespace: "edge",
      gatewayHosts: ["shop.example.com", "www.example.com"],
      gateway: "gateways/public",
      gatewayNamespace: "gateways",
      gatewaySelector: { app: "public-gateway", tier: "edge" },
      appLabel: "app.kubernetes.io/name",
      versionLabel: "app.kubernetes.io/version",
      replicas: 3,
      image: "registry.example.com/detour-ext-proc:0.1.0",
      clusterDomain: "corp.local",
      messageTimeoutMs: 750,
      tokenKeysSecret: "edge-keys",
      skipRoutes: ["payments"],
    },
    leaveOut: [{ service: "pricing", kind: "VirtualService", object: "edge/pricing" }],
  },
  { name: "the edge suite trusting nobody", topology: { ...edgeSuite, edge: { ...edgeSuite.edge!, trustedCidrs: [] } }, options: { namespace: "edge" } },
  { name: "50 services x 4 versions, istio", topology: generatedTopology(50, 4), options: { namespace: "large" } },
  { name: "50 services x 4 versions, gamma", topology: generatedTopology(50, 4), options: { namespace: "large", mode: "gamma" } },
  { name: "names that need folding, 20 versions, istio", topology: oddNames, options: { namespace: "odd" } },
  { name: "names that need folding, 20 versions, gamma", topology: oddNames, options: { namespace: "odd", mode: "gamma" } },
  {
    name: "demo with discovery: two watched namespaces, istio routing objects, the Lease elsewhere",
    topology: detourConfigSchema.parse({ ...demo, kubernetes: { namespaces: ["shop", "sandboxes"], routingObjects: "istio", leaderElection: { namespace: "detour-system" } } }),
    options: { namespace: "shop" },
  },
  { name: "demo with discovery, defaults", topology: detourConfigSchema.parse({ ...demo, kubernetes: { namespaces: ["shop"] } }), options: { namespace: "shop", mode: "gamma" } },
];

const dir = mkdtempSync(join(tmpdir(), "detour-helm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const id = (object: KubernetesObject) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
const byId = (objects: KubernetesObject[]) => [...objects].sort((a, b) => id(a).localeCompare(id(b)));

function helmObjects(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

describe(`${HELM_CHART_DIR} renders what detour kubernetes renders`, () => {
  beforeAll(() => {
    helmBin();
  }, 1_800_000);

  it("passes helm lint with its own values", async () => {
    const result = await helm(["lint", HELM_CHART_DIR]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it("with its own values renders the demo topology as detour kubernetes does in the release namespace", async () => {
    const rendered = await helm(["template", "detour", HELM_CHART_DIR, "--namespace", "demo"]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const header = "Generated by `detour kubernetes` from examples/detour.yaml. Do not edit: change the topology and regenerate.";
    const fromCli = kubernetesManifests(demo, kubernetesOptions({ namespace: "demo" }), header).objects;
    expect(byId(helmObjects(rendered.stdout))).toEqual(JSON.parse(JSON.stringify(byId([...fromCli]))));
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (name, chartCase) => {
    const options = kubernetesOptions(chartCase.options);
    const manifests = kubernetesManifests(chartCase.topology, options, "helm-chart.test.ts", chartCase.leaveOut ?? []);
    const values = helmValues(options, manifests.serverConfigText, chartCase.leaveOut ?? []);
    const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.yaml`);
    writeFileSync(file, helmValuesYaml(chartCase.releaseNamespace ? { ...values, namespace: "" } : values, "test values"));

    const lint = await helm(["lint", HELM_CHART_DIR, "-f", file]);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    const rendered = await helm(["template", "detour", HELM_CHART_DIR, "-f", file, "--namespace", options.namespace]);
    expect(rendered.code, rendered.stderr).toBe(0);

    const fromHelm = byId(helmObjects(rendered.stdout));
    const fromCli = byId([...manifests.objects]);
    expect(fromHelm.map(id)).toEqual(fromCli.map(id));
    for (const [index, object] of fromCli.entries()) expect(fromHelm[index], id(object)).toEqual(JSON.parse(JSON.stringify(object)));
  });

  it("refuses values without a server config, or with a mode it does not know, saying why", async () => {
    const missing = await helm(["template", "detour", HELM_CHART_DIR, "--set", "serverConfig="]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("serverConfig");
    const mode = await helm(["template", "detour", HELM_CHART_DIR, "--set", "mode=linkerd"]);
    expect(mode.code).not.toBe(0);
    expect(mode.stderr).toContain("mode");
    const file = join(dir, "bad-version.yaml");
    writeFileSync(file, "serverConfig: |\n  services:\n    pricing: { baseline: v1, versions: { v1: {}, v2-: {} } }\n");
    const version = await helm(["template", "detour", HELM_CHART_DIR, "-f", file]);
    expect(version.code).not.toBe(0);
    expect(version.stderr).toContain("'v2-' cannot be the value of the pod label 'version'");
  });
});
