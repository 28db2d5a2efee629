import { defineConfig, mergeConfig } from "vitest/config";
import root from "../../vitest.config.js";

// The reliability suite: real Envoy, real ext_proc server processes, load and faults.
// Sizes come from DETOUR_RELIABILITY=quick|full (support/reliability-profile.ts). The files run
// one after another: each one loads both cores on its own, and they must not skew each other.
export default mergeConfig(
  { resolve: root.resolve },
  defineConfig({
    test: {
      root: new URL("../..", import.meta.url).pathname,
      include: ["test/reliability/**/*.test.ts"],
      exclude: ["**/node_modules/**", "**/dist/**"],
      globalSetup: ["test/reliability/support/summary-setup.ts"],
      fileParallelism: false,
      maxWorkers: 1,
      testTimeout: 600_000,
      hookTimeout: 120_000,
      teardownTimeout: 30_000,
    },
  }),
);
