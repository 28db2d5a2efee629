// The ingress gateway's edge role on Istio: the edge EnvoyFilter `detour kubernetes` renders,
// applied with Istio's patch semantics to an Istio-shaped gateway listener routed by the rendered
// detour-edge VirtualService; real Envoy, the real ext_proc server reading the rendered ConfigMap
// (token keys where the Secret is mounted). Both renderings of the edge: a topology that trusts
// no source (plain carriers removed by static config) and one that trusts a CIDR (carriers reach
// ext_proc). Cases: gateway-cases.yaml.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateEnvoyConfig } from "@detour/cli/envoy";
import { loadConfigFile, type DetourConfig } from "@detour/ext-proc";
import { kubernetesManifests } from "../../packages/cli/src/kubernetes/kubernetes-manifests.js";
import { kubernetesOptions } from "../../packages/cli/src/kubernetes/kubernetes-options.js";
import { tokenFor, writeSuiteKeys, type SuiteKeys } from "../edge/edge-keys.js";
import { sendToListener } from "../edge/edge-request.js";
import { envoyBin } from "../support/envoy.js";
import { configMapServerConfig, GATEWAY_LISTENER, GATEWAY_STAT_PREFIX, istioBootstrap, startIstioStack, type IstioRenderInput, type IstioStack } from "./support/istio-stack.js";

interface GatewayCase {
  name: string;
  topology?: "strict" | "trusting";
  from?: string;
  token?: string;
  ovr?: string;
  phase?: "down";
  headers?: Record<string, string | string[]>;
  expect: { status?: number; version?: string; forwarded?: Record<string, string>; absent?: string[]; extProc?: "called" | "skipped" };
}

const cases = parse(readFileSync(new URL("./gateway-cases.yaml", import.meta.url), "utf8")) as GatewayCase[];
const suiteTopology = loadConfigFile(fileURLToPath(new URL("../edge/edge-topology.yaml", import.meta.url)));
const GATEWAY = "istio-system/public";
const options = kubernetesOptions({ namespace: "shop", gatewayHosts: ["shop.example.com"], gateway: GATEWAY });

function render(topology: DetourConfig): IstioRenderInput {
  return {
    topology,
    objects: kubernetesManifests(topology, options, "istio-gateway.test.ts").objects,
    namespace: "shop",
    clusterDomain: options.clusterDomain,
    appLabel: options.appLabel,
    versionLabel: options.versionLabel,
    workloads: [],
    gateway: { labels: { ...options.gatewaySelector }, name: GATEWAY },
  };
}

const variants = {
  strict: render({ ...suiteTopology, edge: { ...suiteTopology.edge!, trustedCidrs: [] } }),
  trusting: render(suiteTopology),
};

for (const [variant, input] of Object.entries(variants) as Array<[keyof typeof variants, IstioRenderInput]>) {
  describe(`the ingress gateway's edge role on Istio (${variant})`, () => {
    const keysDir = mkdtempSync(join(tmpdir(), "detour-istio-keys-"));
    let keys: SuiteKeys;
    let stack: IstioStack;
    beforeAll(async () => {
      keys = writeSuiteKeys(keysDir);
      // The Secret's mount (/etc/detour-keys) is this directory here.
      const serverConfig = configMapServerConfig(input.objects, (config) => {
        const tokens = config.edge!.tokens!;
        const moved = tokens.keys.map((key) => Object.fromEntries(Object.entries(key).map(([field, value]) => [field, field.endsWith("File") ? join(keysDir, "keys", basename(String(value))) : value])));
        return { ...config, edge: { ...config.edge!, tokens: { ...tokens, keys: moved as typeof tokens.keys } } };
      });
      stack = await startIstioStack(input, serverConfig);
    });
    afterAll(async () => {
      await stack?.stop();
      rmSync(keysDir, { recursive: true, force: true });
    });

    it("passes envoy --mode validate", async () => {
      const result = await validateEnvoyConfig(await envoyBin(), stringify(istioBootstrap(input, []), { aliasDuplicateObjects: false }));
      expect(result.ok, result.output).toBe(true);
    });

    const streams = async () => (await stack.envoy.stats()).get(`http.${GATEWAY_STAT_PREFIX}.ext_proc.streams_started`) ?? 0;
    const mine = cases.filter((c) => c.topology === undefined || c.topology === variant);
    // Cases with the server up first, then the ones after it was killed.
    const ordered = [...mine.filter((c) => c.phase !== "down"), ...mine.filter((c) => c.phase === "down")];
    it.each(ordered.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
      if (testCase.phase === "down") await stack.server.kill();
      const headers: Record<string, string | string[]> = { ...testCase.headers };
      if (testCase.token !== undefined) headers["x-detour-token"] = await tokenFor(testCase.token, testCase.ovr ?? "", keys);
      const before = await streams();
      const response = await sendToListener(stack.envoy.listenerPort(GATEWAY_LISTENER), { from: testCase.from, headers, path: "/" });
      const expected = testCase.expect;
      expect(response.status, response.text).toBe(expected.status ?? 200);
      if (expected.version !== undefined) {
        expect(response.upstream?.service, response.text).toBe("frontend");
        expect(response.upstream?.version, response.text).toBe(expected.version);
        const received = response.upstream!.headers;
        for (const name of ["x-detour-route", "x-detour-edge", ...(expected.absent ?? [])]) expect(received[name], name).toBeUndefined();
        for (const [name, value] of Object.entries(expected.forwarded ?? {})) expect(received[name], name).toBe(value);
      }
      if (expected.extProc !== undefined) expect((await streams()) - before, "gateway ext_proc streams").toBe(expected.extProc === "called" ? 1 : 0);
    });
  });
}
