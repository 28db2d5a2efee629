import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
let helmPath: string | undefined;

/**
 * The helm v4 binary: HELM_BIN (scripts/test-kubernetes resolves it before the run), else
 * scripts/install-helm, which builds it into the cache the first time (minutes).
 */
export function helmBin(): string {
  helmPath ??= process.env.HELM_BIN || execFileSync("bash", [`${repo}scripts/install-helm`], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  return helmPath;
}

/** Runs helm with these arguments in the repository; resolves with its exit code and output. */
export function helm(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(helmBin(), [...args], { cwd: repo, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
