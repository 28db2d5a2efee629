import type { EventEmitter } from "node:events";
import { context, type Context } from "@opentelemetry/api";

/*
 * Binds an EventEmitter's future listeners to a context: a listener added to a request's `req` or
 * `res` (a `data` handler, a `close` handler) runs in the request's context, not in the one the
 * emitter fires from (the connection's). OpenTelemetry's context managers do this with
 * `context.bind(ctx, emitter)`, which sets eight methods and a listener map on the emitter itself.
 *
 * Express gives every `req` and `res` a new prototype (`Object.setPrototypeOf(req, app.request)`),
 * and V8 then makes each property added to that object afterwards a slow, map-creating store: on a
 * hello-world route, OpenTelemetry's binding of `req` and `res` took more CPU than everything else
 * the request did. So this adds no property to the emitter when its prototype is such a per-app
 * object: it defines the listener methods once on that prototype (Express documents `app.request`
 * and `app.response` as the place to extend) and keeps each emitter's context in a WeakMap.
 * Emitters whose prototype is a class's own (plain `node:http`, Fastify's `request.raw`) get the
 * methods on the instance, which is cheap there, so no class prototype is ever changed.
 *
 * Each listener is wrapped once, and the wrapper's `listener` property points at the original,
 * which is how Node's own `once` wrappers let `removeListener(type, original)`, `listeners()` and
 * `newListener` see through them: removal needs no patching.
 */

type Listener = (...args: unknown[]) => unknown;
type AddListener = (this: EventEmitter, type: string | symbol, listener: Listener) => EventEmitter;

/** The context an emitter's listeners run in, and the add methods in place before binding. */
interface Binding {
  readonly ctx: Context;
  readonly on: AddListener;
  readonly prependListener: AddListener;
}

/** What a patched prototype gives emitters that are not bound: the methods it had before. */
interface Unbound {
  readonly ctx?: undefined;
  readonly on: AddListener;
  readonly prependListener: AddListener;
}

const bindings = new WeakMap<EventEmitter, Binding>();
/** Per-app prototypes that have the binding-aware methods. */
const patchedPrototypes = new WeakMap<object, Unbound>();

/** `listener` run in `ctx`; anything but a function is passed on for the emitter to reject. */
function inContext(ctx: Context, listener: Listener): Listener {
  if (typeof listener !== "function") return listener;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return context.with(ctx, () => listener.apply(this, args));
  };
  (wrapper as Listener & { listener: Listener }).listener = listener;
  return wrapper;
}

/** Like Node's once wrapper, removing itself by identity, and running in `ctx` when there is one. */
function onceInContext(emitter: EventEmitter, type: string | symbol, ctx: Context | undefined, listener: Listener): Listener {
  if (typeof listener !== "function") return listener;
  let fired = false;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    if (fired) return undefined;
    fired = true;
    emitter.removeListener(type, wrapper);
    return ctx === undefined ? listener.apply(this, args) : context.with(ctx, () => listener.apply(this, args));
  };
  (wrapper as Listener & { listener: Listener }).listener = listener;
  return wrapper;
}

/** What an emitter's listener methods do: its binding, or for an unbound one the methods it had. */
function bindingOf(emitter: EventEmitter): Binding | Unbound {
  const binding = bindings.get(emitter);
  if (binding !== undefined) return binding;
  // An unbound emitter reaching these methods inherits them from a patched prototype.
  for (let proto = Object.getPrototypeOf(emitter) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const previous = patchedPrototypes.get(proto);
    if (previous !== undefined) return previous;
  }
  throw new TypeError("detour: listener method called on an object that is not an EventEmitter");
}

/*
 * The listener methods of a bound emitter. On a patched prototype they also serve the unbound
 * emitters that inherit them (the same app's requests before the glue ran, or without it), which
 * get the previous methods unchanged.
 */

function on(this: EventEmitter, type: string | symbol, listener: Listener): EventEmitter {
  const binding = bindingOf(this);
  return binding.on.call(this, type, binding.ctx === undefined ? listener : inContext(binding.ctx, listener));
}

function prependListener(this: EventEmitter, type: string | symbol, listener: Listener): EventEmitter {
  const binding = bindingOf(this);
  return binding.prependListener.call(this, type, binding.ctx === undefined ? listener : inContext(binding.ctx, listener));
}

function once(this: EventEmitter, type: string | symbol, listener: Listener): EventEmitter {
  const binding = bindingOf(this);
  return binding.on.call(this, type, onceInContext(this, type, binding.ctx, listener));
}

function prependOnceListener(this: EventEmitter, type: string | symbol, listener: Listener): EventEmitter {
  const binding = bindingOf(this);
  return binding.prependListener.call(this, type, onceInContext(this, type, binding.ctx, listener));
}

const METHODS = { on, addListener: on, prependListener, once, prependOnceListener } as const;

/** Whether `proto` is a class's own prototype (IncomingMessage.prototype, EventEmitter.prototype...). */
function isClassPrototype(proto: object | null): boolean {
  if (proto === null || !Object.hasOwn(proto, "constructor")) return false;
  const ctor: unknown = (proto as { constructor: unknown }).constructor;
  return typeof ctor === "function" && (ctor as { prototype?: unknown }).prototype === proto;
}

function patchPrototype(proto: object & Partial<Record<keyof typeof METHODS, unknown>>): void {
  if (patchedPrototypes.has(proto)) return;
  // The methods the prototype chain gave before, which unbound emitters keep getting.
  patchedPrototypes.set(proto, { on: proto.on as AddListener, prependListener: proto.prependListener as AddListener });
  for (const [name, method] of Object.entries(METHODS)) {
    Object.defineProperty(proto, name, { value: method, writable: true, configurable: true, enumerable: false });
  }
}

/**
 * Makes every listener added to `emitter` from now on run in `ctx`. Listeners added before keep
 * running where they did. Binding an emitter a second time only changes the context. An emitter an
 * OpenTelemetry context manager has bound already (instrumentation-http binds `req` and `res`; it
 * patches `removeListener` on the instance, which this never does) is left to it: stacking both
 * would hide listeners from its `removeListener`.
 */
export function bindEmitter(ctx: Context, emitter: EventEmitter): void {
  if (Object.hasOwn(emitter, "removeListener")) {
    context.bind(ctx, emitter);
    return;
  }
  const current = bindings.get(emitter);
  if (current !== undefined) {
    bindings.set(emitter, { ...current, ctx });
    return;
  }
  const proto = Object.getPrototypeOf(emitter) as object | null;
  if (proto !== null && !isClassPrototype(proto)) {
    patchPrototype(proto);
    const previous = patchedPrototypes.get(proto) as Unbound;
    bindings.set(emitter, { ctx, on: previous.on, prependListener: previous.prependListener });
    return;
  }
  bindings.set(emitter, { ctx, on: emitter.on as AddListener, prependListener: emitter.prependListener as AddListener });
  Object.assign(emitter, METHODS);
}
