import { DetourError } from "@detour/core";
import { describe, expect, it } from "vitest";
import { parseConfig } from "./load-config.js";
import { durationSeconds } from "./duration-text.js";

function problem(kubernetes: unknown): string {
  try {
    parseConfig({ services: {}, kubernetes }, "detour.yaml");
  } catch (error) {
    expect((error as DetourError).code).toBe("invalid-config");
    return (error as Error).message;
  }
  throw new Error("config was accepted");
}

describe("the kubernetes section of detour.yaml", () => {
  it("fills in the defaults: Istio's labels, then the recommended ones; in-cluster; no routing objects", () => {
    expect(parseConfig({ services: {}, kubernetes: { namespaces: ["shop"] } }).kubernetes).toEqual({
      namespaces: ["shop"],
      serviceLabels: ["app", "app.kubernetes.io/name"],
      versionLabels: ["version", "app.kubernetes.io/version"],
      routingObjects: "none",
      clusterDomain: "cluster.local",
      leaderElection: { lease: "detour-ext-proc", leaseDurationSeconds: 10, renewDeadlineSeconds: 7, retryPeriodSeconds: 2 },
    });
  });

  it("is absent unless written", () => {
    expect(parseConfig({ services: {} }).kubernetes).toBeUndefined();
  });

  it("names the field and the problem", () => {
    expect(problem({})).toMatch(/kubernetes\.namespaces: /);
    expect(problem({ namespaces: [] })).toMatch(/kubernetes\.namespaces: name at least one namespace/);
    expect(problem({ namespaces: ["Shop"] })).toMatch(/kubernetes\.namespaces\[0\]: must be a namespace name/);
    expect(problem({ namespaces: ["shop", "shop"] })).toMatch(/kubernetes\.namespaces: a namespace is listed twice/);
    expect(problem({ namespaces: ["shop"], serviceLabels: ["app/"] })).toMatch(/kubernetes\.serviceLabels\[0\]: must be a Kubernetes label key/);
    expect(problem({ namespaces: ["shop"], versionLabels: [] })).toMatch(/kubernetes\.versionLabels: /);
    expect(problem({ namespaces: ["shop"], context: "kind" })).toMatch(/kubernetes\.context: a context belongs to a kubeconfig/);
    expect(problem({ namespaces: ["shop"], routingObjects: "linkerd" })).toMatch(/kubernetes\.routingObjects: /);
    expect(problem({ namespaces: ["shop"], leaderElection: { leaseDurationSeconds: 5 } })).toMatch(/kubernetes\.leaderElection\.renewDeadlineSeconds: must be less than leaseDurationSeconds \(5\)/);
    expect(problem({ namespaces: ["shop"], leaderElection: { retryPeriodSeconds: 7 } })).toMatch(/kubernetes\.leaderElection\.retryPeriodSeconds: must be less than renewDeadlineSeconds/);
    expect(problem({ namespaces: ["shop"], watch: "pods" })).toMatch(/kubernetes\.watch: /);
  });

  it("takes label keys with a prefix and a kubeconfig with a context", () => {
    const config = parseConfig({ services: {}, kubernetes: { namespaces: ["shop", "sandbox"], serviceLabels: ["example.com/service"], kubeconfig: "kubeconfig", context: "staging" } });
    expect(config.kubernetes).toMatchObject({ serviceLabels: ["example.com/service"], kubeconfig: "kubeconfig", context: "staging" });
  });
});

describe("durationSeconds", () => {
  it("reads one unit of s, m, h or d, or plain seconds", () => {
    expect([durationSeconds("90s"), durationSeconds("15m"), durationSeconds("72h"), durationSeconds("7d"), durationSeconds(" 30 ")]).toEqual([90, 900, 259_200, 604_800, 30]);
  });

  it("refuses anything else", () => {
    for (const text of ["", "0", "0s", "1h30m", "-5m", "1.5h", "1w", "h"]) expect(durationSeconds(text)).toBeUndefined();
  });
});
