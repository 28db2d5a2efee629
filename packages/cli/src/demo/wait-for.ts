import { setTimeout as sleep } from "node:timers/promises";
import { DetourError } from "@detour/core";

/** Poll interval: quick enough to feel instant, slow enough not to load a 2-core machine. */
const POLL_MS = 100;

/**
 * Waits until `check` returns a value (not undefined), polling. Gives up with a DetourError
 * naming `what` after `timeoutMs`, or as soon as `signal` aborts (a child crashed: its reason
 * is the error). Never asserts on time, only bounds it.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, options: { timeoutMs: number; signal?: AbortSignal }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (options.signal?.aborted) throw options.signal.reason;
    if (Date.now() > deadline) throw new DetourError("demo-not-ready", `${what} did not happen within ${Math.round(options.timeoutMs / 1000)} s`);
    await sleep(POLL_MS);
  }
}

/** GET a loopback URL; the status and the body text, or undefined when nothing answers. */
export async function httpGet(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await response.text() };
  } catch {
    return undefined;
  }
}
