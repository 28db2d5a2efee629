import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { freePort } from "../../support/free-port.js";
import { installCrds } from "./crds.js";
import { kubeConfigFor, serviceAccountToken, type ApiServerEndpoint } from "./kube-config.js";
import { startEtcd, type Etcd } from "./etcd.js";
import { RIG_FILES, startKubeApiserver, type AuthorizationMode, type KubeApiserver, type KubeApiserverSettings } from "./kube-apiserver.js";
import { kubernetesTools } from "./kubernetes-tools.js";

/** The rig's cluster-admin: in `system:masters`, which RBAC lets do anything. */
export const RIG_ADMIN = "detour-rig-admin";

export interface RigUser {
  readonly name: string;
  readonly token: string;
  readonly groups: readonly string[];
}

export interface ApiServerRigOptions {
  /** RBAC (default) enforces Roles and bindings; AlwaysAllow lets every authenticated user do anything. */
  authorization?: AuthorizationMode;
  /** Token users besides the admin (the token file is read at start, so they are declared here). */
  users?: readonly { name: string; groups?: readonly string[] }[];
  /** Install Istio's and Gateway API's CRDs and wait until they are Established. Default: true. */
  crds?: boolean;
}

export interface ApiServerRigTimings {
  /** etcd spawn to healthy. */
  readonly etcdReadyMs: number;
  /** kube-apiserver spawn to /readyz 200 (the latest start, after a restart). */
  readonly apiServerReadyMs: number;
  /** Applying the CRDs until all are Established (0 without CRDs). */
  readonly crdsEstablishedMs: number;
  /** startApiServerRig() call to return. */
  readonly totalMs: number;
}

/** The URL stays the same across restarts, and so does the serving certificate. */
export interface ApiServerRig extends ApiServerEndpoint {
  readonly authorization: AuthorizationMode;
  readonly admin: RigUser;
  /** A declared token user (throws for an undeclared name). */
  user(name: string): RigUser;
  /** A client configuration for a token: the admin's by default, or a user's, or any bearer token. */
  kubeConfig(who?: string | { token: string }): KubeConfig;
  /** The admin kubeconfig as a file, for child processes (`--kubeconfig`, KUBECONFIG). */
  readonly kubeconfigPath: string;
  /** Writes a kubeconfig file for `who` (see kubeConfig) and returns its path. */
  writeKubeconfig(who: string | { token: string }, path: string): string;
  /** A token for a ServiceAccount from the TokenRequest API, as a pod's projected token would be. */
  serviceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string>;
  readonly timings: ApiServerRigTimings;
  /** Whether kube-apiserver is running (false between stopApiServer and startApiServer). */
  apiServerRunning(): boolean;
  /** Stops kube-apiserver (SIGTERM); etcd and its data stay. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port, etcd and certificate; resolves when ready. */
  startApiServer(): Promise<void>;
  /** stopApiServer() then startApiServer(). */
  restartApiServer(): Promise<void>;
  /** kube-apiserver's recent output, for failure messages. */
  apiServerOutput(): string;
  /** Stops kube-apiserver and etcd by PID and removes every file of the rig. */
  close(): Promise<void>;
}

/**
 * A real Kubernetes API server on loopback as envtest runs one: etcd and kube-apiserver
 * (resolved by the project's install scripts, see kubernetes-tools.ts), static token users, the
 * rig's own service-account signing keys, CRDs installed. No kubelet, scheduler or controller
 * manager: objects are stored, validated, admitted and watched, but nothing acts on them (a test
 * that needs a Ready pod writes the pod's status itself).
 */
