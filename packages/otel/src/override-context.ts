import { context, createContextKey, propagation, type Context } from "@opentelemetry/api";
import {
  BAGGAGE_HEADER,
  BAGGAGE_MEMBER,
  DETOUR_HEADER,
  DetourError,
  encodeBaggageValue,
  OverrideSet,
  parseOverrides,
  TOKEN_HEADER,
} from "@detour/core";
import { getOverrideToken } from "./override-token.js";

/**
 * The parsed set next to the baggage text it was stored with. The `detour` baggage entry is the
 * source of truth (it is what W3CBaggagePropagator forwards and what other code may change with
 * the baggage API); this cached copy only saves parsing on reads while the two still agree.
 */
interface StoredOverrides {
  readonly set: OverrideSet;
  readonly text: string;
}

const OVERRIDES_KEY = createContextKey("detour.overrides");

/**
 * Entries written by someone else (W3CBaggagePropagator.extract without DetourPropagator, user
 * code through the baggage API) are parsed once per entry object: BaggageImpl copies entry
 * references when it derives a new baggage, so the same entry is read again and again.
 */
const parsedEntries = new WeakMap<object, OverrideSet>();

/**
 * The override set carried by a context (default: the active one); the empty set when none.
 * Cheap: a context made by this package answers from a private context key.
 */
export function getOverrides(ctx: Context = context.active()): OverrideSet {
  const entry = propagation.getBaggage(ctx)?.getEntry(BAGGAGE_MEMBER);
  if (entry === undefined) return OverrideSet.EMPTY;
  const stored = ctx.getValue(OVERRIDES_KEY) as StoredOverrides | undefined;
  if (stored !== undefined && stored.text === entry.value) return stored.set;
  let set = parsedEntries.get(entry);
  if (set === undefined) {
    // Lenient on purpose: a baggage value from another process is request data, never a reason to throw.
    set = parseOverrides(entry.value, { carrier: BAGGAGE_HEADER }).set;
    parsedEntries.set(entry, set);
  }
  return set;
}

/**
 * A context carrying `set` both as the `detour` baggage entry (so any W3C baggage propagator
 * forwards it) and under a private key (so reads do not parse). Other baggage entries are kept.
 * The empty set removes the override.
 */
export function setOverrides(ctx: Context, set: OverrideSet): Context {
  const baggage = propagation.getBaggage(ctx);
  const entry = baggage?.getEntry(BAGGAGE_MEMBER);
  const current = ctx.getValue(OVERRIDES_KEY) as StoredOverrides | undefined;
  // Each derived context copies the parent's whole value map (BaseContext), and framework glue
  // calls this once per request on a context the propagator usually already built the same way:
  // return `ctx` itself when it already says exactly this.
  if (set.isEmpty) {
    if (baggage === undefined || entry === undefined) return current === undefined ? ctx : ctx.deleteValue(OVERRIDES_KEY);
    const rest = baggage.removeEntry(BAGGAGE_MEMBER);
    const cleared = rest.getAllEntries().length === 0 ? propagation.deleteBaggage(ctx) : propagation.setBaggage(ctx, rest);
    return cleared.deleteValue(OVERRIDES_KEY);
  }
  const text = set.toString();
  if (current !== undefined && entry !== undefined && entry.metadata === undefined && entry.value === text && current.text === text) {
    // Same canonical text means the same set; the stored copy is kept (it may be another instance).
    return ctx;
  }
  const next = (baggage ?? propagation.createBaggage()).setEntry(BAGGAGE_MEMBER, { value: text });
  const stored: StoredOverrides = { set, text };
  return propagation.setBaggage(ctx, next).setValue(OVERRIDES_KEY, stored);
}

/**
 * Runs `fn` with `overrides` active, for code that starts work outside a request (jobs, scripts,
 * tests): outbound calls made inside, after awaits and timers too, carry it. A string is parsed
 * strictly (it is code, not request data): an invalid one throws DetourError.
 */
export function withOverrides<T>(overrides: OverrideSet | string, fn: () => T): T {
  const set = typeof overrides === "string" ? parseOverrides(overrides, { strict: true }).set : overrides;
  if (!(set instanceof OverrideSet)) {
    throw new DetourError("invalid-overrides", "withOverrides: pass an OverrideSet or a string like 'pricing=v2,cart=pr-7'");
  }
  return context.with(setOverrides(context.active(), set), fn);
}

/**
 * The headers that carry the current override, for a client no instrumentation covers (a raw
 * socket protocol, a message header, a hand-built request): `{ "x-detour": ..., baggage: "detour=..." }`,
 * plus `x-detour-token` when the request arrived with a signed override token, or `{}` when there
 * is none. Only detour's own member is in `baggage`; if the request already has a baggage header,
 * merge with writeCarriers from @detour/core instead of overwriting it.
 */
export function overrideHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  const set = getOverrides(ctx);
  if (!set.isEmpty) {
    const text = set.toString();
    headers[DETOUR_HEADER] = text;
    headers[BAGGAGE_HEADER] = `${BAGGAGE_MEMBER}=${encodeBaggageValue(text)}`;
  }
  const token = getOverrideToken(ctx);
  if (token !== undefined) headers[TOKEN_HEADER] = token;
  return headers;
}
