// Finds the tools of a run: Envoy through scripts/install-envoy (ENVOY_BIN wins), and wrk, the
// Go upstream and the peers through scripts/install-bench-tools (which installs and builds them).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runToEnd } from "./child-processes.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** `rust`: "build" | "cached" | "skip", how to treat the optional Rust peer (see the script). */
export async function benchTools({ rust = "build" } = {}) {
  const envoy = await runToEnd("install-envoy", `${ROOT}scripts/install-envoy`, [], { timeoutMs: 600_000 });
  if (envoy.code !== 0) throw new Error(`scripts/install-envoy failed:\n${envoy.output.slice(-2000)}`);
  const envoyBin = envoy.output.trim().split("\n").pop();
  // First build of the Go peer compiles go-control-plane: minutes on 2 cores, seconds after.
  const tools = await runToEnd("install-bench-tools", `${ROOT}scripts/install-bench-tools`, [], { timeoutMs: 1_800_000, env: { BENCH_RUST: process.env.BENCH_RUST ?? rust } });
  if (tools.code !== 0) throw new Error(`scripts/install-bench-tools failed:\n${tools.output.slice(-3000)}`);
  const found = { envoy: envoyBin };
  for (const line of tools.output.split("\n")) {
    const match = /^([a-z-]+)=(\/\S+)$/.exec(line.trim());
    if (match) found[match[1]] = match[2];
  }
  for (const required of ["wrk", "upstream", "go-extproc"]) {
    if (!found[required]) throw new Error(`scripts/install-bench-tools did not report '${required}':\n${tools.output.slice(-2000)}`);
  }
  return found;
}

/**
 * A Node binary and its version: a release line (20, 22, 24) goes through scripts/install-node,
 * which installs it into the cache when missing; anything else is a path to a binary.
 */
export function nodeRuntime(lineOrPath) {
  const bin = /^\d+$/.test(lineOrPath)
    ? execFileSync(`${ROOT}scripts/install-node`, [lineOrPath], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()
    : lineOrPath;
  return { bin, runtime: `node ${execFileSync(bin, ["--version"], { encoding: "utf8" }).trim()}` };
}
