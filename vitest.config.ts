import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const packages = fileURLToPath(new URL("./packages/", import.meta.url));

// Tests run against the TypeScript sources of every workspace package; child processes that
// need a real binary (ext-proc server, cli) run the built dist/ (npm test builds first).
// `@detour/x` is packages/x/src/index.ts and a subpath export `@detour/x/y` is packages/x/src/y.ts,
// as the packages' `exports` maps them in dist.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@detour\/(core|ext-proc|otel|express|fastify|cli)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@detour\/(core|ext-proc|otel|express|fastify|cli)\/([a-z-]+)$/, replacement: `${packages}$1/src/$2.ts` },
    ],
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts", "examples/src/**/*.test.ts"],
    exclude: ["test/reliability/**", "test/containers/**", "test/kubernetes/**", "test/packages/**", "**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Envoy-backed suites start real processes; two cores do not like many at once.
    maxWorkers: 2,
  },
});
