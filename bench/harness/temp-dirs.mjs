// Temp dirs of a run (Envoy and detour configs) are removed on every exit path, SIGINT included.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs = new Set();
let hooked = false;

export function makeTempDir(prefix) {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  dirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}
