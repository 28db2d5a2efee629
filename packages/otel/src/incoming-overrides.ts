import { context, propagation, trace, type Context } from "@opentelemetry/api";
import { isTracingSuppressed } from "@opentelemetry/core";
import type { IncomingHttpHeaders } from "node:http";
import {
  BAGGAGE_HEADER,
  BAGGAGE_MEMBER,
  createCarrierConfig,
  DETOUR_HEADER,
  readCarriers,
  readCarrierValues,
  readHeaderValues,
  TOKEN_HEADER,
  type CarrierConfig,
  type CarrierReadResult,
  type HeaderInput,
  type OverrideSet,
  type Problem,
} from "@detour/core";
import { setOverrides } from "./override-context.js";
import { setOverrideToken, tokenFromHeader } from "./override-token.js";

/** What one incoming request carried, and the context its handling should run in. */
export interface IncomingOverrides {
  /** The winning carrier's set; the empty set when the request carried none. */
  readonly set: OverrideSet;
  /** The carrier the set came from ("x-detour", "baggage", an alias name), undefined when none. */
  readonly source: string | undefined;
  /** Entries and carriers that were dropped, with codes and messages (see @detour/core Problem). */
  readonly problems: readonly Problem[];
  /** `parent` with exactly this request's override (an inherited one is removed when the request has none). */
  readonly context: Context;
  /**
   * True when the override is non-empty but tracing is suppressed in `parent` (for example by
   * instrumentation-http's ignoreIncomingRequestHook): propagators write nothing then, so
   * outbound calls will not carry the override. Frameworks log a warning.
   */
  readonly suppressed: boolean;
}

/**
 * When no server instrumentation extracted this request (none registered, as in the light install,
 * or it ignores the route), the parent has neither a span nor baggage: extract with the global
 * propagator here, so the request's other baggage members and its trace context travel on as they
 * would with instrumentation-http. When something did extract, doing it again would replace the
 * server span it started with the remote parent.
 */
function extractedParent(headers: HeaderInput, parent: Context): Context {
  if (trace.getSpan(parent) !== undefined || propagation.getBaggage(parent) !== undefined) return parent;
  if (typeof headers !== "object" || headers === null) return parent;
  const proto: unknown = Object.getPrototypeOf(headers);
  // Node's IncomingHttpHeaders (what Express and Fastify hand over) is a plain object, which the
  // default getter reads; other shapes are rare here and keep the override-only behaviour.
  if (proto !== Object.prototype && proto !== null) return parent;
  const record = headers as Readonly<Record<string, string | string[] | undefined>>;
  return onlyDetourFields(record) ? parent : propagation.extract(parent, record);
}

/**
 * True when the request carries none of the global propagator's fields but detour's own (x-detour,
 * x-detour-token, a baggage header that is just one `detour` member): extracting would then only
 * rebuild what incomingOverrides sets anyway, at the cost of parsing every carrier twice. The
 * common case on the light install, where this is the whole per-request extraction cost.
 */
function onlyDetourFields(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  for (const field of propagation.fields()) {
    if (field === DETOUR_HEADER || field === TOKEN_HEADER) continue;
    const value = headers[field];
    if (value === undefined) continue;
    if (field !== BAGGAGE_HEADER || !isDetourMemberOnly(value)) return false;
  }
  return true;
}

/** One baggage line holding only a `detour` member without properties (valid or not). */
function isDetourMemberOnly(value: string | string[]): boolean {
  return typeof value === "string" && value.startsWith(DETOUR_MEMBER_PREFIX) && !value.includes(",") && !value.includes(";");
}

const DETOUR_MEMBER_PREFIX = `${BAGGAGE_MEMBER}=`;

const TOKEN_NAMES: readonly string[] = [TOKEN_HEADER];

/** The header names a request is read by: the config's carrier headers, then x-detour-token last. */
interface RequestNames {
  readonly config: CarrierConfig;
  readonly names: readonly string[];
}

