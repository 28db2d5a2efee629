import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { loadConfigFile, type DetourConfig } from "@detour/ext-proc";
import { extProcConfigFromTopology } from "../generate/ext-proc-config.js";
import { clusterObjectsFromYaml, routingConflicts } from "./existing-routing.js";
import { kubernetesManifests, kubernetesYaml } from "./kubernetes-manifests.js";
import { dnsLabelName, subsetName, type KubernetesObject } from "@detour/ext-proc/kubernetes";
import { kubernetesOptions } from "./kubernetes-options.js";
import { mergeInstructions } from "./merge-instructions.js";

const demo = loadConfigFile(fileURLToPath(new URL("../../../../examples/detour.yaml", import.meta.url)));
const edgeSuite = loadConfigFile(fileURLToPath(new URL("../../../../test/edge/edge-topology.yaml", import.meta.url)));
const HEADER = "test header";

function render(config: DetourConfig, options: Parameters<typeof kubernetesOptions>[0] = {}) {
  return kubernetesManifests(config, kubernetesOptions({ namespace: "shop", ...options }), HEADER);
}

const ids = (objects: readonly KubernetesObject[]) => objects.map((object) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`);
// The objects are plain trees the tests walk by path; typing every path would only repeat the generator.
type Loose = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- see above
const find = (objects: readonly KubernetesObject[], kind: string, name: string): Loose => objects.find((object) => object.kind === kind && object.metadata.name === name);

describe("kubernetesManifests (istio mode, the demo topology)", () => {
  const { objects, serverConfig } = render(demo);

  it("renders the server, the EnvoyFilters and a DestinationRule and VirtualService per service, in apply order", () => {
    expect(ids(objects)).toEqual([
      "ServiceAccount/shop/detour-ext-proc",
      "ConfigMap/shop/detour-ext-proc-config",
      "Service/shop/detour-ext-proc",
      "Deployment/shop/detour-ext-proc",
      "PodDisruptionBudget/shop/detour-ext-proc",
      "EnvoyFilter/shop/detour-sidecar",
      "EnvoyFilter/shop/detour-workload-cart-pr-7",
      "EnvoyFilter/istio-system/detour-edge",
      // Services, versions and workloads in name order (sorted-names.ts).
      "DestinationRule/shop/detour-cart",
      "VirtualService/shop/detour-cart",
      "DestinationRule/shop/detour-catalog",
      "VirtualService/shop/detour-catalog",
      "DestinationRule/shop/detour-frontend",
      "VirtualService/shop/detour-frontend",
      "DestinationRule/shop/detour-pricing",
      "VirtualService/shop/detour-pricing",
    ]);
    for (const object of objects) expect(object.metadata.labels["app.kubernetes.io/part-of"]).toBe("detour");
  });

  it("puts the same server config into the ConfigMap that `detour ext-proc-config` writes for the pod's addresses", () => {
    const data = (find(objects, "ConfigMap", "detour-ext-proc-config").data as Record<string, string>)["detour.yaml"]!;
    expect(data.startsWith(`# ${HEADER}\n`)).toBe(true);
    expect(parse(data)).toEqual(JSON.parse(JSON.stringify(extProcConfigFromTopology(demo, { listen: "0.0.0.0:50051", metrics: "0.0.0.0:9464" }))));
    expect(serverConfig.server.listen).toBe("0.0.0.0:50051");
  });

  it("runs the server as a hardened, spread, probed Deployment behind a gRPC Service", () => {
    const deployment = find(objects, "Deployment", "detour-ext-proc") as { spec: Loose };
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe("kubernetes.io/hostname");
    expect(container.resources.requests).toBeDefined();
    expect(container.args).toEqual(["--config", "/etc/detour/detour.yaml"]);
    // The ConfigMap is mounted as a directory: updates arrive by symlink swap (a subPath never updates).
    expect(container.volumeMounts[0]).toEqual({ name: "config", mountPath: "/etc/detour", readOnly: true });
    const service = find(objects, "Service", "detour-ext-proc") as { spec: { ports: Array<Record<string, unknown>> } };
    expect(service.spec.ports.map((port) => [port.name, port.appProtocol])).toEqual([["grpc", "grpc"], ["metrics", "http"]]);
  });

  it("routes x-detour-route to each version's subset and everything else to the baseline", () => {
    const vs = find(objects, "VirtualService", "detour-pricing") as { spec: { hosts: string[]; http: Array<Record<string, unknown>> } };
    expect(vs.spec.hosts).toEqual(["pricing.shop.svc.cluster.local"]);
    expect(vs.spec.http.map((route) => route.name)).toEqual(["detour-v1", "detour-v2", "detour-baseline"]);
    expect(vs.spec.http[1]).toEqual({
      name: "detour-v2",
      match: [{ headers: { "x-detour-route": { exact: "v2" } } }],
      route: [{ destination: { host: "pricing.shop.svc.cluster.local", subset: "v2" } }],
    });
    const dr = find(objects, "DestinationRule", "detour-cart") as { spec: { subsets: unknown[] } };
    expect(dr.spec.subsets).toEqual([
      { name: "pr-7", labels: { version: "pr-7" } },
      { name: "v1", labels: { version: "v1" } },
    ]);
  });

  it("gives the injecting workload its identity, selected by its labels, after the namespace-wide filter", () => {
    const filter = find(objects, "EnvoyFilter", "detour-workload-cart-pr-7") as { spec: Loose };
    expect(filter.spec.workloadSelector).toEqual({ labels: { app: "cart", version: "pr-7" } });
    expect(filter.spec.priority).toBeGreaterThan(0);
    const patch = filter.spec.configPatches[0];
    expect(patch.patch.operation).toBe("REPLACE");
    // It injects: every request needs ext_proc, so no skip matcher around the filter.
    expect(patch.patch.value.typed_config["@type"]).toContain("ExternalProcessor");
    expect(patch.patch.value.typed_config.grpc_service.initial_metadata).toEqual([
      { key: "x-detour-workload", value: "cart/pr-7" },
      { key: "x-detour-role", value: "outbound" },
    ]);
  });

  it("honours the label keys, replicas, image and namespace it is given", () => {
    const other = render(demo, { namespace: "staging", versionLabel: "app.kubernetes.io/version", appLabel: "app.kubernetes.io/name", replicas: 3, image: "r.example/detour:1" }).objects;
    const dr = find(other, "DestinationRule", "detour-cart") as { spec: { host: string; subsets: Array<{ labels: unknown }> } };
    expect(dr.spec.host).toBe("cart.staging.svc.cluster.local");
    expect(dr.spec.subsets[0]!.labels).toEqual({ "app.kubernetes.io/version": "pr-7" });
    const filter = find(other, "EnvoyFilter", "detour-workload-cart-pr-7") as { spec: { workloadSelector: unknown } };
    expect(filter.spec.workloadSelector).toEqual({ labels: { "app.kubernetes.io/name": "cart", "app.kubernetes.io/version": "pr-7" } });
    const deployment = find(other, "Deployment", "detour-ext-proc") as { spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } };
    expect([deployment.spec.replicas, deployment.spec.template.spec.containers[0]!.image]).toEqual([3, "r.example/detour:1"]);
  });

  it("writes one YAML stream kubectl can apply", () => {
    const text = kubernetesYaml(objects, HEADER);
    expect(text.startsWith(`# ${HEADER}\n---\n`)).toBe(true);
    expect(text.split("\n---\n")).toHaveLength(objects.length + 1); // the header, then one document per object
    expect(text).not.toMatch(/[&*]a\d/); // no YAML anchors
  });
});

