import type { EventEmitter } from "node:events";
import { context, type Context } from "@opentelemetry/api";

/*
 * Binds an EventEmitter's future listeners to a context: a listener added to a request's `req` or
 * `res` (a `data` handler, a `close` handler) runs in the request's context, not in the one the
 * emitter fires from (the connection's). OpenTelemetry's context managers do this with
 * `context.bind(ctx, emitter)`, which sets eight methods and a listener map on the emitter itself.
 *
 * Express gives every `req` and `res` a new prototype (`Object.setPrototypeOf(req, app.request)`);
 * OpenTelemetry's binding of such an object (eight method-valued own properties per request) took
 * more CPU on a hello-world route than everything else the request did. So when an emitter's
 * prototype is such a per-app object, this defines the listener methods once on that prototype
 * (Express documents `app.request` and `app.response` as the place to extend). Emitters whose
 * prototype is a class's own (plain `node:http`, Fastify's `request.raw`) get the methods on the
 * instance, so no class prototype is ever changed. Either way the emitter's binding is one
 * symbol-keyed own property: a WeakMap entry per request costs several times more, mostly in
 * the young-generation GC, which must trace ephemeron entries whose keys die young.
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

/** The own property holding a bound emitter's Binding. */
const BINDING: unique symbol = Symbol("detour.emitterBinding");

type BindableEmitter = EventEmitter & { [BINDING]?: Binding };

/** Per-app prototypes that have the binding-aware methods. */
const patchedPrototypes = new WeakMap<object, Unbound>();

/** `listener` run in `ctx`; anything but a function is passed on for the emitter to reject. */
function inContext(ctx: Context, listener: Listener): Listener {
  if (typeof listener !== "function") return listener;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return context.with(ctx, listener, this, ...args);
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
    return ctx === undefined ? listener.apply(this, args) : context.with(ctx, listener, this, ...args);
  };
  (wrapper as Listener & { listener: Listener }).listener = listener;
  return wrapper;
}

/** What an emitter's listener methods do: its binding, or for an unbound one the methods it had. */
function bindingOf(emitter: EventEmitter): Binding | Unbound {
  const binding = (emitter as BindableEmitter)[BINDING];
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

/** Gives a per-app prototype the binding-aware methods; returns the methods it had before. */
function patchPrototype(proto: object & Partial<Record<keyof typeof METHODS, unknown>>): Unbound {
  // The methods the prototype chain gave before, which unbound emitters keep getting.
  const previous: Unbound = { on: proto.on as AddListener, prependListener: proto.prependListener as AddListener };
  patchedPrototypes.set(proto, previous);
  for (const [name, method] of Object.entries(METHODS)) {
    Object.defineProperty(proto, name, { value: method, writable: true, configurable: true, enumerable: false });
  }
  return previous;
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
  const bindable = emitter as BindableEmitter;
  const current = Object.hasOwn(bindable, BINDING) ? bindable[BINDING] : undefined;
  if (current !== undefined) {
    bindable[BINDING] = { ...current, ctx };
    return;
  }
  const proto = Object.getPrototypeOf(emitter) as object | null;
  const previous = proto === null ? undefined : (patchedPrototypes.get(proto) ?? (isClassPrototype(proto) ? undefined : patchPrototype(proto)));
  if (previous !== undefined) {
    bindable[BINDING] = { ctx, on: previous.on, prependListener: previous.prependListener };
    return;
  }
  bindable[BINDING] = { ctx, on: emitter.on as AddListener, prependListener: emitter.prependListener as AddListener };
  Object.assign(emitter, METHODS);
}
