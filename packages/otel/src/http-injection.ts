import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type * as Http from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { context } from "@opentelemetry/api";
import { addPropagationHeaders, warnOnce } from "./outbound-headers.js";

/**
 * Published at the end of the ClientRequest constructor (Node ≥ 22.12 and ≥ 23.2), synchronously
 * in the caller's async context and before `end()` or a first `write()` fixes the headers, so
 * `setHeader` still reaches the wire; it covers every way of making a ClientRequest. The older
 * `http.client.request.start` (Node 20 too) is published from `_finish`, after the headers were
 * written: too late to add any.
 */
export const HTTP_CLIENT_REQUEST_CREATED = "http.client.request.created";

/** How node:http clients get the headers: the created channel, or wrapped request/get functions. */
export type HttpInjection = "channel" | "wrapper";

function injectClientRequest(request: Http.ClientRequest): void {
  // Headers given as an array, or an `Expect` header, make the constructor write the head at once.
  if (request.headersSent) {
    warnOnce("detour: an http request's headers were final when it was created (headers as an array, or Expect); it carries no override");
    return;
  }
  addPropagationHeaders(
    context.active(),
    (name) => request.hasHeader(name),
    (name, value) => request.setHeader(name, value),
  );
}

function onClientRequestCreated(message: unknown): void {
  const request = (message as { request?: Http.ClientRequest } | undefined)?.request;
  if (request !== undefined) injectClientRequest(request);
}

/**
 * Whether this Node publishes `http.client.request.created` while headers can still be set. The
 * ClientRequest made here never connects: with `createConnection` and no `agent` option Node uses
 * no agent and calls createConnection, which returns no socket and never calls back; the request
 * is destroyed at once (and could only fail silently).
 */
function createdChannelUsable(http: typeof Http): boolean {
  let usable = false;
  const probe = (message: unknown): void => {
    const request = (message as { request?: Http.ClientRequest } | undefined)?.request;
    usable = request !== undefined && !request.headersSent;
  };
  subscribe(HTTP_CLIENT_REQUEST_CREATED, probe);
  try {
    const options = { host: "127.0.0.1", createConnection: () => undefined };
    const request = new http.ClientRequest(options as unknown as Http.ClientRequestArgs);
    request.on("error", () => {});
    request.destroy();
  } catch {
    usable = false;
  } finally {
    unsubscribe(HTTP_CLIENT_REQUEST_CREATED, probe);
  }
  return usable;
}

type RequestFunction = (...args: unknown[]) => Http.ClientRequest;

/**
 * Replaces `request` and `get` of node:http or node:https with functions that add the headers to
 * the ClientRequest the original returns (before the caller can end it). `get` must be replaced as
 * well: it calls the module's own `request`, not the export, and ends the request before returning.
 */
function wrapClientFunctions(module: { request: unknown; get: unknown }): () => void {
  const original = module.request as RequestFunction;
  const originalGet = module.get;
  const request = function request(this: unknown, ...args: unknown[]): Http.ClientRequest {
    const req = original.apply(this, args);
    injectClientRequest(req);
    return req;
  };
  const get = function get(this: unknown, ...args: unknown[]): Http.ClientRequest {
    const req = request.apply(this, args);
    req.end();
    return req;
  };
  module.request = request;
  module.get = get;
  return () => {
    // Leave a later wrapper (another tool's) in place rather than cut it out.
    if (module.request === request) module.request = original;
    if (module.get === get) module.get = originalGet;
  };
}

/**
 * Adds the propagation headers to every node:http/node:https client request (and so to axios,
 * got, node-fetch and others built on them), with no span. Where Node publishes
 * `http.client.request.created`, a subscriber does it; elsewhere (Node 20, Node 22 before 22.12)
 * `request`/`get` are wrapped and the ESM named exports re-synced, which covers calls through the
 * module (default, named and destructured imports made after this call) but not a function
 * reference saved before it. Returns how, and the function that undoes it.
 */
export function injectHttpRequests(): { via: HttpInjection; remove: () => void } {
  const nodeRequire = createRequire(import.meta.url);
  const http = nodeRequire("node:http") as typeof Http;
  if (createdChannelUsable(http)) {
    subscribe(HTTP_CLIENT_REQUEST_CREATED, onClientRequestCreated);
    return { via: "channel", remove: () => void unsubscribe(HTTP_CLIENT_REQUEST_CREATED, onClientRequestCreated) };
  }
  const https = nodeRequire("node:https") as { request: unknown; get: unknown };
  const unwrap = [wrapClientFunctions(http as unknown as { request: unknown; get: unknown }), wrapClientFunctions(https)];
  syncBuiltinESMExports();
  return {
    via: "wrapper",
    remove: () => {
      for (const undo of unwrap) undo();
      syncBuiltinESMExports();
    },
  };
}
