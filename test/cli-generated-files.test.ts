// Golden tests for everything `detour` generates from examples/detour.yaml, and Envoy's own
// verdict (envoy --mode validate) on every Envoy config the CLI produces.
// Regenerate after a deliberate change: npm run build && UPDATE_GOLDEN=1 npx vitest run test/cli-generated-files.test.ts
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { EXT_PROC_NODE_FLAGS, loadConfigFile } from "@detour/ext-proc";
import { validateEnvoyConfig } from "../packages/cli/src/envoy-process.js";
import { detourSchemaText } from "../packages/cli/src/commands/schema.js";
import { detourEnvoyYaml, sidecarPortsFrom } from "../packages/cli/src/envoy-config/detour-envoy-bootstrap.js";
import { planDemo, portsNeeded } from "../packages/cli/src/demo/demo-plan.js";
import { composeFiles } from "../packages/cli/src/generate/compose-files.js";
import { DEFAULT_ENVOY_IMAGE, DEFAULT_NODE_IMAGE } from "../packages/cli/src/generate/compose-file.js";
import { validateComposeBySchema, validateComposeFile } from "../packages/cli/src/generate/compose-validation.js";
import { envoyBin } from "./support/envoy.js";
import { runCli } from "../packages/cli/src/cli-program.js";
import { generatedHeader } from "../packages/cli/src/generate/generated-header.js";
import { HELM_CHART_DIR, helmChartFiles } from "../packages/cli/src/kubernetes/helm-values.js";
import { kubernetesManifests } from "../packages/cli/src/kubernetes/kubernetes-manifests.js";
import { kubernetesOptions } from "../packages/cli/src/kubernetes/kubernetes-options.js";

const repo = fileURLToPath(new URL("../", import.meta.url));
const topologyFile = join(repo, "examples/detour.yaml");
const config = loadConfigFile(topologyFile);
const generated = composeFiles(config, { topology: topologyFile, out: repo, repo });
const schemaFile = join(repo, "docs/detour.schema.json");

function golden(file: string, text: string): void {
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) writeFileSync(file, text);
  expect(readFileSync(file, "utf8"), `${file} drifted from the generator: regenerate (see the top of this test)`).toBe(text);
}

const scratch = mkdtempSync(join(tmpdir(), "detour-cli-golden-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("generated files match the repository (golden)", () => {
  it("docker-compose.yml", () => golden(generated.composeFile, generated.composeText));
  it("envoy/envoy.yaml", () => golden(generated.envoyFile, generated.envoyText));
  it("docs/detour.schema.json", () => golden(schemaFile, detourSchemaText()));

  it("docker-compose.yml runs the images docker/images.env names", () => {
    const env = readFileSync(join(repo, "docker/images.env"), "utf8");
    expect(env).toContain(`DETOUR_ENVOY_IMAGE=${DEFAULT_ENVOY_IMAGE}\n`);
    expect(env).toContain(`DETOUR_NODE_IMAGE=${DEFAULT_NODE_IMAGE}\n`);
  });
});

/**
 * The rendered Kubernetes install of the demo topology (deploy/kubernetes/), each file with the
 * `detour kubernetes` arguments that write it (deploy/kubernetes/README.md lists them too).
 */
export const KUBERNETES_GOLDENS: ReadonlyArray<{ file: string; args: readonly string[] }> = [
  { file: "deploy/kubernetes/istio.yaml", args: ["--namespace", "shop", "--gateway-host", "shop.example.com"] },
  { file: "deploy/kubernetes/gamma.yaml", args: ["--namespace", "shop", "--mode", "gamma", "--service-port", "8080"] },
];

async function detourKubernetes(args: readonly string[]): Promise<string> {
  let stdout = "";
  let stderr = "";
  const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stdin: process.stdin, env: process.env, cwd: repo };
  const code = await runCli(["kubernetes", "--topology", "examples/detour.yaml", ...args], io);
  expect(code, stderr).toBe(0);
  return stdout;
}

describe("deploy/kubernetes matches `detour kubernetes` (golden)", () => {
  it.each(KUBERNETES_GOLDENS.map((entry) => [entry.file, entry] as const))("%s", async (_file, entry) => {
    golden(join(repo, entry.file), await detourKubernetes(entry.args));
  });

  it("deploy/kubernetes/README.md gives the command of every file", () => {
    const readme = readFileSync(join(repo, "deploy/kubernetes/README.md"), "utf8");
    for (const entry of KUBERNETES_GOLDENS) expect(readme).toContain(`detour kubernetes --topology examples/detour.yaml ${entry.args.join(" ")} > ${entry.file}`);
  });
});

