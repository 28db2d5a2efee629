import { describe, expect, it } from "vitest";
import { formatHostPort, parseHostPort, splitHostPort } from "./host-port.js";

describe("splitHostPort", () => {
  it.each([
    ["pricing", "pricing", undefined],
    ["pricing:8080", "pricing", "8080"],
    ["pricing.shop.svc.cluster.local.:80", "pricing.shop.svc.cluster.local.", "80"],
    ["[::1]:50051", "::1", "50051"],
    ["[::1]", "::1", undefined],
    ["::1", "::1", undefined],
    ["::ffff:10.0.0.1", "::ffff:10.0.0.1", undefined],
    ["10.0.0.1:5123", "10.0.0.1", "5123"],
    ["[::1", "[::1", undefined],
    ["", "", undefined],
  ])("%j -> host %j, port %j", (text, host, port) => {
    expect(splitHostPort(text)).toEqual({ host, port });
  });
});

describe("parseHostPort", () => {
  it("reads host:port and [v6]:port, port 0 included", () => {
    expect(parseHostPort("127.0.0.1:50051")).toEqual({ host: "127.0.0.1", port: 50051 });
    expect(parseHostPort("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(parseHostPort("pricing-v2:9101")).toEqual({ host: "pricing-v2", port: 9101 });
  });

  it.each(["nope", "127.0.0.1", ":80", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:99999", "::1:80", "host:8o", "a b:80", "[::1]"])("refuses %j", (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });

  it("round-trips through formatHostPort", () => {
    for (const text of ["127.0.0.1:50051", "[::1]:9464", "edge:10000"]) {
      const parsed = parseHostPort(text)!;
      expect(formatHostPort(parsed.host, parsed.port)).toBe(text);
    }
  });
});
