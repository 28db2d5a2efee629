// `detour demo` end to end: the real CLI (packages/cli/dist/bin.js, built by npm test) starts
// the ext_proc server, a real Envoy and every example service, sends the demo requests and
// checks each call tree; then every process it started must be gone.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { envoyBin } from "./support/envoy.js";
import { isProcessAlive } from "./support/process-alive.js";

const repo = fileURLToPath(new URL("../", import.meta.url));
const bin = join(repo, "packages/cli/dist/bin.js");

interface DemoJson {
  ok: boolean;
  edge: string;
  dir: string;
  processes: Array<{ name: string; pid: number }>;
  results: Array<{ name: string; expected: string; actual: string; ok: boolean }>;
}

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
}

function runDemo(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [bin, "demo", ...args], { cwd: repo, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Waits (no time assertion: the test timeout bounds it) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Every process the demo reported is gone and its temp dir is removed. */
async function expectCleanedUp(report: DemoJson): Promise<void> {
  expect(report.processes.length).toBeGreaterThanOrEqual(9); // ext-proc, Envoy, 7 instances (+ reaper)
  await until(() => report.processes.every(({ pid }) => !isProcessAlive(pid)));
  expect(existsSync(report.dir)).toBe(false);
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first (npm test does)`);
  await envoyBin(); // installs Envoy into the cache once, outside the demo's own timing
}, 600_000);

describe("detour demo", () => {
  it("--once: every call tree is as expected, exit 0, nothing left running", async () => {
    const run = runDemo(["--once", "--json", "--port", "0"], { ENVOY_BIN: await envoyBin() });
    const code = await run.exit;
    expect(code, run.stderr()).toBe(0);
    const report = JSON.parse(run.stdout()) as DemoJson;
    expect(report.ok).toBe(true);
    for (const result of report.results) expect(result.actual, result.name).toBe(result.expected);
    expect(report.results.map((result) => result.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^no override/), expect.stringMatching(/^wildcard/), expect.stringMatching(/background job/)]));
    await expectCleanedUp(report);
  }, 240_000);

  it("keeps running until SIGINT, then stops every process and exits 0", async () => {
    const run = runDemo(["--json", "--port", "0"], { ENVOY_BIN: await envoyBin() });
    // The report (stdout) is written before the banner (stderr), but the two pipes are read
    // separately, so the banner can arrive first: wait for both.
    await until(() => (run.stderr().includes("Press Ctrl-C") && run.stdout().trimEnd().endsWith("}")) || run.child.exitCode !== null);
    expect(run.stderr()).toContain("The demo is running. Edge: http://127.0.0.1:");
    const report = JSON.parse(run.stdout()) as DemoJson;
    const answer = (await (await fetch(report.edge, { headers: { "x-detour": "catalog=v2" } })).json()) as { calls: Array<{ version: string }> };
    expect(answer.calls[0]!.version).toBe("v2");
    run.child.kill("SIGINT");
    expect(await run.exit).toBe(0);
    await expectCleanedUp(report);
  }, 240_000);

  it("reports a crashed child with its output, stops the rest and exits 1", async () => {
    const run = runDemo(["--json", "--port", "0"], { ENVOY_BIN: await envoyBin() });
    // The report (stdout) is written before the banner (stderr), but the two pipes are read
    // separately, so the banner can arrive first: wait for both.
    await until(() => (run.stderr().includes("Press Ctrl-C") && run.stdout().trimEnd().endsWith("}")) || run.child.exitCode !== null);
    const report = JSON.parse(run.stdout()) as DemoJson;
    const victim = report.processes.find((p) => p.name === "pricing@v2")!;
    process.kill(victim.pid, "SIGKILL");
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toMatch(/pricing@v2 \(pid \d+\) exited unexpectedly \(SIGKILL\); its last output:\n {2}pricing@v2 listening on 127\.0\.0\.1:\d+/);
    await expectCleanedUp(report);
  }, 240_000);

  it("leaves nothing running when the CLI itself is killed with SIGKILL (the reaper stops the children)", async () => {
    const run = runDemo(["--json", "--port", "0"], { ENVOY_BIN: await envoyBin() });
    // The report (stdout) is written before the banner (stderr), but the two pipes are read
    // separately, so the banner can arrive first: wait for both.
    await until(() => (run.stderr().includes("Press Ctrl-C") && run.stdout().trimEnd().endsWith("}")) || run.child.exitCode !== null);
    const report = JSON.parse(run.stdout()) as DemoJson;
    run.child.kill("SIGKILL");
    await run.exit;
    await until(() => report.processes.every(({ pid }) => !isProcessAlive(pid)));
  }, 240_000);
});

describe("detour demo refuses clearly, starting nothing", () => {
  async function busyPort(): Promise<{ port: number; close: () => void }> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    return { port: typeof address === "object" && address ? address.port : 0, close: () => server.close() };
  }

  it("when its edge port is taken", async () => {
    const busy = await busyPort();
    try {
      const run = runDemo(["--once", "--port", String(busy.port)], { ENVOY_BIN: await envoyBin() });
      expect(await run.exit).toBe(1);
      expect(run.stderr()).toContain(`port ${busy.port} on 127.0.0.1 is already in use by another program: stop it, or pass --port`);
      expect(run.stderr()).not.toContain("starting");
    } finally {
      busy.close();
    }
  });

  it("when a demo already runs on that port", async () => {
    const { port, close } = await busyPort();
    close();
    // A live process (this test runner) holds the demo lock for that port.
    const lock = join(tmpdir(), `detour-demo-${port}.pid`);
    writeFileSync(lock, `${process.pid}\n`);
    try {
      const run = runDemo(["--once", "--port", String(port)], { ENVOY_BIN: await envoyBin() });
      expect(await run.exit).toBe(1);
      expect(run.stderr()).toContain(`detour demo is already running on port ${port} (pid ${process.pid})`);
      expect(readFileSync(lock, "utf8")).toBe(`${process.pid}\n`);
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it("when Envoy is missing", async () => {
    const run = runDemo(["--once", "--port", "0"], { ENVOY_BIN: "/nonexistent/envoy" });
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toContain("ENVOY_BIN=/nonexistent/envoy is not an executable file");
  });

  it("on an unknown flag, with exit code 2", async () => {
    const run = runDemo(["--bogus"]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain("unknown option '--bogus'");
  });
});
