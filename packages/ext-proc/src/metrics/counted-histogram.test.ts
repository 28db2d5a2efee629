import { Histogram, Registry, type RegistryContentType } from "prom-client";
import { describe, expect, it } from "vitest";
import { CountedHistogram } from "./counted-histogram.js";

const BUCKETS = [0.001, 0.01, 0.1];

describe("CountedHistogram", () => {
  it("scrapes exactly as prom-client's Histogram after the same observations, and resets", async () => {
    const ours = new Registry<RegistryContentType>();
    const theirs = new Registry<RegistryContentType>();
    const counted = new CountedHistogram({ name: "t_seconds", help: "time", buckets: BUCKETS, registers: [ours] });
    const reference = new Histogram({ name: "t_seconds", help: "time", buckets: BUCKETS, registers: [theirs] });
    for (const value of [0, 0.001, 0.0011, 0.05, 0.1, 0.5, 7]) {
      counted.observe(value);
      reference.observe(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    theirs.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    expect(await ours.metrics()).toMatch(/^t_seconds_count 0$/m);
  });
});
