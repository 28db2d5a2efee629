import { createHash } from "node:crypto";
import type { ExpiredDeployment } from "./discovered-topology.js";
import { ownedLabels } from "./detour-ownership.js";
import { microTime } from "./micro-time.js";

/** `reportingController` of detour's Events (a qualified name, as Kubernetes asks). */
export const REPORTING_CONTROLLER = "detour.dev/ext-proc";
/** Reason of the Event on a Deployment whose version expired. */
export const EXPIRED_REASON = "VersionExpired";
/** Longest `reportingInstance` the API server takes. */
const MAX_INSTANCE = 128;
/** Room for the Event name's suffix inside a 253-character object name. */
const NAME_HEAD = 200;

/** An events.k8s.io/v1 Event as JSON. */
export interface EventObject {
  readonly apiVersion: "events.k8s.io/v1";
  readonly kind: "Event";
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly [field: string]: unknown;
}

/** A name for the Event of one expiry of one Deployment: the same for every replica, so it is created once. */
export function expiryEventName(deployment: ExpiredDeployment): string {
  const hash = createHash("sha256").update(`${deployment.uid}@${deployment.expiresAt}`).digest("hex").slice(0, 10);
  return `${deployment.name.slice(0, NAME_HEAD)}.detour-expired.${hash}`;
}

/**
 * The events.k8s.io/v1 Event on a Deployment whose version expired: `kubectl describe
 * deployment` shows it. Named after the Deployment's uid and expiry, so a new leader reporting
 * the same expiry finds it already there.
 */
export function expiryEvent(deployment: ExpiredDeployment, reportingInstance: string, now: number): EventObject {
  const workload = deployment.service === undefined ? "its version" : `${deployment.service}/${deployment.version}`;
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: expiryEventName(deployment), namespace: deployment.namespace, labels: ownedLabels("ext-proc") },
    eventTime: microTime(now),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: reportingInstance.slice(0, MAX_INSTANCE),
    action: "Expire",
    reason: EXPIRED_REASON,
    type: "Normal",
    regarding: { apiVersion: "apps/v1", kind: "Deployment", namespace: deployment.namespace, name: deployment.name, uid: deployment.uid },
    note: `${workload} expired at ${new Date(deployment.expiresAt).toISOString()}: detour no longer routes requests to it (the service's miss policy applies). detour does not delete the Deployment.`,
  };
}
