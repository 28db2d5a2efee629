import { execFile } from "node:child_process";
import { dirname } from "node:path";
import { REPO_ROOT } from "./offline-images.js";

export interface ContainerState {
  readonly name: string;
  readonly status: string;
  readonly health: string;
  /** Host pid of the container's main process (0 when not running). */
  readonly pid: number;
}

export interface ComposeProject {
  readonly name: string;
  up(): Promise<void>;
  /** Name, status and health (none without a healthcheck) of each container of the project. */
  states(): Promise<ContainerState[]>;
  logs(tail?: number): Promise<string>;
  /** Stops and removes the project's containers (and anything orphaned); never throws. */
  down(): Promise<string>;
}

function run(args: readonly string[], timeoutMs: number, command = "docker-compose"): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/**
 * One compose project on the private daemon, driven through Debian's docker-compose (v1: the
 * compose v2 plugin is not packaged by Debian). Relative paths in the file resolve against the
 * repository root, as for docker-compose.yml itself, wherever the file lives.
 */
export function composeProject(file: string, name: string, upTimeoutMs = 180_000): ComposeProject {
  const base = ["--ansi", "never", "-p", name, "-f", file, "--project-directory", file.startsWith(REPO_ROOT) ? REPO_ROOT : dirname(file)];
  let ids: string[] | undefined;
  return {
    name,
    // --no-build: images come from scripts/build-images, never from a registry or a build here.
    up: async () => {
      ids = undefined;
      await run([...base, "up", "-d", "--no-build"], upTimeoutMs);
    },
    async states() {
      // docker-compose (v1, Python) takes seconds per call on a loaded machine: list the
      // project's containers once, then ask the daemon directly.
      ids ??= (await run([...base, "ps", "-q"], 30_000)).split("\n").map((id) => id.trim()).filter((id) => /^[0-9a-f]{12,64}$/.test(id));
      if (ids.length === 0) return [];
      const format = "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.Pid}}";
      const lines = (await run(["inspect", "--format", format, ...ids], 30_000, "docker")).split("\n").filter(Boolean);
      return lines.map((line) => {
        const [name = "?", status = "?", health = "?", pid = "0"] = line.trim().split(" ");
        return { name: name.replace(/^\//, ""), status, health, pid: Number(pid) };
      });
    },
    logs: (tail = 40) => run([...base, "logs", "--no-color", "--tail", String(tail)], 30_000).catch((error: Error) => error.message),
    down: () => run([...base, "down", "--remove-orphans", "--volumes", "--timeout", "10"], 120_000).catch((error: Error) => error.message),
  };
}