describe("kubernetesManifests (edge, tokens, aliases)", () => {
  const { objects, keyFiles, serverConfig } = render(edgeSuite);

  it("reads the token keys from the Secret's mount, by file name, and mounts the Secret", () => {
    expect(keyFiles).toEqual(["jwks.json", "es-1.pub.pem", "hs-1.secret"]);
    expect(serverConfig.edge!.tokens!.keys.map((key) => Object.values(key).find((value) => typeof value === "string" && value.startsWith("/")))).toEqual([
      "/etc/detour-keys/jwks.json",
      "/etc/detour-keys/es-1.pub.pem",
      "/etc/detour-keys/hs-1.secret",
    ]);
    const pod = (find(objects, "Deployment", "detour-ext-proc") as { spec: { template: { spec: { volumes: unknown[] } } } }).spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: "token-keys", secret: { secretName: "detour-token-keys" } });
  });

  it("refuses two key files of the same name (they would be one Secret key)", () => {
    const tokens = edgeSuite.edge!.tokens!;
    const clash = { ...edgeSuite, edge: { ...edgeSuite.edge!, tokens: { ...tokens, keys: [{ secretFile: "a/k.pem" }, { secretFile: "b/k.pem" }] } } } as DetourConfig;
    expect(() => render(clash)).toThrow(/same file name 'k.pem'/);
  });

  it("gives the token-trusting workload an identity whose filter also sees token-only requests", () => {
    const filter = find(objects, "EnvoyFilter", "detour-workload-frontend-v1") as { spec: Loose };
    const text = JSON.stringify(filter.spec.configPatches[0].patch.value);
    expect(text).toContain('"header_name":"x-detour-token"');
    expect(text).toContain('"value":"frontend/v1"');
  });

  it("lets the gateway's ext_proc see every carrier, the query token included, and strips unanswered ones", () => {
    const filter = find(objects, "EnvoyFilter", "detour-edge") as { spec: Loose };
    const text = JSON.stringify(filter.spec);
    for (const name of ["x-override", "virtual-cluster-name", "x-detour-token", "cookie"]) expect(text).toContain(`"header_name":"${name}"`);
    expect(text).toContain('"query_param":"detour_token"');
    expect(text).toContain("detour.edge.unanswered");
    // 127.0.0.2/32 is trusted: plain carriers reach ext_proc, only internal headers go early.
    const early = filter.spec.configPatches[1].patch.value.typed_config.early_header_mutation_extensions[0].typed_config.mutations;
    expect(early).toEqual([{ remove: "x-detour-route" }, { remove: "x-detour-edge" }]);
    const untrusted = render({ ...edgeSuite, edge: { ...edgeSuite.edge!, trustedCidrs: [] } }).objects;
    const strict = (find(untrusted, "EnvoyFilter", "detour-edge") as { spec: Loose }).spec;
    expect(strict.configPatches[1].patch.value.typed_config.early_header_mutation_extensions[0].typed_config.mutations.map((m: { remove: string }) => m.remove)).toEqual([
      "x-detour-route",
      "x-detour-edge",
      "x-detour",
      "x-override",
      "virtual-cluster-name",
    ]);
  });

  it("routes the edge service's versions at the gateway only for hosts it is given", () => {
    expect(objects.some((object) => object.metadata.name === "detour-edge" && object.kind === "VirtualService")).toBe(false);
    const withHost = render(edgeSuite, { gatewayHosts: ["shop.example.com"], gateway: "istio-system/public" }).objects;
    const vs = find(withHost, "VirtualService", "detour-edge") as { spec: { hosts: string[]; gateways: string[]; http: Array<{ name: string }> } };
    expect([vs.spec.hosts, vs.spec.gateways]).toEqual([["shop.example.com"], ["istio-system/public"]]);
    expect(vs.spec.http.map((route) => route.name)).toEqual(["detour-v1", "detour-v2", "detour-baseline"]);
  });
});

