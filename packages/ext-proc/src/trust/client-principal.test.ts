import { describe, expect, it } from "vitest";
import { clientPrincipals, principalsFromXfcc } from "./client-principal.js";

describe("client principals", () => {
  it("reads URI and DNS SANs of the element Envoy added (the last)", () => {
    expect(principalsFromXfcc('By=spiffe://corp/edge;Hash=abc;Subject="CN=ci,O=Corp";URI=spiffe://corp/ci;DNS=ci.corp.internal')).toEqual([
      "spiffe://corp/ci",
      "ci.corp.internal",
    ]);
    expect(principalsFromXfcc("URI=spiffe://corp/attacker,By=x;URI=spiffe://corp/ci")).toEqual(["spiffe://corp/ci"]);
    expect(principalsFromXfcc('Hash=abc;Subject="URI=spiffe://corp/ci"')).toEqual([]);
  });

  it("yields nothing for a missing or repeated header", () => {
    expect(clientPrincipals([], "x-forwarded-client-cert")).toEqual([]);
    expect(
      clientPrincipals(
        [
          ["x-forwarded-client-cert", "URI=spiffe://corp/ci"],
          ["x-forwarded-client-cert", "URI=spiffe://corp/ci"],
        ],
        "x-forwarded-client-cert",
      ),
    ).toEqual([]);
    expect(clientPrincipals([["x-client-id", " ci-runner "]], "x-client-id")).toEqual(["ci-runner"]);
  });
});
