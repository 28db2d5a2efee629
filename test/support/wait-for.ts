import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `check` until it returns a value other than undefined/false (exceptions count as "not
 * yet"), so tests wait for a condition instead of sleeping a fixed time. Generous by default:
 * a loaded two-core machine can be slow to start processes.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: last error ${lastError.message}` : "";
      throw new Error(`timed out waiting for ${options.what ?? "a condition"}${reason}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}