describe(`${HELM_CHART_DIR} (generated parts, golden)`, () => {
  const serverConfigText = kubernetesManifests(config, kubernetesOptions(), generatedHeader("kubernetes", topologyFile, repo)).serverConfigText;
  const files = helmChartFiles(kubernetesOptions(), serverConfigText, `${generatedHeader("kubernetes --helm-values", topologyFile, repo)}\nThe chart's defaults: the demo topology in the release's namespace.`);
  it.each(Object.keys(files))("%s", (file) => golden(join(repo, HELM_CHART_DIR, file), files[file]!));
});

describe("docker-compose.yml", () => {
  it("is valid by the Compose Specification's JSON Schema", async () => {
    const result = await validateComposeBySchema(generated.composeText);
    expect(result.ok, result.output).toBe(true);
  });

  it("is valid by docker compose config where a compose binary exists (else the schema again)", async () => {
    const result = await validateComposeFile(generated.composeFile, generated.composeText, repo);
    expect(result.ok, `${result.by}: ${result.output}`).toBe(true);
  });

  it("the schema check catches a broken file", async () => {
    expect((await validateComposeBySchema("services:\n  envoy:\n    image: x\n    netwrok_mode: host\n")).ok).toBe(false);
  });

  it("starts one container per service version, wired to its sidecar listener", () => {
    const compose = parse(generated.composeText) as { services: Record<string, { environment?: Record<string, string>; command: string[] }> };
    expect(Object.keys(compose.services)).toEqual([
      "ext-proc",
      "envoy",
      "frontend-v1",
      "catalog-v1",
      "catalog-v2",
      "pricing-v1",
      "pricing-v2",
      "cart-v1",
      "cart-pr-7",
    ]);
    const ports = sidecarPortsFrom(config, 15001);
    expect(compose.services["cart-pr-7"]!.environment).toEqual({ SERVICE: "cart", VERSION: "pr-7", HOST: "127.0.0.1", PORT: "9402", SIDECAR: `127.0.0.1:${ports["cart/pr-7"]}` });
    // pricing calls nobody: no workload, no sidecar.
    expect(compose.services["pricing-v2"]!.environment!.SIDECAR).toBeUndefined();
    expect(compose.services["ext-proc"]!.command).toEqual(["node", ...EXT_PROC_NODE_FLAGS, "packages/ext-proc/dist/bin.js", "--config", "examples/detour.yaml"]);
  });
});

describe("envoy --mode validate accepts every Envoy config the CLI generates", () => {
  it("envoy/envoy.yaml (reference: sidecar listeners and the edge)", async () => {
    const result = await validateEnvoyConfig(await envoyBin(), generated.envoyText);
    expect(result.ok, result.output).toBe(true);
  });

  it("the demo's config (every port picked at run time)", async () => {
    const ports = Array.from({ length: portsNeeded(config) }, (_, index) => 40_000 + index);
    const plan = planDemo(config, ports, 0);
    const text = detourEnvoyYaml(plan.topology, { sidecarPorts: plan.envoy.sidecarPorts, adminPort: plan.envoy.adminPort, edgePort: plan.envoy.edgePort });
    const result = await validateEnvoyConfig(await envoyBin(), text);
    expect(result.ok, result.output).toBe(true);
  });

  it("one pod's sidecar (detour envoy --workload cart/pr-7), written by the CLI", async () => {
    const { runCli } = await import("../packages/cli/src/cli-program.js");
    let stdout = "";
    const code = await runCli(["envoy", "--topology", topologyFile, "--workload", "cart/pr-7", "--stdout"], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      stdin: process.stdin,
      env: process.env,
      cwd: scratch,
    });
    expect(code).toBe(0);
    const names = (parse(stdout) as { static_resources: { listeners: Array<{ name: string }> } }).static_resources.listeners.map((l) => l.name);
    expect(names).toEqual(["outbound:cart/pr-7"]);
    const result = await validateEnvoyConfig(await envoyBin(), stdout);
    expect(result.ok, result.output).toBe(true);
  });
});
