import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { context } from "@opentelemetry/api";
import { addPropagationHeaders, warnOnce } from "./outbound-headers.js";

/**
 * Published by undici (≥ 5.12, and the copy inside Node that serves global `fetch`) in the Request
 * constructor, synchronously in the caller's async context and before anything is written, so
 * `request.addHeader` still reaches the wire. Channel names are process-global: one subscriber
 * covers the bundled and every npm copy of undici. instrumentation-undici subscribes here too.
 */
export const UNDICI_REQUEST_CREATE = "undici:request:create";

/** The part of undici's Request a `undici:request:create` subscriber uses. */
interface UndiciRequest {
  readonly method?: string;
  /** undici ≥ 6.11: [name, value, name, value, ...]; earlier: "name: value\r\n" lines. */
  readonly headers?: unknown;
  addHeader?(name: string, value: string): unknown;
}

/** Whether the caller already set header `name` (lower case) on an undici request. */
function hasHeader(headers: unknown, name: string): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      const key: unknown = headers[i];
      if (typeof key === "string" && key.length === name.length && key.toLowerCase() === name) return true;
    }
    return false;
  }
  if (typeof headers === "string") {
    const lines = headers.toLowerCase();
    return lines.startsWith(`${name}:`) || lines.includes(`\r\n${name}:`);
  }
  return false;
}

function onRequestCreate(message: unknown): void {
  const request = (message as { request?: UndiciRequest } | undefined)?.request;
  if (request === undefined) return;
  // A CONNECT goes to a proxy (undici's ProxyAgent); the request through the tunnel is published too.
  if (request.method === "CONNECT") return;
  if (typeof request.addHeader !== "function") {
    // undici 6.11.0 briefly published a read-only view of the request.
    warnOnce("detour: this undici publishes requests without addHeader; its requests carry no override (upgrade undici)");
    return;
  }
  addPropagationHeaders(
    context.active(),
    (name) => hasHeader(request.headers, name),
    (name, value) => request.addHeader?.(name, value),
  );
}

/**
 * Adds the propagation headers to every undici request (global `fetch`, `undici.request`,
 * `undici.fetch`, Agent/Pool/Client dispatches) as it is created, with no span. Returns the
 * unsubscribe function.
 */
export function injectUndiciRequests(): () => void {
  subscribe(UNDICI_REQUEST_CREATE, onRequestCreate);
  return () => unsubscribe(UNDICI_REQUEST_CREATE, onRequestCreate);
}
