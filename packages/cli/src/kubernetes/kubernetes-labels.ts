import { DetourError } from "@detour/core";

/** A Kubernetes label value: at most 63 characters, alphanumeric at both ends, '-', '_' and '.' between. */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/**
 * `version` as the value of the version label, or a clear error: detour's version grammar allows
 * a trailing '.', '_' or '-', which a label value does not, so such a version cannot be selected
 * by pods' labels.
 */
export function versionLabelValue(service: string, version: string, label: string): string {
  if (!LABEL_VALUE.test(version)) {
    throw new DetourError(
      "invalid-config",
      `services.${service}.versions.${version}: '${version}' cannot be the value of the pod label '${label}' (Kubernetes label values end in a letter or digit): rename the version`,
    );
  }
  return version;
}
