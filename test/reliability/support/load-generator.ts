import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";

/** One request the load sends through a sidecar and what a correct answer looks like. */
export interface LoadCase {
  /** The calling workload, whose sidecar listener the request enters, e.g. "frontend/v1". */
  readonly via: string;
  readonly authority: string;
  readonly path?: string;
  /** Arrays become repeated header lines. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** Topology service that must answer. */
  readonly service: string;
  readonly baseline: string;
  /** The version an applied override routes to; undefined when only the baseline is right. */
  readonly override: string | undefined;
}

/**
 * applied: the override routed it; baseline: no override asked and the baseline served;
 * fell-back: an override was asked but the baseline served (ext_proc was down or slow: fail open);
 * failed: anything else (error status, connection error, timeout, a version nobody asked for).
 */
export type LoadOutcome = "applied" | "baseline" | "fell-back" | "failed";

export interface TimelineEntry {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly overridden: boolean;
  readonly outcome: LoadOutcome;
}

export interface LoadResult {
  sent: number;
  applied: number;
  baseline: number;
  fellBack: number;
  failed: number;
  /** The first failures, for the assertion message. */
  failures: string[];
  timeline: TimelineEntry[];
  durationMs: number;
}

export interface LoadOptions {
  /** Sidecar listener port per workload. */
  readonly port: (workload: string) => number;
  /** The i-th request (the generator decides the mix). */
  readonly next: (index: number) => LoadCase;
  /** Requests in flight at once (keep-alive connections per listener). */
  readonly concurrency: number;
  /** Each worker waits so that it starts at most one request per this many ms (steady rate). */
  readonly intervalMs?: number;
  /** Stop after this many requests... */
  readonly maxRequests: number;
  /** ...or after this long, whichever comes first. */
  readonly maxDurationMs: number;
  /** Optional early stop (checked before each request). */
  readonly stop?: () => boolean;
  /** Keep a per-request timeline (for recovery times). */
  readonly timeline?: boolean;
  /** Per-request timeout. */
  readonly requestTimeoutMs?: number;
}

const MAX_FAILURE_SAMPLES = 20;

/** Judges one answer against the case. */
export function judge(testCase: LoadCase, status: number, body: string): { outcome: LoadOutcome; why?: string } {
  if (status !== 200) return { outcome: "failed", why: `status ${status}: ${body.slice(0, 200)}` };
  let answer: { service?: string; version?: string };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    return { outcome: "failed", why: `status 200 with a body that is not an upstream answer: ${body.slice(0, 200)}` };
  }
  if (answer.service !== testCase.service) return { outcome: "failed", why: `answered by service ${answer.service}, expected ${testCase.service}` };
  if (testCase.override !== undefined && answer.version === testCase.override) return { outcome: "applied" };
  if (answer.version === testCase.baseline) return { outcome: testCase.override === undefined ? "baseline" : "fell-back" };
  return { outcome: "failed", why: `answered by ${answer.service}@${answer.version}, expected ${testCase.override ?? testCase.baseline}` };
}

/**
 * A bounded, steady request stream through real sidecar listeners: `concurrency` workers on
 * keep-alive connections, each paced by `intervalMs`, until `maxRequests` or `maxDurationMs`.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pools = new Map<number, Pool>();
  const poolFor = (port: number) => {
    let pool = pools.get(port);
    if (pool === undefined) {
      pool = new Pool(`http://127.0.0.1:${port}`, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
      pools.set(port, pool);
    }
    return pool;
  };
  const result: LoadResult = { sent: 0, applied: 0, baseline: 0, fellBack: 0, failed: 0, failures: [], timeline: [], durationMs: 0 };
  const started = performance.now();
  const deadline = started + options.maxDurationMs;
  const timeout = options.requestTimeoutMs ?? 15_000;
  let next = 0;

  const record = (testCase: LoadCase, startedAt: number, outcome: LoadOutcome, why: string | undefined) => {
    if (outcome === "applied") result.applied++;
    else if (outcome === "baseline") result.baseline++;
    else if (outcome === "fell-back") result.fellBack++;
    else {
      result.failed++;
      if (result.failures.length < MAX_FAILURE_SAMPLES) result.failures.push(`${testCase.via} -> ${testCase.authority} ${JSON.stringify(testCase.headers).slice(0, 200)}: ${why}`);
    }
    if (options.timeline) result.timeline.push({ startedAt, endedAt: performance.now(), overridden: testCase.override !== undefined, outcome });
  };

  const worker = async () => {
    for (;;) {
      const now = performance.now();
      if (next >= options.maxRequests || now >= deadline || options.stop?.()) return;
      const index = next++;
      const testCase = options.next(index);
      result.sent++;
      try {
        const response = await poolFor(options.port(testCase.via)).request({
          method: "GET",
          path: testCase.path ?? "/load",
          headers: { ...testCase.headers, host: testCase.authority } as Record<string, string | string[]>,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
        const body = await response.body.text();
        const verdict = judge(testCase, response.statusCode, body);
        record(testCase, now, verdict.outcome, verdict.why);
      } catch (error) {
        record(testCase, now, "failed", `request error: ${(error as Error).message}`);
      }
      if (options.intervalMs !== undefined) {
        const wait = now + options.intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.close().catch(() => undefined)));
  }
  result.durationMs = performance.now() - started;
  return result;
}
