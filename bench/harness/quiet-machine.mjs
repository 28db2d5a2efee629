// On a shared machine other people's builds and tests steal CPU from a repetition. Before each
// repetition the harness may wait (within a total time budget for the run) until the machine is
// nearly idle; every repetition also records how much other load it ran with.
import { setTimeout as sleep } from "node:timers/promises";
import { machineBusySeconds } from "./proc-sampler.mjs";

/** Busy CPUs (0..nproc) averaged over `ms`, our idle stacks included. */
async function busyCpus(ms) {
  const start = machineBusySeconds();
  await sleep(ms);
  const end = machineBusySeconds();
  return start === undefined || end === undefined ? 0 : (end - start) / (ms / 1000);
}

/**
 * A waiter with a total budget in seconds: each call returns once a 1 s window is below
 * `thresholdCpus` busy, or at once when the budget is spent. Returns the seconds it waited.
 */
export function createQuietWaiter({ budgetSeconds, thresholdCpus = 0.25 }) {
  let left = budgetSeconds * 1000;
  return async function waitForQuiet() {
    let waited = 0;
    while (left > 0) {
      const t0 = Date.now();
      const busy = await busyCpus(1000);
      const spent = Date.now() - t0;
      left -= spent;
      if (busy < thresholdCpus) break;
      waited += spent;
    }
    return waited / 1000;
  };
}

/** Other load (CPUs) above which a repetition counts as disturbed. */
export const NOISY_OTHER_CPUS = 0.2;

/** Times one repetition may be run again, so a long busy spell cannot spend the run's whole allowance on one scenario. */
const RETRIES_PER_REPETITION = 1;

/**
 * Runs one repetition via `run()` (which returns an object with `otherCpus`), first waiting for
 * a quiet machine. A disturbed repetition is set aside and run again (at most
 * RETRIES_PER_REPETITION times) while the shared allowance (`retries.left`) lasts; the set-aside
 * ones are returned too, so nothing is hidden.
 */
export async function runUndisturbed(run, { waitForQuiet, retries }) {
  const discarded = [];
  let waited = 0;
  for (;;) {
    waited += await waitForQuiet();
    const result = await run();
    if (!(result.otherCpus > NOISY_OTHER_CPUS) || retries.left <= 0 || discarded.length >= RETRIES_PER_REPETITION) return { result, discarded, waited };
    retries.left--;
    discarded.push(result);
  }
}
