import { EventEmitter } from "node:events";
import { context, createContextKey, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bindEmitter } from "./bind-emitter.js";

const KEY = createContextKey("test.request");
const request = (id: string): Context => ROOT_CONTEXT.setValue(KEY, id);
const active = (): unknown => context.active().getValue(KEY);

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});

/**
 * Both kinds of emitter the glue binds: a class instance (plain node:http's req/res) and one whose
 * prototype was swapped for a per-app object, as Express does with every req and res.
 */
const appPrototype = Object.create(EventEmitter.prototype) as EventEmitter;
const KINDS = [
  ["class instance", () => new EventEmitter()],
  ["per-app prototype (Express)", () => Object.setPrototypeOf(new EventEmitter(), appPrototype) as EventEmitter],
] as const;

/** Emits from a foreign context, as a socket's callback would. */
function emitElsewhere(emitter: EventEmitter, type: string, ...args: unknown[]): void {
  context.with(request("connection"), () => emitter.emit(type, ...args));
}

describe.each(KINDS)("%s", (_kind, make) => {
  describe("listeners added after binding run in the bound context", () => {
    test.each(["on", "addListener", "prependListener", "once", "prependOnceListener"] as const)("%s", (method) => {
      const emitter = make();
      bindEmitter(request("r1"), emitter);
      const seen: unknown[] = [];
      emitter[method]("data", function (this: unknown, chunk: unknown) {
        seen.push([active(), this === emitter, chunk]);
      });
      emitElsewhere(emitter, "data", "a");
      emitElsewhere(emitter, "data", "b");
      const expected = [["r1", true, "a"]];
      if (!method.includes("nce")) expected.push(["r1", true, "b"]);
      expect(seen).toEqual(expected);
    });

    test("a listener added before binding keeps running where the emit happens", () => {
      const emitter = make();
      const seen: unknown[] = [];
      emitter.on("x", () => seen.push(active()));
      bindEmitter(request("r1"), emitter);
      emitElsewhere(emitter, "x");
      expect(seen).toEqual(["connection"]);
    });

    test("binding again changes the context for later listeners", () => {
      const emitter = make();
      bindEmitter(request("r1"), emitter);
      bindEmitter(request("r2"), emitter);
      const seen: unknown[] = [];
      emitter.on("x", () => seen.push(active()));
      emitElsewhere(emitter, "x");
      expect(seen).toEqual(["r2"]);
    });
  });

  describe("the original listener stays visible", () => {
    test("removeListener/off with the original removes it, for on and once", () => {
      const emitter = make();
      bindEmitter(request("r1"), emitter);
      const calls: string[] = [];
      const a = () => calls.push("a");
      const b = () => calls.push("b");
      emitter.on("x", a);
      emitter.once("x", b);
      expect(emitter.listeners("x")).toEqual([a, b]);
      expect(emitter.listenerCount("x")).toBe(2);
      emitter.off("x", a);
      emitter.removeListener("x", b);
      emitElsewhere(emitter, "x");
      expect(calls).toEqual([]);
      expect(emitter.listenerCount("x")).toBe(0);
    });

    test("newListener sees the original; a once listener is gone after it fired", () => {
      const emitter = make();
      const added: unknown[] = [];
      emitter.on("newListener", (_type, listener) => added.push(listener));
      bindEmitter(request("r1"), emitter);
      const listener = () => {};
      emitter.once("x", listener);
      expect(added).toEqual([listener]);
      emitElsewhere(emitter, "x");
      expect(emitter.listenerCount("x")).toBe(0);
    });

    test("a non-function listener gets Node's own error", () => {
      const emitter = make();
      bindEmitter(request("r1"), emitter);
      expect(() => emitter.on("x", "nope" as unknown as () => void)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(() => emitter.once("x", 1 as unknown as () => void)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
    });
  });

});

test("a per-app prototype gets the methods once; its emitters get no property, unbound ones behave as before", () => {
  const bound = Object.setPrototypeOf(new EventEmitter(), appPrototype) as EventEmitter;
  const unbound = Object.setPrototypeOf(new EventEmitter(), appPrototype) as EventEmitter;
  const own = Object.getOwnPropertyNames(bound);
  bindEmitter(request("r1"), bound);
  expect(Object.getOwnPropertyNames(bound)).toEqual(own);
  expect(Object.hasOwn(appPrototype, "on")).toBe(true);
  const seen: unknown[] = [];
  const listener = () => seen.push(active());
  unbound.on("x", listener);
  unbound.once("y", listener);
  emitElsewhere(unbound, "x");
  emitElsewhere(unbound, "y");
  emitElsewhere(unbound, "y");
  unbound.off("x", listener);
  emitElsewhere(unbound, "x");
  expect(seen).toEqual(["connection", "connection"]);
  expect(Object.hasOwn(EventEmitter.prototype, "on") && EventEmitter.prototype.on === EventEmitter.prototype.addListener).toBe(true);
});

test("an emitter OpenTelemetry's context manager bound already is left to it", () => {
  const emitter = new EventEmitter();
  context.bind(request("instrumentation"), emitter);
  bindEmitter(request("glue"), emitter);
  const seen: unknown[] = [];
  const listener = () => seen.push(active());
  emitter.on("x", listener);
  emitElsewhere(emitter, "x");
  emitter.removeListener("x", listener);
  emitElsewhere(emitter, "x");
  expect(seen).toEqual(["instrumentation"]);
});
