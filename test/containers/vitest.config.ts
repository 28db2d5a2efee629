import { defineConfig } from "vitest/config";
import root from "../../vitest.config.js";

// The container lane (scripts/test-containers): real containers on the private Docker daemon of
// scripts/docker-up, so one suite at a time and generous hooks (vfs storage copies each image
// into every container it starts). Same @detour/* aliases as the root config.
export default defineConfig({
  resolve: root.resolve,
  test: {
    include: ["test/containers/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
    fileParallelism: false,
    env: {
      // The reaper image (testcontainers/ryuk) cannot be pulled offline: the suites stop their
      // containers themselves and scripts/docker-down removes whatever is left with the daemon.
      TESTCONTAINERS_RYUK_DISABLED: "true",
      // Containers use the host network on loopback. Without this, testcontainers (seeing
      // /.dockerenv) asks the daemon for the "bridge" network's gateway, which --bridge=none
      // does not create.
      TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1",
    },
  },
});
