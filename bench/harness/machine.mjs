// What the numbers were measured on: they mean nothing without it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

function firstLine(command, args) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).trim().split("\n")[0];
  } catch {
    return undefined;
  }
}

export function describeMachine({ envoyBin, wrkBin }) {
  let cpuModel;
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
  } catch {
    cpuModel = os.cpus()[0]?.model;
  }
  const envoyVersion = firstLine(envoyBin, ["--version"])?.match(/version: (\S+)/)?.[1];
  const wrkVersion = (() => {
    try {
      execFileSync(wrkBin, ["-v"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      // wrk -v prints its version and exits 1.
      return /wrk (\S+)/.exec(`${error.stdout ?? ""}${error.stderr ?? ""}`)?.[1];
    }
    return undefined;
  })();
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    go: firstLine("go", ["version"])?.replace(/^go version /, ""),
    rustc: firstLine("rustc", ["--version"]),
    envoy: envoyVersion,
    wrk: wrkVersion,
  };
}
