import { metricValue } from "../../support/prometheus-text.js";
import type { ManagedExtProc } from "./managed-ext-proc.js";

/** One reading of the server's own process metrics (the binary exports prom-client's defaults). */
export interface ServerSample {
  /** ms since the sampling started. */
  readonly at: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly activeHandles: number;
  readonly activeStreams: number;
  readonly requests: number;
}

export async function sampleServer(server: ManagedExtProc, since: number): Promise<ServerSample> {
  const text = await server.metricsText();
  return {
    at: performance.now() - since,
    rssBytes: metricValue(text, "process_resident_memory_bytes"),
    heapUsedBytes: metricValue(text, "nodejs_heap_size_used_bytes"),
    activeHandles: metricValue(text, "nodejs_active_handles_total"),
    activeStreams: metricValue(text, "detour_ext_proc_active_streams"),
    requests: metricValue(text, "detour_ext_proc_requests_total"),
  };
}

/** Least-squares slope of `value` over time, in units per second. */
export function slopePerSecond(samples: readonly ServerSample[], value: (sample: ServerSample) => number): number {
  const n = samples.length;
  if (n < 2) return 0;
  const xs = samples.map((sample) => sample.at / 1000);
  const ys = samples.map(value);
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - meanX) * (ys[i]! - meanY);
    den += (xs[i]! - meanX) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Median of the last third minus median of the first third: growth that GC noise does not fake. */
export function thirdsGrowth(samples: readonly ServerSample[], value: (sample: ServerSample) => number): number {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  return median(samples.slice(-third).map(value)) - median(samples.slice(0, third).map(value));
}

/**
 * Lowest value of the second half minus lowest of the first half. For the heap this compares the
 * floors GC leaves behind, which is what a leak raises; the sawtooth between collections (tens
 * of MiB under load) would drown a median comparison, and halves (not thirds) make it likely that
 * each window holds a major collection (a 240 s run at ~2200 requests/s showed floors moving
 * between 20 and 30 MiB from one 30 s window to the next, with no trend).
 */
export function halvesFloorGrowth(samples: readonly ServerSample[], value: (sample: ServerSample) => number): number {
  const half = Math.max(1, Math.floor(samples.length / 2));
  return Math.min(...samples.slice(-half).map(value)) - Math.min(...samples.slice(0, half).map(value));
}

export const MiB = 1024 * 1024;