export async function startApiServerRig(options: ApiServerRigOptions = {}): Promise<ApiServerRig> {
  const started = performance.now();
  const tools = kubernetesTools();
  const authorization = options.authorization ?? "RBAC";
  const dir = mkdtempSync(join(tmpdir(), "detour-kube-"));
  let etcd: Etcd | undefined;
  let apiServer: KubeApiserver | undefined;
  try {
    const token = () => randomBytes(24).toString("hex");
    const admin: RigUser = { name: RIG_ADMIN, token: token(), groups: ["system:masters"] };
    const users = new Map<string, RigUser>([[admin.name, admin]]);
    for (const user of options.users ?? []) users.set(user.name, { name: user.name, token: token(), groups: user.groups ?? [] });
    writeFileSync(
      join(dir, RIG_FILES.tokens),
      [...users.values()].map((user, index) => `${user.token},${user.name},uid-${index},"${user.groups.join(",")}"\n`).join(""),
      { mode: 0o600 },
    );
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    writeFileSync(join(dir, RIG_FILES.serviceAccountPrivateKey), keys.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, RIG_FILES.serviceAccountPublicKey), keys.publicKey);
    mkdirSync(join(dir, RIG_FILES.certDir));

    etcd = await startEtcd(tools.etcd, dir);
    const port = await freePort();
    const settings: KubeApiserverSettings = { bin: tools.kubeApiserver, dir, etcdUrl: etcd.url, port, authorization, probeToken: admin.token };
    apiServer = await startKubeApiserver(settings);
    const url = `https://127.0.0.1:${port}`;
    const caPem = lastPemBlock(readFileSync(join(dir, RIG_FILES.servingCertificate), "utf8"));

    const endpoint: ApiServerEndpoint = { url, caPem };
    const kubeConfig = (who: string | { token: string } = RIG_ADMIN): KubeConfig =>
      typeof who === "string" ? kubeConfigFor(endpoint, requireUser(users, who).token, who) : kubeConfigFor(endpoint, who.token);
    const writeKubeconfig = (who: string | { token: string }, path: string): string => {
      writeFileSync(path, kubeConfig(who).exportConfig(), { mode: 0o600 });
      return path;
    };
    const kubeconfigPath = writeKubeconfig(RIG_ADMIN, join(dir, "admin.kubeconfig"));

    const crdsStarted = performance.now();
    if (options.crds !== false) await installCrds(kubeConfig(), tools.crdsDir);
    const crdsEstablishedMs = options.crds === false ? 0 : performance.now() - crdsStarted;
    const timings = { etcdReadyMs: etcd.readyMs, apiServerReadyMs: apiServer.readyMs, crdsEstablishedMs, totalMs: performance.now() - started };

    const runningEtcd = etcd;
    let running: KubeApiserver | undefined = apiServer;
    const stopApiServer = async () => {
      const current = running;
      running = undefined;
      await current?.process.stop();
    };
    const startApiServer = async () => {
      if (running !== undefined) throw new Error("kube-apiserver is already running");
      running = await startKubeApiserver(settings);
      timings.apiServerReadyMs = running.readyMs;
    };
    let closed = false;
    return {
      url,
      caPem,
      authorization,
      admin,
      user: (name) => requireUser(users, name),
      kubeConfig,
      kubeconfigPath,
      writeKubeconfig,
      serviceAccountToken: (namespace, name, expirationSeconds) => serviceAccountToken(kubeConfig(), endpoint, namespace, name, expirationSeconds),
      timings,
      apiServerRunning: () => running !== undefined,
      stopApiServer,
      startApiServer,
      async restartApiServer() {
        await stopApiServer();
        await startApiServer();
      },
      apiServerOutput: () => running?.process.output() ?? apiServer!.process.output(),
      async close() {
        if (closed) return;
        closed = true;
        await stopApiServer();
        await runningEtcd.process.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await apiServer?.process.stop();
    await etcd?.process.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function requireUser(users: ReadonlyMap<string, RigUser>, name: string): RigUser {
  const user = users.get(name);
  if (user === undefined) throw new Error(`no rig user '${name}': declare it in startApiServerRig({ users })`);
  return user;
}

/** kube-apiserver writes the serving certificate first and the CA that signed it last. */
function lastPemBlock(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g);
  if (blocks === null) throw new Error("kube-apiserver's serving certificate file holds no certificate");
  return blocks[blocks.length - 1]!;
}
