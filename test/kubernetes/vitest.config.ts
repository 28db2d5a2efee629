import { defineConfig } from "vitest/config";
import root from "../../vitest.config.js";

// The Kubernetes suite (scripts/test-kubernetes, on Node 24): each file starts its own etcd and
// kube-apiserver, which together take most of a core while they start, so one file at a time.
// Same @detour/* aliases as the root config.
export default defineConfig({
  resolve: root.resolve,
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/kubernetes/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["test/kubernetes/support/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    teardownTimeout: 60_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
