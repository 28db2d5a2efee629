import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { runCliInProcess } from "../testing/run-cli-in-process.js";

const dir = mkdtempSync(join(tmpdir(), "detour-kubernetes-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const topology = fileURLToPath(new URL("../../../../examples/detour.yaml", import.meta.url));

const detour = (args: string[], stdin = "") => runCliInProcess(args, { cwd: dir, stdin });

const EXISTING = `kind: VirtualService
metadata: { name: pricing, namespace: shop }
spec: { hosts: [pricing], http: [{ route: [{ destination: { host: pricing } }] }] }
`;

describe("detour kubernetes", () => {
  it("prints one YAML stream of the install", async () => {
    const { code, stdout, stderr } = await detour(["kubernetes", "--topology", topology, "--namespace", "shop"]);
    expect(code, stderr).toBe(0);
    const kinds = parseAllDocuments(stdout).map((document) => (document.toJS() as { kind?: string } | null)?.kind).filter(Boolean);
    expect(kinds).toContain("Deployment");
    expect(kinds.filter((kind) => kind === "VirtualService")).toHaveLength(4);
  });

  it("writes one file per object and a kustomization, and removes only files it wrote that are gone now", async () => {
    const out = join(dir, "out");
    expect((await detour(["kubernetes", "--topology", topology, "--out", "out"])).code).toBe(0);
    const first = readdirSync(out);
    expect(first).toContain("kustomization.yaml");
    expect(first).toContain("virtualservice-detour-pricing.yaml");
    writeFileSync(join(out, "mine.yaml"), "kind: ConfigMap\n");
    expect((await detour(["kubernetes", "--topology", topology, "--out", "out", "--skip-routes", "pricing"])).code).toBe(0);
    expect(existsSync(join(out, "virtualservice-detour-pricing.yaml"))).toBe(false);
    expect(existsSync(join(out, "mine.yaml"))).toBe(true);
    expect(readFileSync(join(out, "kustomization.yaml"), "utf8")).not.toContain("detour-pricing");
  });

  it("refuses to add a second VirtualService for a host someone else routes, and says what to merge (exit 2)", async () => {
    writeFileSync(join(dir, "existing.yaml"), EXISTING);
    const refused = await detour(["kubernetes", "--topology", topology, "--namespace", "shop", "--existing", "existing.yaml"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("VirtualService shop/pricing routes pricing: add these routes at the top of its spec.http");
    expect(refused.stderr).toContain("--leave-existing");
  });

  it("with --leave-existing renders the rest and prints the routes to merge as a warning", async () => {
    const { code, stdout, stderr } = await detour(["kubernetes", "--topology", topology, "--namespace", "shop", "--existing", "-", "--leave-existing"], EXISTING);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("merge these into them");
    const ids = parseAllDocuments(stdout)
      .map((document) => document.toJS() as { kind: string; metadata: { name: string } } | null)
      .filter((object) => object !== null)
      .map((object) => `${object.kind}/${object.metadata.name}`);
    expect(ids).not.toContain("VirtualService/detour-pricing");
    expect(ids).toContain("DestinationRule/detour-pricing");
    expect(ids).toContain("VirtualService/detour-cart");
  });

  it("rejects bad flag values with a clear message (exit 2)", async () => {
    expect(await detour(["kubernetes", "--topology", topology, "--namespace", "Shop"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--namespace 'Shop' is not a namespace name") });
    expect(await detour(["kubernetes", "--topology", topology, "--mode", "linkerd"])).toMatchObject({ code: 2, stderr: expect.stringContaining("Allowed choices are istio, gamma") });
    expect(await detour(["kubernetes", "--topology", topology, "--replicas", "0"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--replicas '0'") });
    expect(await detour(["kubernetes", "--topology", topology, "--leave-existing"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--leave-existing needs --existing") });
    expect(await detour(["kubernetes", "--topology", topology, "--gateway-selector", "istio"])).toMatchObject({ code: 2, stderr: expect.stringContaining("is not key=value") });
  });
});
