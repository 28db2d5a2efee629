import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources of every workspace package; child processes that
// need a real binary (ext-proc server, cli) run the built dist/ (npm test builds first).
export default defineConfig({
  resolve: {
    // Subpaths before their package: the first alias that matches wins.
    alias: {
      "@detour/ext-proc/kubernetes-client": fileURLToPath(new URL("./packages/ext-proc/src/kubernetes/client.ts", import.meta.url)),
      "@detour/ext-proc/kubernetes": fileURLToPath(new URL("./packages/ext-proc/src/kubernetes/index.ts", import.meta.url)),
      "@detour/core": src("core"),
      "@detour/ext-proc": src("ext-proc"),
      "@detour/otel": src("otel"),
      "@detour/express": src("express"),
      "@detour/fastify": src("fastify"),
      "@detour/cli": src("cli"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts", "examples/src/**/*.test.ts"],
    exclude: ["test/reliability/**", "test/containers/**", "test/kubernetes/**", "**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Envoy-backed suites start real processes; two cores do not like many at once.
    maxWorkers: 2,
  },
});
