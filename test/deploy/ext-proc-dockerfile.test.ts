// deploy/docker/ext-proc.Dockerfile repeats a few facts that have their source of truth in code
// or in docker/images.env (a Dockerfile cannot import them): these checks keep them equal.
// The image itself is built and run by the container lane (test/containers/ext-proc-image.test.ts).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXT_PROC_NODE_FLAGS, parseConfig } from "@detour/ext-proc";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const dockerfile = readFileSync(`${repo}deploy/docker/ext-proc.Dockerfile`, "utf8");
const imagesEnv = readFileSync(`${repo}docker/images.env`, "utf8");
const extProcPackage = JSON.parse(readFileSync(`${repo}packages/ext-proc/package.json`, "utf8")) as { version: string; bin: Record<string, string> };

/** The JSON array of an exec-form instruction (ENTRYPOINT, CMD). */
function execForm(instruction: string): string[] {
  const match = new RegExp(`^${instruction}\\s+(\\[.*\\])\\s*$`, "m").exec(dockerfile);
  if (match?.[1] === undefined) throw new Error(`the Dockerfile has no exec-form ${instruction}`);
  return JSON.parse(match[1]) as string[];
}
const envValue = (name: string) => new RegExp(`^${name}=(\\S+)$`, "m").exec(imagesEnv)?.[1];

describe("deploy/docker/ext-proc.Dockerfile", () => {
  const defaults = parseConfig({ services: {} }).server;
  const port = (address: string) => address.slice(address.lastIndexOf(":") + 1);

  it("starts the package's bin with EXT_PROC_NODE_FLAGS", () => {
    const bin = extProcPackage.bin["detour-ext-proc"]!.replace(/^\.\//, "");
    expect(execForm("ENTRYPOINT")).toEqual(["node", ...EXT_PROC_NODE_FLAGS, `/app/node_modules/@detour/ext-proc/${bin}`]);
    expect(execForm("CMD")).toEqual(["--config", "/etc/detour/detour.yaml"]);
  });

  it("builds FROM the Node 24 image and under the tag docker/images.env names", () => {
    expect(dockerfile).toMatch(new RegExp(`^FROM ${envValue("DETOUR_NODE_IMAGE")}$`, "m"));
    expect(envValue("DETOUR_EXT_PROC_IMAGE")).toBe(`detour-ext-proc:${extProcPackage.version}`);
  });

  it("runs as a numeric non-root user, exposes the default ports and checks the default /readyz", () => {
    expect(dockerfile).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${port(defaults.listen)} ${port(defaults.metrics)}$`, "m"));
    expect(readFileSync(`${repo}deploy/docker/ext-proc-healthcheck.mjs`, "utf8")).toContain(`"http://127.0.0.1:${port(defaults.metrics)}/readyz"`);
    expect(dockerfile).toMatch(/^HEALTHCHECK .* CMD \["node", "\/app\/healthcheck\.mjs"\]$/m);
  });
});
