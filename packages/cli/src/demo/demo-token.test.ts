import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "@detour/ext-proc";
import { allowListFromConfig, createTokenVerifier, keyRingFromConfig } from "@detour/ext-proc/tokens";
import { DEFAULT_LIMITS } from "@detour/core";
import { afterAll, describe, expect, it } from "vitest";
import { planDemo, portsNeeded } from "./demo-plan.js";
import { readDemoRequests } from "./demo-requests.js";
import { demoTokenRequests, withDemoToken } from "./demo-token.js";

const root = (path: string) => new URL(`../../../../${path}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "detour-demo-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the demo's token", () => {
  it("adds this run's key to the edge and mints a token the edge verifies", async () => {
    const config = loadConfigFile(root("examples/detour.yaml"));
    const plan = planDemo(config, Array.from({ length: portsNeeded(config) }, (_, i) => 41_000 + i));
    const { plan: withToken, token } = await withDemoToken(plan, dir);
    expect(withToken.topology.edge?.trustedCidrs).toEqual(["127.0.0.0/8"]);
    const tokens = withToken.topology.edge!.tokens!;
    expect(tokens.keys).toEqual([{ kid: "demo", publicKeyFile: join(dir, "keys/demo.pub.pem") }]);
    const verifier = createTokenVerifier(keyRingFromConfig(tokens.keys, dir), { ...tokens, allow: allowListFromConfig(tokens.allow), limits: DEFAULT_LIMITS });
    const check = await verifier.check(token.token);
    expect(check.status === "valid" && check.token.set.toString()).toBe("catalog=v2,pricing=v2");

    const requests = demoTokenRequests(token, readDemoRequests(root("examples/demo-requests.yaml")).requests);
    expect(requests.map((request) => [request.name.split(" (")[0], request.expect])).toEqual([
      ["signed token", "frontend@v1(catalog@v2(pricing@v2),cart@v1(pricing@v2))"],
      ["tampered token", "frontend@v1(catalog@v1(pricing@v1),cart@v1(pricing@v1))"],
    ]);
    expect((await verifier.check(requests[1]!.headers["x-detour-token"]!)).status).toBe("rejected");
  });
});
