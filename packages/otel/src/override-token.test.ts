import { ROOT_CONTEXT } from "@opentelemetry/api";
import { expect, test } from "vitest";
import { MAX_TOKEN_BYTES } from "@detour/core";
import { getOverrideToken, setOverrideToken, tokenFromHeader } from "./override-token.js";

test.each([
  ["a JWS", "aGVhZA.Ym9keQ.c2ln", "aGVhZA.Ym9keQ.c2ln"],
  ["surrounding spaces", "  a.b.c ", "a.b.c"],
  ["the first of repeated lines", ["a.b.c", "d.e.f"], "a.b.c"],
  ["the first of a comma-joined line", "a.b.c, d.e.f", "a.b.c"],
  ["exactly the limit", "t".repeat(MAX_TOKEN_BYTES), "t".repeat(MAX_TOKEN_BYTES)],
  ["over the limit", "t".repeat(MAX_TOKEN_BYTES + 1), undefined],
  ["absent", undefined, undefined],
  ["no lines", [], undefined],
  ["empty", "", undefined],
  ["an empty first value", ", a.b.c", undefined],
  ["an inner space", "a.b c", undefined],
  ["a control character", "a.b\u0000c", undefined],
  ["CR LF (header injection)", "a.b.c\r\nx-detour: pricing=evil", undefined],
  ["non-ASCII", "a.b.cé", undefined],
])("tokenFromHeader: %s", (_name, value, expected) => {
  expect(tokenFromHeader(value as string | string[] | undefined)).toBe(expected);
});

test("setOverrideToken sets, and undefined removes", () => {
  const ctx = setOverrideToken(ROOT_CONTEXT, "a.b.c");
  expect(getOverrideToken(ctx)).toBe("a.b.c");
  expect(getOverrideToken(setOverrideToken(ctx, undefined))).toBeUndefined();
  expect(setOverrideToken(ROOT_CONTEXT, undefined)).toBe(ROOT_CONTEXT);
});