let lastNames: RequestNames | undefined;

function requestNames(config: CarrierConfig): readonly string[] {
  if (lastNames?.config !== config) lastNames = { config, names: [...config.headerNames, TOKEN_HEADER] };
  return lastNames.names;
}

/** One header of Node's IncomingHttpHeaders as readHeaderValues gives it (lines joined with ","). */
function nodeHeaderValue(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : Array.isArray(value) ? value.join(",") : undefined;
}

const DEFAULT_CARRIERS = createCarrierConfig();

/** The inputs and result of the last requestContext call. */
interface BuiltContext {
  readonly parent: Context;
  readonly set: OverrideSet;
  readonly token: string | undefined;
  readonly ctx: Context;
}

let lastBuilt: BuiltContext | undefined;

/**
 * `parent` with exactly `set` and `token`. Contexts are immutable, so requests built from the same
 * parent, the same set (readCarriers hands out one cached instance per header value) and the same
 * token share one: the common cases, a run of requests with the same override or with none, then
 * cost no baggage or context copies.
 */
function requestContext(parent: Context, set: OverrideSet, token: string | undefined): Context {
  const last = lastBuilt;
  if (last !== undefined && last.parent === parent && last.set === set && last.token === token) return last.ctx;
  const ctx = setOverrideToken(setOverrides(parent, set), token);
  lastBuilt = { parent, set, token, ctx };
  return ctx;
}

/** Options set by setupDetour, used by framework glue that was not given its own. */
let processDefaults: CarrierConfig | undefined;

/** Records the options setupDetour was given so middleware reads carriers the same way. */
export function setDefaultReadOptions(config: CarrierConfig | undefined): void {
  processDefaults = config;
}

/**
 * Reads an incoming request's carriers and builds the context to handle it in. The request's
 * headers decide alone: whatever context the server happened to be created in (a `withOverrides`
 * around `listen()`, a keep-alive socket's earlier request) must not leak into this request.
 * Framework glue calls this (or, through createRequestScope, its IncomingMessage form) once per
 * request and then runs the rest of the request inside `context.with(result.context, ...)`. `config` is checked where the
 * glue is registered (resolveRequestOptions); default: what setupDetour was given.
 */
export function incomingOverrides(
  headers: HeaderInput,
  config?: CarrierConfig,
  parent: Context = context.active(),
): IncomingOverrides {
  const token = readHeaderValues(headers, TOKEN_NAMES)[0];
  return requestOverrides(headers, readCarriers(headers, config ?? processDefaults), token, parent);
}

/**
 * incomingOverrides for Node's `IncomingMessage.headers` (Express, Fastify and node:http hand it
 * over) and a config checked by createCarrierConfig: Node lower-cases header names, so each value
 * is one property read instead of a scan of every header name (on a hello-world route under load
 * the scan cost several percent of the request).
 */
export function incomingMessageOverrides(
  headers: IncomingHttpHeaders,
  config: CarrierConfig | undefined,
  parent: Context,
): IncomingOverrides {
  const carriers = config ?? processDefaults ?? DEFAULT_CARRIERS;
  const names = requestNames(carriers);
  const values = new Array<string | undefined>(names.length);
  for (let i = 0; i < names.length; i++) values[i] = nodeHeaderValue(headers[names[i] as string]);
  return requestOverrides(headers, readCarrierValues(values, carriers), values[values.length - 1], parent);
}

function requestOverrides(headers: HeaderInput, result: CarrierReadResult, rawToken: string | undefined, parent: Context): IncomingOverrides {
  // The token is set from the headers too, not taken from the parent: the parent may not have been
  // extracted from this request (see extractedParent), and a credential must not outlive its request.
  const ctx = requestContext(extractedParent(headers, parent), result.set, tokenFromHeader(rawToken));
  return {
    set: result.set,
    source: result.source,
    problems: result.problems,
    context: ctx,
    suppressed: !result.set.isEmpty && isTracingSuppressed(parent),
  };
}
