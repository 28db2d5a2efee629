import { diag, propagation, type Context } from "@opentelemetry/api";

/**
 * Adds to an outbound request the headers the global propagator writes for `ctx` (traceparent,
 * baggage, x-detour, x-detour-token: whatever it is configured with), except those the caller set
 * itself (`has`): the caller's own value wins and no header goes out twice, so a hand-set
 * `traceparent` is never followed by a second one that would break extraction downstream.
 *
 * Runs inside diagnostics-channel subscribers and client wrappers, on the application's request
 * path: it never throws (a subscriber's exception would surface as an uncaught exception).
 */
export function addPropagationHeaders(ctx: Context, has: (name: string) => boolean, add: (name: string, value: string) => void): void {
  try {
    const carrier: Record<string, string> = {};
    propagation.inject(ctx, carrier);
    for (const name in carrier) {
      if (!has(name)) add(name, carrier[name]!);
    }
  } catch (error) {
    warnOnce("detour: could not add propagation headers to an outbound request", error);
  }
}

const warned = new Set<string>();

/** One diag warning per message (a fixed text) and process: these would fire per request otherwise. */
export function warnOnce(message: string, error?: unknown): void {
  if (warned.has(message)) return;
  warned.add(message);
  if (error === undefined) diag.warn(message);
  else diag.warn(message, { error: error instanceof Error ? error.message : String(error) });
}
