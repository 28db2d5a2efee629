import { describe, expect, it } from "vitest";
import { EXT_PROC_NODE_FLAGS, missingNodeHeapFlags } from "./node-heap-flags.js";

describe("missingNodeHeapFlags", () => {
  it("names every flag when neither the command line nor NODE_OPTIONS has it", () => {
    expect(missingNodeHeapFlags([], "")).toEqual([...EXT_PROC_NODE_FLAGS]);
  });

  it("counts flags from the command line and from NODE_OPTIONS", () => {
    expect(missingNodeHeapFlags(["--max-semi-space-size=4"], "--max-old-space-size=256")).toEqual([]);
  });

  it("accepts another value or underscores: the operator chose", () => {
    expect(missingNodeHeapFlags(["--max_semi_space_size=16"], "--enable-source-maps --max-old-space-size=1024")).toEqual([]);
    expect(missingNodeHeapFlags(["--import", "x.mjs"], "")).toEqual([...EXT_PROC_NODE_FLAGS]);
  });
});
