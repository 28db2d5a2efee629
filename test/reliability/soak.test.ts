import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { waitFor } from "../support/wait-for.js";
import { runLoad, type LoadCase, type LoadResult } from "./support/load-generator.js";
import { reliabilityProfile } from "./support/reliability-profile.js";
import { startRig, type Rig } from "./support/reliability-rig.js";
import { MiB, sampleServer, slopePerSecond, halvesFloorGrowth, thirdsGrowth, type ServerSample } from "./support/server-samples.js";
import { recordSummaryRow } from "./support/summary-row.js";
import { trafficMix } from "./support/traffic-mix.js";

const profile = reliabilityProfile();

/**
 * Stated bounds for "no upward trend" over the soak: the heap's floor (lowest sample, what GC
 * leaves) may rise at most 16 MiB from the first half to the second, RSS's median at most 32 MiB
 * from the first third to the last. At the full run's ~1000-2000 requests/s, a leak of 300 bytes
 * per request crosses the heap bound within the 60 s; the floor's own noise is ~10 MiB.
 */
const HEAP_GROWTH_BOUND = 16 * MiB;
const RSS_GROWTH_BOUND = 32 * MiB;
/** Handles may differ by the Envoy connection being recycled (max_requests_per_connection) at the moment of reading. */
const HANDLE_SLACK = 2;

/**
 * The mix: the steady traffic mix on even requests; on odd ones a value the server has never
 * seen (override text and :authority port both change), so every bounded cache (parse cache,
 * answer cache, authority memo) keeps filling, clearing and refilling.
 */
function soakMix(rig: Rig): (index: number) => LoadCase {
  const mix = trafficMix(rig.config);
  const unique = profile.soak.uniqueValues;
  return (index) => {
    if (index % 2 === 0) return mix[(index / 2) % mix.length]!;
    const n = Math.floor(index / 2) % unique;
    return {
      via: "frontend/v1",
      authority: `pricing:${1_000 + (n % 50_000)}`,
      headers: { "x-detour": `pricing=v2, svc-${n}=v${n}`, baggage: `session=${n},detour=pricing%3Dv2%2Csvc-${n}%3Dv${n}` },
      service: "pricing",
      baseline: "v1",
      override: "v2",
    };
  };
}

function add(total: LoadResult, part: LoadResult): void {
  total.sent += part.sent;
  total.applied += part.applied;
  total.baseline += part.baseline;
  total.fellBack += part.fellBack;
  total.failed += part.failed;
  total.failures.push(...part.failures);
  total.durationMs += part.durationMs;
}

// Mixed load for a while with the server's heap and RSS sampled from its own
// /metrics; afterwards its open streams return to zero and its handles to the idle count.
describe("soak", () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it(`holds memory flat over ${profile.soak.durationMs / 1000} s of mixed load and returns to idle`, async () => {
    const server = rig.servers[0]!;
    const next = soakMix(rig);
    const started = performance.now();
    const total: LoadResult = { sent: 0, applied: 0, baseline: 0, fellBack: 0, failed: 0, failures: [], timeline: [], durationMs: 0 };

    const warmup = await runLoad({
      port: rig.listenerPort,
      next,
      concurrency: profile.soak.concurrency,
      intervalMs: profile.soak.intervalMs,
      maxRequests: 100_000_000,
      maxDurationMs: profile.soak.warmupMs,
    });
    add(total, warmup);
    await waitFor(async () => (await server.metric("detour_ext_proc_active_streams")) === 0, { timeoutMs: 10_000, what: "idle after warm-up" });
    const idleBefore = await sampleServer(server, started);

    const samples: ServerSample[] = [];
    let soaking = true;
    const sampler = (async () => {
      const from = performance.now();
      while (soaking && performance.now() - from < profile.soak.durationMs + 30_000) {
        samples.push(await sampleServer(server, from));
        rig.clearHits();
        await sleep(profile.soak.sampleEveryMs);
      }
    })();
    const soak = await runLoad({
      port: rig.listenerPort,
      next: (index) => next(index + warmup.sent),
      concurrency: profile.soak.concurrency,
      intervalMs: profile.soak.intervalMs,
      maxRequests: 10_000_000,
      maxDurationMs: profile.soak.durationMs,
    });
    soaking = false;
    await sampler;
    add(total, soak);

    const idleStreams = await waitFor(async () => ((await server.metric("detour_ext_proc_active_streams")) === 0 ? 0 : undefined), { timeoutMs: 10_000 }).catch(() =>
      server.metric("detour_ext_proc_active_streams"),
    );
    await sleep(1_000);
    const idleAfter = await sampleServer(server, started);
    const heapGrowth = halvesFloorGrowth(samples, (sample) => sample.heapUsedBytes);
    const rssGrowth = thirdsGrowth(samples, (sample) => sample.rssBytes);
    const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
    const range = (value: (sample: ServerSample) => number) => `${mib(Math.min(...samples.map(value)))}..${mib(Math.max(...samples.map(value)))}`;
    const crashes = rig.crashes();
    recordSummaryRow(inject("reliabilityResults"), {
      part: "soak",
      faults: 0,
      sent: total.sent,
      succeeded: total.applied + total.baseline,
      fellBack: total.fellBack,
      failed: total.failed,
      badInputs: 0,
      envoyRejected: 0,
      crashes: crashes.count,
      durationMs: performance.now() - started,
      notes: [
        `${(profile.soak.warmupMs / 1000).toFixed(0)} s warm-up (${warmup.sent} requests), then ${(profile.soak.durationMs / 1000).toFixed(0)} s: ${soak.sent} requests at ${(soak.sent / (soak.durationMs / 1000)).toFixed(0)}/s (${profile.soak.uniqueValues} distinct override values and authorities cycling), ${samples.length} samples`,
        `heap used ${range((s) => s.heapUsedBytes)}, floor growth (lowest of second half vs first half) ${mib(heapGrowth)} (bound ${mib(HEAP_GROWTH_BOUND)}), slope ${(slopePerSecond(samples, (s) => s.heapUsedBytes) / 1024).toFixed(1)} KiB/s`,
        `RSS ${range((s) => s.rssBytes)}, growth ${mib(rssGrowth)} (bound ${mib(RSS_GROWTH_BOUND)}), slope ${(slopePerSecond(samples, (s) => s.rssBytes) / 1024).toFixed(1)} KiB/s`,
        `after: ${idleStreams} open streams; active handles ${idleAfter.activeHandles} (idle before: ${idleBefore.activeHandles})`,
        ...total.failures.slice(0, 5),
        ...crashes.notes,
      ],
    });

    expect(total.failures).toEqual([]);
    expect(total.failed).toBe(0);
    expect(total.fellBack, "ext_proc was up all along").toBe(0);
    expect(crashes.notes).toEqual([]);
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(heapGrowth, "heap trend").toBeLessThan(HEAP_GROWTH_BOUND);
    expect(rssGrowth, "RSS trend").toBeLessThan(RSS_GROWTH_BOUND);
    expect(idleStreams).toBe(0);
    expect(idleAfter.activeHandles).toBeLessThanOrEqual(idleBefore.activeHandles + HANDLE_SLACK);
  });
});
