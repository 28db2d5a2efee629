import { request } from "node:https";
import { join } from "node:path";
import { waitFor } from "../../support/wait-for.js";
import { startToolProcess, type ToolProcess } from "./tool-process.js";

/** How the API server decides who may do what. */
export type AuthorizationMode = "RBAC" | "AlwaysAllow";

export interface KubeApiserverSettings {
  readonly bin: string;
  /** Holds the token file, the service-account keys and the serving certificate (certs/). */
  readonly dir: string;
  readonly etcdUrl: string;
  readonly port: number;
  readonly authorization: AuthorizationMode;
  /** A token that passes readiness checks (the rig's admin). */
  readonly probeToken: string;
}

export interface KubeApiserver {
  readonly process: ToolProcess;
  /** Milliseconds from spawn to a 200 from /readyz. */
  readonly readyMs: number;
}

/** Files of a rig directory, one name each. */
export const RIG_FILES = {
  tokens: "tokens.csv",
  serviceAccountPrivateKey: "service-account.key",
  serviceAccountPublicKey: "service-account.pub",
  certDir: "certs",
  /** kube-apiserver writes its self-signed serving certificate, then the CA that signed it. */
  servingCertificate: join("certs", "apiserver.crt"),
} as const;

/**
 * kube-apiserver on 127.0.0.1:`port` as envtest runs it: static tokens, service-account keys
 * of the rig's own, no kubelet or controller manager. The ServiceAccount admission plugin is off
 * because no controller creates the `default` ServiceAccount it would require in each namespace;
 * API priority and fairness is off because its bookkeeping writes add seconds to start-up and
 * nothing here competes for the server.
 */
export async function startKubeApiserver(settings: KubeApiserverSettings): Promise<KubeApiserver> {
  const file = (name: string) => join(settings.dir, name);
  const url = `https://127.0.0.1:${settings.port}`;
  const started = performance.now();
  const server = startToolProcess("kube-apiserver", settings.bin, [
    `--etcd-servers=${settings.etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${settings.port}`,
    `--cert-dir=${file(RIG_FILES.certDir)}`,
    `--token-auth-file=${file(RIG_FILES.tokens)}`,
    `--authorization-mode=${settings.authorization}`,
    `--service-account-issuer=${url}`,
    `--service-account-key-file=${file(RIG_FILES.serviceAccountPublicKey)}`,
    `--service-account-signing-key-file=${file(RIG_FILES.serviceAccountPrivateKey)}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    "--enable-priority-and-fairness=false",
    "--profiling=false",
  ]);
  try {
    await waitFor(
      async () => {
        if (server.exited()) throw new Error("kube-apiserver exited");
        return (await probe(`${url}/readyz`, settings.probeToken)) === 200;
      },
      { what: `kube-apiserver at ${url} to be ready`, timeoutMs: 90_000, intervalMs: 100 },
    );
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\nkube-apiserver output:\n${server.output()}`);
  }
  return { process: server, readyMs: performance.now() - started };
}

/**
 * The status code of a GET. Certificates are not checked here: while the server starts, its
 * self-signed certificate may not be written yet; clients get the CA afterwards.
 */
function probe(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.once("timeout", () => req.destroy(new Error("timed out")));
    req.once("error", reject);
    req.end();
  });
}
