import { afterEach, describe, expect, it } from "vitest";
import { ProcessSupervisor, type ChildCrash } from "./process-supervisor.js";

const node = process.execPath;
const idle = ["-e", "console.log('up'); setInterval(() => {}, 1000)"];
const stubborn = ["-e", "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"];
// A child that starts a grandchild in its own group and idles: stopping the group takes both.
const parentOfOne = ["-e", `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log('grandchild ' + c.pid); setInterval(() => {}, 1000)`];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

let supervisor: ProcessSupervisor | undefined;
afterEach(async () => {
  await supervisor?.stopAll();
});

describe("ProcessSupervisor", () => {
  it("stops every child, its process group included", async () => {
    supervisor = new ProcessSupervisor();
    const a = supervisor.spawn({ name: "a", command: node, args: idle });
    const b = supervisor.spawn({ name: "b", command: node, args: parentOfOne });
    await until(() => a.log().includes("up") && b.log().includes("grandchild"));
    const grandchild = Number(/grandchild (\d+)/.exec(b.log())![1]);
    expect(alive(grandchild)).toBe(true);
    await supervisor.stopAll();
    expect(alive(a.pid)).toBe(false);
    expect(alive(b.pid)).toBe(false);
    await until(() => !alive(grandchild));
  });

  it("kills a child that ignores SIGTERM after the grace period", async () => {
    supervisor = new ProcessSupervisor({ stopGraceMs: 200 });
    const child = supervisor.spawn({ name: "stubborn", command: node, args: stubborn });
    await until(() => child.log().includes("up"));
    await supervisor.stopAll();
    expect(await child.exited).toBe("SIGKILL");
  });

  it("reports a child that exits on its own, with its output, and not one it stopped", async () => {
    supervisor = new ProcessSupervisor();
    const crashes: ChildCrash[] = [];
    supervisor.onCrash((crash) => crashes.push(crash));
    supervisor.spawn({ name: "crasher", command: node, args: ["-e", "console.error('boom: no config'); process.exit(3)"] });
    const steady = supervisor.spawn({ name: "steady", command: node, args: idle });
    await until(() => crashes.length === 1);
    expect(crashes[0]).toMatchObject({ name: "crasher", exit: 3 });
    expect(crashes[0]!.log).toContain("boom: no config");
    await supervisor.stopAll();
    expect(await steady.exited).toBe("SIGTERM");
    expect(crashes).toHaveLength(1);
  });

  it("reports a command that cannot be started", async () => {
    supervisor = new ProcessSupervisor();
    const crashes: ChildCrash[] = [];
    supervisor.onCrash((crash) => crashes.push(crash));
    supervisor.spawn({ name: "ghost", command: "/nonexistent/detour-test-binary", args: [] });
    await until(() => crashes.length === 1);
    expect(String(crashes[0]!.exit)).toMatch(/spawn error: .*ENOENT/);
  });
});

describe("ProcessSupervisor with a reaper", () => {
  it("takes every child down when the supervising process is killed with SIGKILL", async () => {
    // The supervisor must run in a process of its own to be killed: it runs the built module.
    const dist = new URL("../../dist/demo/process-supervisor.js", import.meta.url).href;
    const script = `
      const { ProcessSupervisor } = await import(${JSON.stringify(dist)});
      const supervisor = new ProcessSupervisor({ reaper: true });
      const a = supervisor.spawn({ name: "a", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] });
      const b = supervisor.spawn({ name: "b", command: process.execPath, args: ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"] });
      console.log("pids " + a.pid + " " + b.pid);
      setInterval(() => {}, 1000);
    `;
    supervisor = new ProcessSupervisor();
    const host = supervisor.spawn({ name: "host", command: node, args: ["--input-type=module", "-e", script] });
    await until(() => /pids \d+ \d+/.test(host.log()));
    const [a, b] = /pids (\d+) (\d+)/.exec(host.log())!.slice(1).map(Number) as [number, number];
    expect(alive(a) && alive(b)).toBe(true);
    process.kill(host.pid, "SIGKILL");
    // b ignores SIGTERM: the reaper's SIGKILL follows a few seconds later.
    await until(() => !alive(a) && !alive(b));
  });
});
