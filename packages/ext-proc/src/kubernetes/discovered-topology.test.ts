import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load-config.js";
import { discoverTopology, type ClusterSnapshot, type DiscoverySettings } from "./discovered-topology.js";
import { mergeTopology } from "./merged-topology.js";
import { deploymentView, podView, serviceView, type DeploymentView, type PodView, type ServiceView } from "./object-views.js";

const SETTINGS: DiscoverySettings = { serviceLabels: ["app", "app.kubernetes.io/name"], versionLabels: ["version", "app.kubernetes.io/version"] };
const NOW = Date.parse("2026-05-01T12:00:00Z");

let serial = 0;
function pod(namespace: string, labels: Record<string, string>, options: { ready?: boolean; annotations?: Record<string, string>; deleting?: boolean } = {}): PodView {
  serial++;
  return podView({
    metadata: { name: `pod-${serial}`, namespace, uid: `uid-${serial}`, resourceVersion: String(serial), labels, annotations: options.annotations, deletionTimestamp: options.deleting ? "2026-05-01T11:59:00Z" : undefined },
    status: { conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }] },
  });
}

function deployment(namespace: string, name: string, labels: Record<string, string>, options: { annotations?: Record<string, string>; templateAnnotations?: Record<string, string>; created?: string } = {}): DeploymentView {
  return deploymentView({
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: "1", annotations: options.annotations, creationTimestamp: options.created ?? "2026-05-01T10:00:00Z" },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels, annotations: options.templateAnnotations } } },
  });
}

function service(namespace: string, name: string, annotations: Record<string, string> = {}): ServiceView {
  return serviceView({ metadata: { name, namespace, uid: `uid-svc-${name}`, resourceVersion: "1", annotations } });
}

function discover(snapshot: Partial<ClusterSnapshot>, now = NOW) {
  return discoverTopology({ pods: snapshot.pods ?? [], services: snapshot.services ?? [], deployments: snapshot.deployments ?? [] }, SETTINGS, now);
}

const pricing = (version: string, extra: Record<string, string> = {}) => ({ app: "pricing", version, ...extra });

