import { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { context, createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { bindEmitter } from "./bind-emitter.js";

const KEY = createContextKey("test.bind-emitter");
const manager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
});
afterAll(() => {
  manager.disable();
  context.disable();
});

describe("bindEmitter", () => {
  const ctx = ROOT_CONTEXT.setValue(KEY, "request");
  const seen = (): unknown => context.active().getValue(KEY);

  it("runs on/once/prepend listeners in the bound context, whatever context emits", () => {
    const ee = new EventEmitter();
    bindEmitter(ctx, ee);
    const calls: unknown[] = [];
    ee.on("x", () => calls.push(["on", seen()]));
    ee.once("x", () => calls.push(["once", seen()]));
    ee.prependListener("x", () => calls.push(["prepend", seen()]));
    context.with(ROOT_CONTEXT.setValue(KEY, "other"), () => ee.emit("x"));
    ee.emit("x");
    expect(calls).toEqual([
      ["prepend", "request"],
      ["on", "request"],
      ["once", "request"],
      ["prepend", "request"],
      ["on", "request"],
    ]);
  });

  it("removes a listener, a once listener included, by the function that was added", () => {
    const ee = new EventEmitter();
    bindEmitter(ctx, ee);
    const listener = (): void => {};
    ee.on("x", listener);
    ee.once("y", listener);
    ee.removeListener("x", listener);
    ee.off("y", listener);
    expect(ee.listenerCount("x") + ee.listenerCount("y")).toBe(0);
  });

  it("keeps the first binding, and one made by context.bind", () => {
    const first = new EventEmitter();
    bindEmitter(ctx, first);
    bindEmitter(ROOT_CONTEXT, first);
    const viaOtel = new EventEmitter();
    context.bind(ctx, viaOtel);
    bindEmitter(ROOT_CONTEXT, viaOtel);
    const calls: unknown[] = [];
    first.on("x", () => calls.push(seen()));
    viaOtel.on("x", () => calls.push(seen()));
    first.emit("x");
    viaOtel.emit("x");
    expect(calls).toEqual(["request", "request"]);
  });
});
