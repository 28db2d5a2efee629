import { describe, expect, it } from "vitest";
import type { HeaderPair } from "../header-pair.js";
import { locateToken } from "./token-location.js";

const T1 = "eyJhbGciOiJFZERTQSJ9.eyJvdnIiOiJhPWIifQ.c2ln";
const T2 = "eyJhbGciOiJFZERTQSJ9.eyJvdnIiOiJhPWMifQ.c2ln";
const all = { cookie: true, queryParameter: "detour_token" };

function locate(headers: HeaderPair[], options = all) {
  return locateToken(headers, options);
}

describe("locateToken", () => {
  it("finds the token in the header, a cookie among others, or the opted-in query parameter", () => {
    expect(locate([["x-detour-token", T1]])).toEqual({ kind: "found", token: T1, source: "header" });
    expect(locate([["cookie", `theme=dark; detour_token=${T1}; session="abc;def"`]])).toEqual({ kind: "found", token: T1, source: "cookie" });
    expect(locate([["cookie", `a=1`], ["cookie", `detour_token="${T1}"`]])).toEqual({ kind: "found", token: T1, source: "cookie" });
    expect(locate([[":path", `/shop?x=1&detour_token=${T1}#top`]])).toEqual({ kind: "found", token: T1, source: "query" });
    expect(locate([[":path", `/shop?detour%5Ftoken=${T1}`]])).toEqual({ kind: "found", token: T1, source: "query" });
  });

  it("ignores cookies and query unless enabled, and look-alike names", () => {
    expect(locate([["cookie", `detour_token=${T1}`]], { cookie: false, queryParameter: undefined as never })).toEqual({ kind: "absent" });
    expect(locate([[":path", `/?detour_token=${T1}`]], { cookie: true } as never)).toEqual({ kind: "absent" });
    expect(locate([["cookie", `xdetour_token=${T1}; detour_token_old=${T2}`]])).toEqual({ kind: "absent" });
    expect(locate([["x-detour-token", " "], ["cookie", "detour_token="]])).toEqual({ kind: "absent" });
  });

  it("rejects two distinct tokens however they arrive, accepts the same one twice", () => {
    const duplicate = { kind: "rejected", reason: "duplicate" };
    expect(locate([["x-detour-token", T1], ["x-detour-token", T2]])).toMatchObject(duplicate);
    expect(locate([["x-detour-token", `${T1}, ${T2}`]])).toMatchObject(duplicate);
    expect(locate([["x-detour-token", T1], ["cookie", `detour_token=${T2}`]])).toMatchObject(duplicate);
    expect(locate([["cookie", `detour_token=${T1}; detour_token=${T2}`]])).toMatchObject(duplicate);
    expect(locate([["x-detour-token", T1], [":path", `/?detour_token=${T2}`]])).toMatchObject(duplicate);
    expect(locate([["x-detour-token", T1], ["cookie", `detour_token=${T1}`]])).toEqual({ kind: "found", token: T1, source: "header" });
  });

  it("refuses an oversized token before parsing it", () => {
    expect(locate([["x-detour-token", "a".repeat(4097)]])).toEqual({ kind: "rejected", reason: "oversized", source: "header" });
  });
});
