// Timing for the in-process microbenchmarks (bench/codec.mjs, bench/wire-reader.mjs): each side
// runs in batches large enough that clock reads are negligible, for a fixed time per round.
// `runBatch(n)` runs n operations.

/** `--time-ms N` (per round) and `--rounds N` from argv, else the defaults. */
export function timingOptions(argv, defaults) {
  const option = (name, fallback) => {
    const i = argv.indexOf(name);
    return i === -1 ? fallback : Number(argv[i + 1]);
  };
  return { timeMs: option("--time-ms", defaults.timeMs), rounds: option("--rounds", defaults.rounds) };
}

/** A batch size that takes about a tenth of a round. */
export function calibrateBatch(runBatch, timeMs) {
  let batch = 256;
  for (;;) {
    const t0 = process.hrtime.bigint();
    runBatch(batch);
    if (Number(process.hrtime.bigint() - t0) / 1e6 > timeMs / 10) return batch;
    batch *= 2;
  }
}

/** Operations per second over one round of `timeMs`. */
export function round(runBatch, batch, timeMs) {
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < timeMs * 1e6) {
    runBatch(batch);
    ops += batch;
    elapsed = Number(process.hrtime.bigint() - t0);
  }
  return ops / (elapsed / 1e9);
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const geometricMean = (values) => Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length);
