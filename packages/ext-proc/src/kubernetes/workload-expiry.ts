import { durationSeconds } from "../config/duration-text.js";
import { EXPIRES_AT_ANNOTATION, TTL_ANNOTATION } from "../constants.js";
import type { DeploymentView } from "./object-views.js";
import { objectRef, type TopologyProblem } from "./topology-problem.js";

/** RFC 3339 date-time (section 5.6): a full date, `T`, a full time, and `Z` or an offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp as epoch milliseconds, or undefined. */
export function rfc3339Millis(value: string): number | undefined {
  if (!RFC3339.test(value)) return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : millis;
}

export interface WorkloadExpiry {
  /** Epoch milliseconds after which the Deployment's pods no longer make its version routable. */
  readonly expiresAt: number | undefined;
  readonly problems: readonly TopologyProblem[];
}

/**
 * When a Deployment's version stops being routable: `detour.dev/expires-at` (RFC 3339) or
 * `detour.dev/ttl` counted from the Deployment's creation, whichever comes first. An annotation
 * that cannot be read is reported and sets no expiry.
 */
export function deploymentExpiry(deployment: DeploymentView): WorkloadExpiry {
  const annotations = deployment.metadata.annotations;
  const object = objectRef("Deployment", deployment.metadata);
  const problems: TopologyProblem[] = [];
  const candidates: number[] = [];
  const expiresAt = annotations[EXPIRES_AT_ANNOTATION];
  if (expiresAt !== undefined) {
    const millis = rfc3339Millis(expiresAt.trim());
    if (millis === undefined) {
      problems.push({
        code: "invalid-annotation",
        object,
        message: `${EXPIRES_AT_ANNOTATION} '${expiresAt}' is not an RFC 3339 time (e.g. 2026-05-01T18:00:00Z): it sets no expiry`,
      });
    } else {
      candidates.push(millis);
    }
  }
  const ttl = annotations[TTL_ANNOTATION];
  if (ttl !== undefined) {
    const seconds = durationSeconds(ttl);
    const created = deployment.metadata.creationTimestamp === undefined ? undefined : rfc3339Millis(deployment.metadata.creationTimestamp);
    if (seconds === undefined) {
      problems.push({ code: "invalid-annotation", object, message: `${TTL_ANNOTATION} '${ttl}' is not a duration (a number with s, m, h or d, e.g. 72h): it sets no expiry` });
    } else if (created !== undefined) {
      candidates.push(created + seconds * 1000);
    }
  }
  return { expiresAt: candidates.length === 0 ? undefined : Math.min(...candidates), problems };
}
