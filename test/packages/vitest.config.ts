import { defineConfig, mergeConfig } from "vitest/config";
import root from "../../vitest.config.js";

// The packed-tarball lane (npm run test:packages): npm pack of every publishable package and
// fresh projects outside the workspace that npm install them from the registry's point of view
// (express, fastify and OpenTelemetry come from npm). The files run one after another; each
// install keeps both cores busy on its own.
export default mergeConfig(
  { resolve: root.resolve },
  defineConfig({
    test: {
      root: new URL("../..", import.meta.url).pathname,
      include: ["test/packages/**/*.test.ts"],
      exclude: ["**/node_modules/**", "**/dist/**"],
      fileParallelism: false,
      maxWorkers: 1,
      testTimeout: 120_000,
      hookTimeout: 600_000,
    },
  }),
);
