import { AsyncLocalStorage } from "node:async_hooks";
import { expect, test } from "vitest";

// The other Node lines' lanes (scripts/test-node 22|24) must really run on that line: this prints the runtime so
// the CI log shows it, and checks the one thing every test here depends on.
test(`runs on Node ${process.version}`, async () => {
  console.info(`detour library tests: Node ${process.version} (${process.execPath})`);
  expect(process.versions.node).toMatch(/^\d+\.\d+\.\d+$/);
  if (process.env.DETOUR_EXPECT_NODE_MAJOR !== undefined) {
    expect(process.versions.node.split(".")[0]).toBe(process.env.DETOUR_EXPECT_NODE_MAJOR);
  }
  const als = new AsyncLocalStorage<number>();
  const seen = await als.run(7, async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return als.getStore();
  });
  expect(seen).toBe(7);
});
