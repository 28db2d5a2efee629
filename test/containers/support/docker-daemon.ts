import { execFileSync } from "node:child_process";

/**
 * Why container tests cannot run here, or undefined when a Docker daemon answers at
 * DOCKER_HOST. The lane (scripts/test-containers) only runs vitest after scripts/docker-up
 * succeeded, so this matters when someone runs the suite by hand: the suite is then reported
 * as skipped with this reason, never passed.
 */
export function dockerUnavailableReason(): string | undefined {
  if (!process.env.DOCKER_HOST) return "DOCKER_HOST is not set: run the lane with `npm run test:containers` (it starts a private daemon)";
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    return undefined;
  } catch (error) {
    return `no Docker daemon answers at ${process.env.DOCKER_HOST}: ${(error as Error).message.split("\n")[0]}`;
  }
}
