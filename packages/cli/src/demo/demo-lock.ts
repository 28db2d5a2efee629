import { openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DetourError } from "@detour/core";

export interface DemoLock {
  readonly path: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Claims "the demo on this edge port" with a pid file in the temp dir, so a second
 * `detour demo` says who is already running instead of failing on a busy port half-way
 * through. A lock left by a demo that died is taken over.
 */
export function acquireDemoLock(port: number, dir = tmpdir()): DemoLock {
  const path = join(dir, `detour-demo-${port}.pid`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        path,
        release: () => {
          try {
            if (Number(readFileSync(path, "utf8").trim()) === process.pid) rmSync(path, { force: true });
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(path, "utf8").trim());
      } catch {
        // removed in between: try again
      }
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new DetourError(
          "demo-already-running",
          `detour demo is already running on port ${port} (pid ${holder}): use that one (curl http://127.0.0.1:${port}/), stop it with Ctrl-C in its terminal (or kill ${holder}), or pass --port to run another`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new DetourError("demo-lock", `could not create the demo lock ${path}: remove it if no demo is running`);
}