describe("discoverTopology", () => {
  it("makes a version routable from its first Ready pod to its last", () => {
    const services = [service("shop", "pricing", { "detour.dev/baseline": "v1" })];
    const v1 = pod("shop", pricing("v1"));
    const unready = pod("shop", pricing("pr-7"), { ready: false });
    expect([...discover({ pods: [v1, unready], services }).services.get("pricing")!.versions.keys()]).toEqual(["v1"]);

    const ready = pod("shop", pricing("pr-7"));
    const topology = discover({ pods: [v1, unready, ready], services });
    const found = topology.services.get("pricing")!;
    expect(found).toMatchObject({ name: "pricing", namespace: "shop", baseline: "v1", miss: undefined });
    expect([...found.versions.keys()]).toEqual(["pr-7", "v1"]);
    expect(found.versions.get("pr-7")).toMatchObject({ readyPods: 1, versionLabel: "version", expired: false });

    const terminating = pod("shop", pricing("pr-7"), { deleting: true });
    expect(discover({ pods: [v1, terminating], services }).services.get("pricing")!.versions.has("pr-7")).toBe(false);
  });

  it("reads the Kubernetes recommended labels when Istio's are absent, and ignores pods without both", () => {
    const topology = discover({
      pods: [pod("shop", { "app.kubernetes.io/name": "cart", "app.kubernetes.io/version": "2.1.0" }), pod("shop", { app: "cart" }), pod("shop", { version: "v9" })],
      services: [service("shop", "cart", { "detour.dev/baseline": "2.1.0" })],
    });
    expect(topology.services.get("cart")!.versions.get("2.1.0")).toMatchObject({ versionLabel: "app.kubernetes.io/version", readyPods: 1 });
    expect(topology.versions).toHaveLength(1);
  });

  it("reports a service label that is not a service name, once per object", () => {
    const bad = pod("shop", { app: "Pricing_API", version: "v1" });
    const topology = discover({ pods: [bad] });
    expect(topology.services.size).toBe(0);
    expect(topology.problems).toEqual([expect.objectContaining({ code: "invalid-label", object: `Pod shop/${bad.metadata.name}` })]);
  });

  it("keeps a service whose Service names a baseline even with no Ready pod", () => {
    const topology = discover({ services: [service("shop", "pricing", { "detour.dev/baseline": "v1", "detour.dev/miss": "reject" })] });
    expect(topology.services.get("pricing")).toMatchObject({ baseline: "v1", miss: "reject" });
    expect(topology.services.get("pricing")!.versions.size).toBe(0);
  });

  it("refuses to guess between two namespaces with the same service name", () => {
    const topology = discover({ pods: [pod("shop", pricing("v1")), pod("other", pricing("v2"))] });
    expect(topology.services.has("pricing")).toBe(false);
    expect(topology.problems).toEqual([expect.objectContaining({ code: "service-in-several-namespaces", service: "pricing", message: expect.stringContaining("other, shop") })]);
  });

  it("reports unreadable annotations and uses the default", () => {
    const topology = discover({ pods: [pod("shop", pricing("v1"))], services: [service("shop", "pricing", { "detour.dev/baseline": "v1!", "detour.dev/miss": "drop" })] });
    expect(topology.services.get("pricing")).toMatchObject({ baseline: undefined, miss: undefined });
    expect(topology.problems.map((problem) => problem.code)).toEqual(["invalid-annotation", "invalid-annotation"]);
  });

  it("takes a workload's injection from its Deployment's pod template, and from bare pods", () => {
    const labels = { app: "cart", version: "pr-7" };
    const topology = discover({
      pods: [pod("shop", labels, { annotations: { "detour.dev/inject": "*=stale" } }), pod("shop", { app: "jobs", version: "v1" }, { annotations: { "detour.dev/inject": "pricing=v2" } })],
      deployments: [deployment("shop", "cart-pr-7", labels, { templateAnnotations: { "detour.dev/inject": "*=pr-7" } })],
      services: [service("shop", "cart", { "detour.dev/baseline": "v1" }), service("shop", "jobs", { "detour.dev/baseline": "v1" })],
    });
    expect(Object.fromEntries(topology.injections)).toEqual({ "cart/pr-7": "*=pr-7", "jobs/v1": "pricing=v2" });
  });

  it("injects nothing when two Deployments of one workload disagree, and says who said what", () => {
    const labels = { app: "cart", version: "pr-7" };
    const topology = discover({
      pods: [pod("shop", labels)],
      deployments: [
        deployment("shop", "cart-a", { ...labels, track: "a" }, { templateAnnotations: { "detour.dev/inject": "*=pr-7" } }),
        deployment("shop", "cart-b", { ...labels, track: "b" }),
      ],
      services: [service("shop", "cart", { "detour.dev/baseline": "v1" })],
    });
    expect(topology.injections.size).toBe(0);
    expect(topology.problems).toEqual([
      expect.objectContaining({ code: "inject-disagrees", message: expect.stringMatching(/Deployment shop\/cart-a says '\*=pr-7', Deployment shop\/cart-b says nothing/) }),
    ]);
  });

  it("reports an injection that is not an override", () => {
    const labels = { app: "cart", version: "pr-7" };
    const topology = discover({
      pods: [pod("shop", labels)],
      deployments: [deployment("shop", "cart-pr-7", labels, { templateAnnotations: { "detour.dev/inject": "pricing" } })],
      services: [service("shop", "cart", { "detour.dev/baseline": "v1" })],
    });
    expect(topology.injections.size).toBe(0);
    expect(topology.problems[0]).toMatchObject({ code: "invalid-annotation", object: "Deployment shop/cart-pr-7" });
  });

  describe("expiry", () => {
    const labels = pricing("pr-7");
    const ready = () => pod("shop", labels);

    it("stops counting an expired Deployment's pods, to the millisecond, and names the next expiry", () => {
      const expiring = deployment("shop", "pricing-pr-7", labels, { annotations: { "detour.dev/expires-at": "2026-05-01T12:00:05Z" } });
      const before = discover({ pods: [ready()], deployments: [expiring] }, NOW + 4_999);
      expect(before.versions[0]).toMatchObject({ readyPods: 1, expired: false, expiresAt: NOW + 5_000, deployments: ["pricing-pr-7"] });
      expect(before.nextExpiry).toBe(NOW + 5_000);

      const after = discover({ pods: [ready()], deployments: [expiring], services: [service("shop", "pricing", { "detour.dev/baseline": "v1" })] }, NOW + 5_000);
      expect(after.versions[0]).toMatchObject({ readyPods: 0, expiredPods: 1, expired: true });
      expect(after.services.get("pricing")!.versions.has("pr-7")).toBe(false);
      expect(after.expiredDeployments).toEqual([{ namespace: "shop", name: "pricing-pr-7", uid: "uid-pricing-pr-7", service: "pricing", version: "pr-7", expiresAt: NOW + 5_000 }]);
      expect(after.nextExpiry).toBeUndefined();
    });

    it("counts a ttl from the Deployment's creation, and the earlier of ttl and expires-at wins", () => {
      const ttl = deployment("shop", "pricing-pr-7", labels, { annotations: { "detour.dev/ttl": "2h" }, created: "2026-05-01T11:00:00Z" });
      expect(discover({ deployments: [ttl] }).versions[0]!.expiresAt).toBe(Date.parse("2026-05-01T13:00:00Z"));
      const both = deployment("shop", "pricing-pr-7", labels, { annotations: { "detour.dev/ttl": "2h", "detour.dev/expires-at": "2026-05-01T12:30:00+00:00" }, created: "2026-05-01T11:00:00Z" });
      expect(discover({ deployments: [both] }).versions[0]!.expiresAt).toBe(Date.parse("2026-05-01T12:30:00Z"));
    });

    it("reports an unreadable expiry and sets none", () => {
      const bad = deployment("shop", "pricing-pr-7", labels, { annotations: { "detour.dev/expires-at": "tomorrow", "detour.dev/ttl": "1 week" } });
      const topology = discover({ pods: [ready()], deployments: [bad] });
      expect(topology.versions[0]).toMatchObject({ readyPods: 1, expiresAt: undefined });
      expect(topology.problems.map((problem) => problem.message)).toEqual([expect.stringContaining("'tomorrow' is not an RFC 3339 time"), expect.stringContaining("'1 week' is not a duration")]);
    });

    it("keeps pods of another, unexpired Deployment of the same version", () => {
      const expired = deployment("shop", "pricing-pr-7-old", { ...labels, track: "old" }, { annotations: { "detour.dev/expires-at": "2026-05-01T11:00:00Z" } });
      const topology = discover({ pods: [pod("shop", { ...labels, track: "old" }), pod("shop", { ...labels, track: "new" })], deployments: [expired] });
      expect(topology.versions[0]).toMatchObject({ readyPods: 1, expiredPods: 1, expired: false });
    });
  });
});

