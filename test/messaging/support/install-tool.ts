import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const scripts = fileURLToPath(new URL("../../../scripts/", import.meta.url));
const cache = new Map<string, Promise<string>>();

/**
 * Runs one of the project's install scripts (install-kafka, install-rabbitmq, install-nats) and
 * returns the path it prints: cached outside git, installed on first use, overridable by the
 * script's environment variable (KAFKA_HOME, RABBITMQ_SERVER, NATS_SERVER_BIN).
 */
export function installTool(script: "install-kafka" | "install-rabbitmq" | "install-nats"): Promise<string> {
  let found = cache.get(script);
  if (found === undefined) {
    found = run(`${scripts}${script}`, [], { maxBuffer: 10_000_000, timeout: 600_000 }).then(({ stdout }) => stdout.trim().split("\n").at(-1) ?? "");
    cache.set(script, found);
  }
  return found;
}
