import { defineConfig, mergeConfig } from "vitest/config";
import root from "../../vitest.config.js";

// The messaging suite: real Kafka, RabbitMQ and NATS brokers (started by the suite on loopback),
// real Envoy and the real ext_proc server. The files run one after another: each one starts
// brokers and consumer processes that load both cores.
export default mergeConfig(
  { resolve: root.resolve },
  defineConfig({
    test: {
      root: new URL("../..", import.meta.url).pathname,
      include: ["test/messaging/**/*.test.ts"],
      globalSetup: ["test/messaging/support/global-setup.ts"],
      exclude: ["**/node_modules/**", "**/dist/**"],
      fileParallelism: false,
      maxWorkers: 1,
      testTimeout: 300_000,
      hookTimeout: 240_000,
      teardownTimeout: 60_000,
    },
  }),
);
