import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { EXT_PROC_NODE_FLAGS } from "@detour/ext-proc";
import { writeConfigMapVolume } from "../support/config-map-volume.js";
import { freePort } from "../support/free-port.js";
import { grpcHealth } from "../support/grpc-health.js";
import { waitFor } from "../support/wait-for.js";
import { dockerUnavailableReason } from "./support/docker-daemon.js";
import { offlineImages, REPO_ROOT } from "./support/offline-images.js";

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run("docker", args, { maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
/** Runs node inside the container as the image's user and returns what it printed, or the error. */
const nodeInside = async (container: string, script: string): Promise<{ ok: boolean; output: string }> => {
  try {
    return { ok: true, output: await docker("exec", container, "node", "-e", script) };
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: unknown }).stderr ?? (error as Error).message) };
  }
};

const unavailable = dockerUnavailableReason();
if (unavailable !== undefined) console.warn(`SKIPPED container tests: ${unavailable}`);

// detour's server image (deploy/docker/ext-proc.Dockerfile, built by scripts/build-images) run
// the way a Kubernetes pod runs it: read-only root filesystem, every capability dropped, no
// privilege escalation, the config in a ConfigMap-style volume mounted read-only at /etc/detour
// and the image's default command. Host network, every address on 127.0.0.1.
describe.skipIf(unavailable !== undefined)("the detour-ext-proc image", () => {
  const image = offlineImages().extProc;
  const name = `detour-ext-proc-image-test-${process.pid}`;
  let dir: string;
  let volume: string;
  let grpcPort: number;
  let metricsPort: number;
  let config: Record<string, unknown>;
  const logs = () => docker("logs", name).catch((error: unknown) => String(error));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-image-"));
    volume = join(dir, "etc-detour");
    grpcPort = await freePort();
    metricsPort = await freePort();
    config = {
      services: { pricing: { baseline: "v1", versions: { v1: {}, v2: {} } } },
      server: { listen: `127.0.0.1:${grpcPort}`, metrics: `127.0.0.1:${metricsPort}`, logLevel: "info" },
    };
    writeConfigMapVolume(volume, { "detour.yaml": stringify(config) });
    await docker(
      "run", "--detach", "--name", name,
      "--network", "host", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
      "--volume", `${volume}:/etc/detour:ro`,
      "--env", `DETOUR_HEALTHCHECK_URL=http://127.0.0.1:${metricsPort}/readyz`,
      image,
    );
    await waitFor(async () => (await logs()).includes("detour ext_proc server listening"), { what: "the server in the image to listen", timeoutMs: 60_000 }).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\n${await logs()}`);
    });
  });
  afterAll(async () => {
    await docker("rm", "--force", name).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers gRPC health and /readyz", async () => {
    expect(await grpcHealth(grpcPort, "")).toBe("SERVING");
    expect(await grpcHealth(grpcPort, "envoy.service.ext_proc.v3.ExternalProcessor")).toBe("SERVING");
    expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
  });

  it("reports healthy through its HEALTHCHECK", async () => {
    const health = () => docker("inspect", "--format", "{{.State.Health.Status}}", name);
    await waitFor(async () => (await health()) === "healthy", { what: "Docker's health status to be healthy", timeoutMs: 60_000, intervalMs: 500 });
  });

  it("runs as the non-root user 1000 with the heap flags on node's command line", async () => {
    expect(await docker("inspect", "--format", "{{.Config.User}}", image)).toBe("1000:1000");
    const status = await nodeInside(name, "console.log(require('fs').readFileSync('/proc/1/status','utf8').match(/^Uid:.*$/m)[0])");
    expect(status.output).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/);
    const cmdline = await nodeInside(name, "console.log(require('fs').readFileSync('/proc/1/cmdline','utf8').split('\\0').filter(Boolean).join(' '))");
    expect(cmdline.output).toBe(["node", ...EXT_PROC_NODE_FLAGS, "/app/node_modules/@detour/ext-proc/bin/detour-ext-proc.js", "--config", "/etc/detour/detour.yaml"].join(" "));
    expect(await logs()).not.toContain("started without the recommended node heap flags");
  });

  it("needs no writable file: the root filesystem and the config volume are read-only", async () => {
    for (const path of ["/tmp/probe", "/app/probe", "/etc/detour/probe"]) {
      const write = await nodeInside(name, `require('fs').writeFileSync(${JSON.stringify(path)}, 'x')`);
      expect(write.ok, path).toBe(false);
      expect(write.output, path).toMatch(/EROFS|EACCES/);
    }
    expect(await grpcHealth(grpcPort, "")).toBe("SERVING");
  });

  it("holds detour's packages and their production dependencies only", async () => {
    const listing = await nodeInside(
      name,
      "const fs=require('fs');const top='/app/node_modules';const names=[];const add=(n)=>names.push({name:n,version:JSON.parse(fs.readFileSync(top+'/'+n+'/package.json','utf8')).version});for(const e of fs.readdirSync(top)){if(e.startsWith('.'))continue;if(e.startsWith('@')){for(const s of fs.readdirSync(top+'/'+e))add(e+'/'+s)}else add(e)}console.log(JSON.stringify(names))",
    );
    const listed = JSON.parse(listing.output) as { name: string; version: string }[];
    const installed = listed.map((pkg) => pkg.name);
    expect(installed).toEqual(expect.arrayContaining(["@detour/ext-proc", "@detour/core", "@bufbuild/protobuf", "pino"]));
    // No package version that the workspace's lockfile holds for development only is in the image
    // (by name and version: a dependency can hold a production copy of a name whose hoisted copy
    // in the workspace is another, development-only version).
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; version?: string }> };
    const production = new Set<string>();
    const development = new Set<string>();
    for (const [path, entry] of Object.entries(lock.packages)) {
      const at = path.lastIndexOf("node_modules/");
      if (at === -1 || entry.version === undefined) continue;
      (entry.dev === true ? development : production).add(`${path.slice(at + "node_modules/".length)}@${entry.version}`);
    }
    expect(listed.map((pkg) => `${pkg.name}@${pkg.version}`).filter((id) => development.has(id) && !production.has(id))).toEqual([]);
    // grpc-js is a development dependency: its client drives the gRPC server's tests.
    for (const tool of ["typescript", "vitest", "@bufbuild/buf", "@grpc/grpc-js"]) expect(installed).not.toContain(tool);
  });

  it("reloads when the ConfigMap volume is updated (kubelet's ..data swap) through the read-only mount", async () => {
    const next = { ...config, services: { ...(config.services as object), cart: { baseline: "v1", versions: { v1: {} } } } };
    expect(writeConfigMapVolume(volume, { "detour.yaml": stringify(next) })).toBe(true);
    await waitFor(async () => (await logs()).split("\n").some((line) => line.includes('"msg":"config reloaded"') && line.includes('"services":2')), {
      what: "the server in the image to reload the update",
    });
  });
});
