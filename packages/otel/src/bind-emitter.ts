import { EventEmitter } from "node:events";
import { context, type Context } from "@opentelemetry/api";
import { propagationStatus } from "./propagation-status.js";

/*
 * What `context.bind(ctx, emitter)` of OpenTelemetry's AsyncLocalStorage context manager does
 * (listeners added later run in `ctx`, removing the original listener removes its wrapper), for
 * the two emitters of every request (req, res). OpenTelemetry's version allocates a closure per
 * patched method and a listener map per emitter on each bind; this one installs shared functions
 * that find the context on the emitter, which makes binding about 10x cheaper.
 */

type Listener = (...args: unknown[]) => unknown;
type AddMethod = "on" | "addListener" | "prependListener" | "once" | "prependOnceListener";
type RemoveMethod = "removeListener" | "off";

const kContext = Symbol("detour.emitter-context");
const kWrappers = Symbol("detour.emitter-wrappers");

interface BoundEmitter extends EventEmitter {
  [kContext]?: Context;
  /** event -> original listener -> the wrapper that was registered. */
  [kWrappers]?: Map<string | symbol, WeakMap<Listener, Listener>>;
}

const ADD_METHODS: readonly AddMethod[] = ["on", "addListener", "prependListener", "once", "prependOnceListener"];
const REMOVE_METHODS: readonly RemoveMethod[] = ["removeListener", "off"];

/** The class's own method (streams override `on`), skipping the instance's patched property. */
function inherited<M extends AddMethod | RemoveMethod>(ee: EventEmitter, method: M): EventEmitter[M] {
  return (Object.getPrototypeOf(ee) as EventEmitter)[method];
}

/**
 * `once` calls `this.on` with its own wrapper: while one of ours is adding, the nested call must
 * pass through (as OpenTelemetry's `_wrapped` flag does), or the listener would be wrapped twice
 * and `removeListener(original)` would miss it.
 */
let adding = false;

function patchedAdd(method: AddMethod): Listener {
  return function (this: BoundEmitter, event: unknown, listener: unknown): unknown {
    const add = inherited(this, method) as Listener;
    const ctx = this[kContext];
    if (adding || ctx === undefined || typeof listener !== "function") return add.call(this, event, listener);
    const original = listener as Listener;
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      return context.with(ctx, original, this, ...args);
    };
    const name = event as string | symbol;
    const wrappers = (this[kWrappers] ??= new Map());
    let byListener = wrappers.get(name);
    if (byListener === undefined) wrappers.set(name, (byListener = new WeakMap()));
    byListener.set(original, wrapper);
    adding = true;
    try {
      return add.call(this, event, wrapper);
    } finally {
      adding = false;
    }
  };
}

function patchedRemove(method: RemoveMethod): Listener {
  return function (this: BoundEmitter, event: unknown, listener: unknown): unknown {
    const wrapper = typeof listener === "function" ? this[kWrappers]?.get(event as string | symbol)?.get(listener as Listener) : undefined;
    return (inherited(this, method) as Listener).call(this, event, wrapper ?? listener);
  };
}

const PATCHES: readonly (readonly [AddMethod | RemoveMethod, Listener])[] = [
  ...ADD_METHODS.map((m) => [m, patchedAdd(m)] as const),
  ...REMOVE_METHODS.map((m) => [m, patchedRemove(m)] as const),
];

/**
 * Makes listeners added to `ee` from now on run in `ctx`, whatever context emits the event.
 * The first binding of an emitter wins, as with `context.bind`; an emitter someone else already
 * patched (instrumentation-http binds req/res to the context it extracted) is left to
 * `context.bind`, which keeps their binding. Nothing to do without a context manager.
 */
export function bindEmitter(ctx: Context, ee: EventEmitter): void {
  const bound = ee as BoundEmitter;
  if (bound[kContext] !== undefined) return;
  if (Object.hasOwn(ee, "on") || !(ee instanceof EventEmitter)) {
    context.bind(ctx, ee);
    return;
  }
  if (!propagationStatus().contextManager) return;
  bound[kContext] = ctx;
  for (const [method, fn] of PATCHES) (ee as unknown as Record<string, Listener>)[method] = fn;
}