describe("kubernetesManifests (gamma mode)", () => {
  it("renders a Service per version and HTTPRoutes on the service's own Service, without EnvoyFilters", () => {
    const { objects } = render(demo, { mode: "gamma", servicePort: 8080, targetPort: "http" });
    expect(objects.filter((object) => object.kind === "EnvoyFilter")).toEqual([]);
    const v2 = find(objects, "Service", "detour-pricing-v2") as { spec: unknown };
    expect(v2.spec).toEqual({ selector: { app: "pricing", version: "v2" }, ports: [{ name: "http", port: 8080, targetPort: "http", protocol: "TCP", appProtocol: "http" }] });
    const route = find(objects, "HTTPRoute", "detour-pricing") as { spec: { parentRefs: unknown; rules: Array<Loose> } };
    expect(route.spec.parentRefs).toEqual([{ group: "", kind: "Service", name: "pricing" }]);
    expect(route.spec.rules.map((rule) => rule.backendRefs[0].name)).toEqual(["detour-pricing-v1", "detour-pricing-v2", "detour-pricing-v1"]);
    expect(route.spec.rules[1]!.matches).toEqual([{ headers: [{ type: "Exact", name: "x-detour-route", value: "v2" }] }]);
    expect(render(demo, { mode: "gamma", envoyFilters: true }).objects.filter((object) => object.kind === "EnvoyFilter")).toHaveLength(3);
  });

  it("splits the rules of a service with many versions over several HTTPRoutes (16 rules each)", () => {
    const versions = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`v${index}`, {}]));
    const big = { ...demo, services: { pricing: { baseline: "v0", miss: "fallback", hosts: [], versions } }, workloads: {}, edge: undefined } as DetourConfig;
    const routes = render(big, { mode: "gamma" }).objects.filter((object) => object.kind === "HTTPRoute") as Loose[];
    expect(routes.map((route: Loose) => [route.metadata.name, route.spec.rules.length])).toEqual([
      ["detour-pricing", 16],
      ["detour-pricing-2", 5],
    ]);
  });
});

