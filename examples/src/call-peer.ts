import { fetch, type Dispatcher } from "undici";
import type { Answer, Call } from "./answer.js";

/** Long enough for a cold Envoy + ext_proc path on a loaded machine, short enough to notice a hang. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * Calls `http://<service><path>` through the sidecar and returns the peer's answer, or a
 * failure entry (status and the first line of the body) so the caller's answer still shows
 * the hop. The override context is written on the request by the `undici:request:create`
 * subscriber that `setupDetour()` registered: nothing here touches detour headers.
 */
export async function callPeer(dispatcher: Dispatcher, service: string, path: string): Promise<Call> {
  try {
    const response = await fetch(`http://${service}${path}`, { dispatcher, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const text = await response.text();
    if (!response.ok) {
      return { service, status: response.status, error: text.split("\n")[0]?.trim() || response.statusText };
    }
    return JSON.parse(text) as Answer;
  } catch (error) {
    return { service, error: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error) };
  }
}