describe("mergeTopology", () => {
  const staticConfig = parseConfig({
    services: {
      pricing: { baseline: "v1", miss: "reject", versions: { v1: {}, v2: {} } },
      catalog: { baseline: "v1", hosts: ["shop-catalog"], versions: { v1: {} } },
    },
    workloads: { "cart/pr-7": { inject: "*=pr-7" }, "jobs/v1": { trust: "any" } },
  });

  it("adds discovered versions to a declared service, keeping its entry", () => {
    const merged = mergeTopology(staticConfig, discover({ pods: [pod("shop", pricing("pr-7")), pod("shop", pricing("v1"))] }));
    expect(merged.config.services.pricing).toEqual({ baseline: "v1", miss: "reject", hosts: [], versions: { v1: {}, v2: {}, "pr-7": {} } });
    expect(merged.problems).toEqual([]);
    expect(staticConfig.services.pricing!.versions).toEqual({ v1: {}, v2: {} });
  });

  it("reports annotations that disagree with detour.yaml and uses detour.yaml", () => {
    const merged = mergeTopology(staticConfig, discover({ services: [service("shop", "pricing", { "detour.dev/baseline": "v2", "detour.dev/miss": "fallback" })] }));
    expect(merged.config.services.pricing).toMatchObject({ baseline: "v1", miss: "reject" });
    expect(merged.problems.map((problem) => problem.code)).toEqual(["baseline-disagrees", "miss-disagrees"]);
  });

  it("routes a discovered-only service by its annotated baseline, and leaves out one without", () => {
    const merged = mergeTopology(
      staticConfig,
      discover({ pods: [pod("shop", { app: "cart", version: "v1" }), pod("shop", { app: "search", version: "v1" })], services: [service("shop", "cart", { "detour.dev/baseline": "v1" })] }),
    );
    expect(merged.config.services.cart).toEqual({ baseline: "v1", miss: "fallback", hosts: [], versions: { v1: {} } });
    expect(merged.config.services.search).toBeUndefined();
    expect(merged.problems).toEqual([expect.objectContaining({ code: "no-baseline", service: "search" })]);
  });

  it("leaves out a discovered name that is another service's host", () => {
    const merged = mergeTopology(staticConfig, discover({ services: [service("shop", "shop-catalog", { "detour.dev/baseline": "v1" })] }));
    expect(merged.config.services["shop-catalog"]).toBeUndefined();
    expect(merged.problems).toEqual([expect.objectContaining({ code: "name-taken-by-host" })]);
  });

  it("merges injections: detour.yaml's wins and a different one is reported", () => {
    const withInject = (labels: Record<string, string>, inject: string) => deployment("shop", `${labels.app}-${labels.version}`, labels, { templateAnnotations: { "detour.dev/inject": inject } });
    const cart = { app: "cart", version: "pr-7" };
    const jobs = { app: "jobs", version: "v1" };
    const merged = mergeTopology(
      staticConfig,
      discover({
        pods: [pod("shop", cart), pod("shop", jobs)],
        deployments: [withInject(cart, "*=pr-8"), withInject(jobs, "pricing=v2")],
        services: [service("shop", "cart", { "detour.dev/baseline": "v1" }), service("shop", "jobs", { "detour.dev/baseline": "v1" })],
      }),
    );
    expect(merged.config.workloads["cart/pr-7"]).toEqual({ inject: "*=pr-7" });
    expect(merged.config.workloads["jobs/v1"]).toEqual({ trust: "any", inject: "pricing=v2" });
    expect(merged.problems).toEqual([expect.objectContaining({ code: "inject-disagrees", message: expect.stringContaining("injects '*=pr-8' but detour.yaml says '*=pr-7'") })]);
  });

  it("returns detour.yaml itself when nothing was discovered", () => {
    expect(mergeTopology(staticConfig, discover({})).config).toBe(staticConfig);
  });
});