describe("names", () => {
  it("keeps DNS-label names as they are and makes every other name a unique label", () => {
    expect(dnsLabelName(["detour", "pricing", "v2"])).toBe("detour-pricing-v2");
    const folded = [dnsLabelName(["detour", "pricing", "v1.0"]), dnsLabelName(["detour", "pricing", "v1-0"]), dnsLabelName(["detour", "pricing", "V1_0"])];
    expect(new Set(folded).size).toBe(3);
    for (const name of folded) expect(name).toMatch(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/);
    const long = dnsLabelName(["detour", "a".repeat(63), "b".repeat(63)]);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(subsetName("v2")).toBe("v2");
    expect(subsetName("V2.1")).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });

  it("refuses a version a pod label cannot hold", () => {
    const bad = { ...demo, services: { pricing: { baseline: "v1", miss: "fallback", hosts: [], versions: { v1: {}, "v2-": {} } } }, workloads: {}, edge: undefined } as DetourConfig;
    expect(() => render(bad)).toThrow(/'v2-' cannot be the value of the pod label 'version'/);
  });

  it("refuses --skip-routes for a service the topology does not have", () => {
    expect(() => render(demo, { skipRoutes: ["nope"] })).toThrow(/--skip-routes nope: not a service/);
    expect(ids(render(demo, { skipRoutes: ["pricing"] }).objects).filter((id) => id.includes("pricing"))).toEqual([]);
  });
});

describe("existing routing objects", () => {
  const existing = clusterObjectsFromYaml(
    `apiVersion: v1
kind: List
items:
  - kind: VirtualService
    metadata: { name: pricing, namespace: shop }
    spec: { hosts: [pricing], http: [{ route: [{ destination: { host: pricing } }] }] }
  - kind: VirtualService
    metadata: { name: public, namespace: shop }
    spec: { hosts: [cart.shop.svc.cluster.local], gateways: [istio-system/public] }
  - kind: DestinationRule
    metadata: { name: cart, namespace: other }
    spec: { host: cart.shop }
  - kind: VirtualService
    metadata: { name: detour-catalog, namespace: shop, labels: { app.kubernetes.io/part-of: detour } }
    spec: { hosts: [catalog] }
`,
    "existing.yaml",
  );
  const options = kubernetesOptions({ namespace: "shop" });

  it("finds someone else's VirtualService (short host) and DestinationRule (other namespace), not gateway-only or detour's own", () => {
    const conflicts = routingConflicts(existing, Object.keys(demo.services), options);
    expect(conflicts).toEqual([
      { service: "pricing", kind: "VirtualService", object: "shop/pricing" },
      { service: "cart", kind: "DestinationRule", object: "other/cart" },
    ]);
    const ids2 = ids(kubernetesManifests(demo, options, HEADER, conflicts).objects);
    expect(ids2).not.toContain("VirtualService/shop/detour-pricing");
    expect(ids2).toContain("DestinationRule/shop/detour-pricing");
    expect(ids2).not.toContain("DestinationRule/shop/detour-cart");
    expect(ids2).toContain("VirtualService/shop/detour-cart");
  });

  it("says exactly what to merge into them", () => {
    const text = mergeInstructions(routingConflicts(existing, Object.keys(demo.services), options), demo, options);
    expect(text).toContain("VirtualService shop/pricing routes pricing: add these routes at the top of its spec.http, and send its own routes to subset 'v1'");
    expect(text).toContain("  http:\n    - name: detour-v1\n");
    expect(text).not.toContain("detour-baseline");
    expect(text).toContain("DestinationRule other/cart holds cart's subsets: add these to its spec.subsets");
    expect(text).toContain("    - name: pr-7\n      labels:\n        version: pr-7");
  });
});
