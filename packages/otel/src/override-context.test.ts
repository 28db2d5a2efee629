import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DetourError, OverrideSet } from "@detour/core";
import { getOverrides, overrideHeaders, setOverrides, withOverrides } from "./override-context.js";
import { setOverrideToken } from "./override-token.js";

const manager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
});
afterAll(() => {
  context.disable();
});

const pricingV2 = OverrideSet.fromEntries([["pricing", "v2"]]);

describe("getOverrides / setOverrides", () => {
  test("the empty set when the context has none", () => {
    expect(getOverrides(ROOT_CONTEXT)).toBe(OverrideSet.EMPTY);
  });

  test("returns the stored set itself (no parsing) while the baggage entry is unchanged", () => {
    const ctx = setOverrides(ROOT_CONTEXT, pricingV2);
    expect(getOverrides(ctx)).toBe(pricingV2);
    expect(propagation.getBaggage(ctx)?.getEntry("detour")?.value).toBe("pricing=v2");
  });

  test("follows the baggage entry when other code changes it through the baggage API", () => {
    const ctx = setOverrides(ROOT_CONTEXT, pricingV2);
    const changed = propagation.setBaggage(ctx, propagation.getBaggage(ctx)!.setEntry("detour", { value: "cart=pr-7" }));
    expect(getOverrides(changed).toString()).toBe("cart=pr-7");
    const removed = propagation.setBaggage(ctx, propagation.getBaggage(ctx)!.removeEntry("detour"));
    expect(getOverrides(removed).isEmpty).toBe(true);
  });

  test("reads an entry W3CBaggagePropagator put there alone, dropping invalid entries", () => {
    const ctx = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ detour: { value: "pricing=v2,bad" } }));
    expect(getOverrides(ctx).toString()).toBe("pricing=v2");
  });

  test("the empty set removes the entry and keeps other baggage", () => {
    const withUser = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ user: { value: "1" } }));
    const cleared = setOverrides(setOverrides(withUser, pricingV2), OverrideSet.EMPTY);
    expect(getOverrides(cleared).isEmpty).toBe(true);
    expect(propagation.getBaggage(cleared)?.getAllEntries()).toEqual([["user", { value: "1" }]]);
    expect(propagation.getBaggage(setOverrides(setOverrides(ROOT_CONTEXT, pricingV2), OverrideSet.EMPTY))).toBeUndefined();
  });
});

describe("withOverrides", () => {
  test("is active inside fn, across awaits and timers, and not outside", async () => {
    const seen = await withOverrides("pricing=v2", async () => {
      const first = getOverrides().toString();
      await new Promise((resolve) => setTimeout(resolve, 1));
      return [first, getOverrides().toString()];
    });
    expect(seen).toEqual(["pricing=v2", "pricing=v2"]);
    expect(getOverrides().isEmpty).toBe(true);
  });

  test("nests: the inner set replaces the outer one, the empty set clears it", () => {
    withOverrides(pricingV2, () => {
      expect(withOverrides("cart=pr-7", () => getOverrides().toString())).toBe("cart=pr-7");
      expect(withOverrides(OverrideSet.EMPTY, () => getOverrides().isEmpty)).toBe(true);
      expect(getOverrides()).toBe(pricingV2);
    });
  });

  test("an invalid string throws DetourError (it is code, not request data)", () => {
    expect(() => withOverrides("pricing", () => 1)).toThrow(DetourError);
  });
});

test("overrideHeaders gives x-detour and the baggage member, or nothing", () => {
  expect(overrideHeaders()).toEqual({});
  withOverrides("pricing=v2,*=sbx", () => {
    expect(overrideHeaders()).toEqual({ "x-detour": "pricing=v2,*=sbx", baggage: "detour=pricing%3Dv2%2C*%3Dsbx" });
  });
});

test("overrideHeaders adds the x-detour-token the context carries", () => {
  const ctx = setOverrideToken(setOverrides(context.active(), OverrideSet.fromEntries([["pricing", "v2"]])), "a.b.c");
  expect(overrideHeaders(ctx)).toEqual({ "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2", "x-detour-token": "a.b.c" });
  expect(overrideHeaders(setOverrideToken(context.active(), "a.b.c"))).toEqual({ "x-detour-token": "a.b.c" });
});
