import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPTS = fileURLToPath(new URL("../../../scripts/", import.meta.url));

export interface KubernetesTools {
  /** etcd (scripts/install-etcd; ETCD_BIN overrides). */
  readonly etcd: string;
  /** kube-apiserver (scripts/install-kube-apiserver; KUBE_APISERVER_BIN overrides). */
  readonly kubeApiserver: string;
  /** Istio's and Gateway API's CRDs (scripts/install-kubernetes-crds; KUBERNETES_CRDS_DIR overrides). */
  readonly crdsDir: string;
}

let tools: KubernetesTools | undefined;

/**
 * The binaries and CRDs the API server rig runs, resolved through the project's install scripts
 * (they honour the env overrides and print cached paths at once). The lane
 * (scripts/test-kubernetes) resolves them before vitest starts, so a first kube-apiserver build
 * never runs inside a test hook's timeout.
 */
export function kubernetesTools(): KubernetesTools {
  tools ??= {
    etcd: runInstallScript("install-etcd"),
    kubeApiserver: runInstallScript("install-kube-apiserver"),
    crdsDir: runInstallScript("install-kubernetes-crds"),
  };
  return tools;
}

function runInstallScript(script: string): string {
  try {
    return execFileSync(`${SCRIPTS}${script}`, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`scripts/${script} failed: ${stderr || (error as Error).message}`);
  }
}
