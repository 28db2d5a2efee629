/**
 * How big each part of the reliability suite runs. `full` is the size docs/operations.md reports; `quick` is the
 * bounded subset CI runs (each part scaled down so the whole suite stays within a few minutes
 * on two cores shared with other jobs). Choose with DETOUR_RELIABILITY=quick|full (default quick).
 */
export interface ReliabilityProfile {
  readonly name: "quick" | "full";
  /** Load with faults: requests per second of the steady stream, and the pause beyond message_timeout. */
  readonly faultLoad: { readonly concurrency: number; readonly intervalMs: number; readonly pauseMs: number; readonly faultRounds: number };
  /** Overridden requests pushed through one Envoy worker's ext_proc connection. */
  readonly resetPressure: { readonly requests: number; readonly concurrency: number; readonly controlRequests: number };
  /** Generated hostile requests through real Envoy. */
  readonly hostile: { readonly requests: number; readonly concurrency: number; readonly seed: number };
  /**
   * Soak: mixed load for `durationMs` after `warmupMs` of the same load (caches filled and V8's
   * heap grown to its working size first: a 240 s run showed RSS climbing for the first ~60 s at
   * full rate, then flat, so that growth is not mistaken for a leak); `uniqueValues` distinct
   * override values and authorities keep the server's bounded caches churning. `intervalMs`
   * paces each worker: quick's few seconds of warm-up cannot reach V8's working size at full
   * rate (RSS then still climbs ~30 MiB during the soak), so quick runs at a few hundred per second.
   */
  readonly soak: {
    readonly durationMs: number;
    readonly concurrency: number;
    readonly intervalMs: number | undefined;
    readonly sampleEveryMs: number;
    readonly warmupMs: number;
    readonly uniqueValues: number;
  };
  readonly configFaults: { readonly concurrency: number; readonly intervalMs: number };
  readonly shutdown: { readonly concurrency: number; readonly intervalMs: number; readonly rollingRounds: number };
}

const QUICK: ReliabilityProfile = {
  name: "quick",
  faultLoad: { concurrency: 4, intervalMs: 20, pauseMs: 2_500, faultRounds: 1 },
  resetPressure: { requests: 1_500, concurrency: 8, controlRequests: 0 },
  hostile: { requests: 4_000, concurrency: 8, seed: 9 },
  soak: { durationMs: 12_000, concurrency: 4, intervalMs: 10, sampleEveryMs: 500, warmupMs: 4_000, uniqueValues: 500 },
  configFaults: { concurrency: 4, intervalMs: 20 },
  shutdown: { concurrency: 4, intervalMs: 20, rollingRounds: 1 },
};

const FULL: ReliabilityProfile = {
  name: "full",
  faultLoad: { concurrency: 8, intervalMs: 20, pauseMs: 3_000, faultRounds: 3 },
  resetPressure: { requests: 20_000, concurrency: 16, controlRequests: 5_000 },
  hostile: { requests: 100_000, concurrency: 16, seed: 9 },
  soak: { durationMs: 60_000, concurrency: 8, intervalMs: undefined, sampleEveryMs: 1_000, warmupMs: 45_000, uniqueValues: 20_000 },
  configFaults: { concurrency: 8, intervalMs: 20 },
  shutdown: { concurrency: 8, intervalMs: 20, rollingRounds: 3 },
};

export function reliabilityProfile(env: NodeJS.ProcessEnv = process.env): ReliabilityProfile {
  const name = env.DETOUR_RELIABILITY ?? "quick";
  if (name === "quick") return QUICK;
  if (name === "full") return FULL;
  throw new Error(`DETOUR_RELIABILITY=${name}: use quick or full`);
}
