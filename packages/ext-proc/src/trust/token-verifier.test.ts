import { createSecretKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS } from "@detour/core";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { allowListFromConfig } from "./allow-list.js";
import { keyRingFromConfig, keyRingFromFile, keyRingOf, type VerificationKey } from "./key-ring.js";
import { createTokenVerifier, type TokenCheck, type TokenVerifierOptions } from "./token-verifier.js";

const NOW = 1_750_000_000;
const ed = generateKeyPairSync("ed25519");
const edOther = generateKeyPairSync("ed25519");
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const secret = createSecretKey(Buffer.from("a-shared-secret-of-at-least-32-bytes!!"));

const keys: VerificationKey[] = [
  { kid: "ed-1", algorithms: ["EdDSA", "Ed25519"], key: ed.publicKey, allow: undefined, origin: "test" },
  { kid: "ec-1", algorithms: ["ES256"], key: ec.publicKey, allow: undefined, origin: "test" },
  { kid: "hs-1", algorithms: ["HS256"], key: secret, allow: undefined, origin: "test" },
  { kid: "team", algorithms: ["EdDSA", "Ed25519"], key: edOther.publicKey, allow: allowListFromConfig({ pricing: ["pr-*"] }), origin: "test" },
];

function verifier(options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier(keyRingOf(keys), { clockToleranceSeconds: 30, maxLifetimeSeconds: 86_400, limits: DEFAULT_LIMITS, now: () => NOW * 1000, ...options });
}

async function sign(claims: JWTPayload, header: { alg: string; kid?: string }, key: KeyObject = ed.privateKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

const good = { ovr: "pricing=v2", iat: NOW, exp: NOW + 3600 };

async function reason(token: string, options?: Partial<TokenVerifierOptions>): Promise<string> {
  const check: TokenCheck = await verifier(options).check(token);
  return check.status === "valid" ? `valid ${check.token.set.toString()}` : check.reason;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("createTokenVerifier", () => {
  it("accepts EdDSA, ES256 and HS256 tokens with their own keys", async () => {
    expect(await reason(await sign(good, { alg: "EdDSA", kid: "ed-1" }))).toBe("valid pricing=v2");
    expect(await reason(await sign(good, { alg: "ES256", kid: "ec-1" }, ec.privateKey))).toBe("valid pricing=v2");
    expect(await reason(await sign(good, { alg: "HS256", kid: "hs-1" }, secret))).toBe("valid pricing=v2");
    // No kid: every key of the algorithm is tried.
    expect(await reason(await sign(good, { alg: "EdDSA" }))).toBe("valid pricing=v2");
  });

  it("refuses forged, foreign and confused tokens", async () => {
    const token = await sign(good, { alg: "EdDSA", kid: "ed-1" });
    const [header, , signature] = token.split(".");
    expect(await reason(`${header}.${b64({ ...good, ovr: "payments=evil" })}.${signature}`)).toBe("bad-signature");
    expect(await reason(await sign(good, { alg: "EdDSA", kid: "ed-1" }, edOther.privateKey))).toBe("bad-signature");
    expect(await reason(`${b64({ alg: "none" })}.${b64(good)}.`)).toBe("alg-not-allowed");
    expect(await reason(`${b64({ alg: "none", kid: "ed-1" })}.${b64(good)}.AAAA`)).toBe("alg-not-allowed");
    expect(await reason(await sign(good, { alg: "RS256", kid: "ed-1" }, secret).catch(() => `${b64({ alg: "RS256" })}.${b64(good)}.AAAA`))).toBe("alg-not-allowed");
    // HS256 "signed" with the Ed25519 public key's bytes, naming the Ed25519 key.
    const confused = createSecretKey(ed.publicKey.export({ format: "der", type: "spki" }));
    expect(await reason(await sign(good, { alg: "HS256", kid: "ed-1" }, confused))).toBe("alg-not-allowed");
    expect(await reason(await sign(good, { alg: "EdDSA", kid: "nobody" }))).toBe("unknown-key");
  });

  it("refuses what is not a token", async () => {
    for (const text of ["garbage", "a.b", "a.b.c.d", `${b64({ alg: "EdDSA" })}.@@@.xyz`, `${b64([1])}.${b64(good)}.AAAA`, "x".repeat(5000)]) {
      expect(await reason(text), text.slice(0, 20)).toMatch(/^(malformed|oversized)$/);
    }
    expect(await reason("x".repeat(5000))).toBe("oversized");
  });

  it("checks time claims with the clock tolerance", async () => {
    const at = (claims: JWTPayload) => sign({ ovr: "pricing=v2", ...claims }, { alg: "EdDSA", kid: "ed-1" });
    expect(await reason(await at({ exp: NOW - 31 }))).toBe("expired");
    expect(await reason(await at({ exp: NOW - 10 }))).toBe("valid pricing=v2");
    expect(await reason(await at({ iat: NOW }))).toBe("missing-exp");
    expect(await reason(await at({ exp: NOW + 600, nbf: NOW + 120 }))).toBe("not-yet-valid");
    expect(await reason(await at({ exp: NOW + 600, nbf: NOW + 20 }))).toBe("valid pricing=v2");
    expect(await reason(await at({ exp: NOW + 600, iat: NOW + 300 }))).toBe("not-yet-valid");
    expect(await reason(await at({ exp: NOW + 2 * 86_400 }))).toBe("lifetime-too-long");
    // A non-numeric exp is what a hostile or buggy signer sends; the type system would forbid it.
    expect(await reason(await at({ exp: "tomorrow" as unknown as number }))).toBe("malformed");
  });

  it("checks audience, the override and the allow-lists", async () => {
    const with_ = (claims: JWTPayload, kid = "ed-1", key = ed.privateKey) => sign({ iat: NOW, exp: NOW + 600, ovr: "pricing=v2", ...claims }, { alg: "EdDSA", kid }, key);
    expect(await reason(await with_({ aud: "shop-edge" }), { audience: "shop-edge" })).toBe("valid pricing=v2");
    expect(await reason(await with_({ aud: ["x", "shop-edge"] }), { audience: "shop-edge" })).toBe("valid pricing=v2");
    expect(await reason(await with_({ aud: "other" }), { audience: "shop-edge" })).toBe("wrong-audience");
    expect(await reason(await with_({}), { audience: "shop-edge" })).toBe("wrong-audience");
    expect(await reason(await with_({ ovr: "pricing" }))).toBe("bad-override");
    expect(await reason(await with_({ ovr: "" }))).toBe("bad-override");
    expect(await reason(await with_({ ovr: 42 }))).toBe("bad-override");
    expect(await reason(await with_({ ovr: "pricing=v2", svc: ["pricing"] }))).toBe("valid pricing=v2");
    expect(await reason(await with_({ ovr: "pricing=v2,payments=v9", svc: ["pricing"] }))).toBe("not-allowed");
    expect(await reason(await with_({ ovr: "*=pr-7", svc: ["pricing"] }))).toBe("not-allowed");
    const edgeAllow = { allow: allowListFromConfig({ pricing: ["v2"], "*": ["pr-*"] }) };
    expect(await reason(await with_({ ovr: "pricing=v2,*=pr-7" }), edgeAllow)).toBe("valid pricing=v2,*=pr-7");
    expect(await reason(await with_({ ovr: "cart=v2" }), edgeAllow)).toBe("not-allowed");
    // The team key may route pricing to pr-* only.
    expect(await reason(await with_({ ovr: "pricing=pr-3" }, "team", edOther.privateKey))).toBe("valid pricing=pr-3");
    expect(await reason(await with_({ ovr: "pricing=v2" }, "team", edOther.privateKey))).toBe("not-allowed");
  });

  it("answers a repeated token from its cache, synchronously, and still expires it", async () => {
    let now = NOW;
    const cached = verifier({ now: () => now * 1000 });
    const token = await sign({ ovr: "pricing=v2", exp: NOW + 60 }, { alg: "EdDSA", kid: "ed-1" });
    const first = cached.check(token);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).status).toBe("valid");
    const second = cached.check(token);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as TokenCheck).status).toBe("valid");
    now = NOW + 120;
    expect(cached.check(token)).toEqual({ status: "rejected", reason: "expired" });
    const garbage = "not.a.token";
    await cached.check(garbage);
    expect(cached.check(garbage)).toEqual({ status: "rejected", reason: "malformed" });
  });

  it("keeps its cache bounded", async () => {
    const small = verifier({ cacheLimit: 3 });
    for (let i = 0; i < 10; i++) await small.check(`garbage-${i}`);
    expect(small.cacheSize).toBe(3);
  });
});

describe("key rings from files", () => {
  const dir = mkdtempSync(join(tmpdir(), "detour-keys-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string | Buffer) => {
    writeFileSync(join(dir, name), text);
    return name;
  };

  it("loads secrets, PEM public keys and JWKS with rotation by kid", async () => {
    const old = generateKeyPairSync("ed25519");
    const next = generateKeyPairSync("ed25519");
    write("hs.secret", "a-shared-secret-of-at-least-32-bytes!!\n");
    write("edge.pub.pem", ec.publicKey.export({ format: "pem", type: "spki" }));
    write(
      "jwks.json",
      JSON.stringify({
        keys: [
          { ...old.publicKey.export({ format: "jwk" }), kid: "2025-05", alg: "EdDSA", use: "sig" },
          { ...next.publicKey.export({ format: "jwk" }), kid: "2025-06" },
        ],
      }),
    );
    const ring = keyRingFromConfig([{ secretFile: "hs.secret", kid: "hs" }, { publicKeyFile: "edge.pub.pem" }, { jwksFile: "jwks.json" }], dir);
    expect(ring.keys.map((key) => [key.kid, key.algorithms.join("|")])).toEqual([
      ["hs", "HS256"],
      [undefined, "ES256"],
      ["2025-05", "EdDSA"],
      ["2025-06", "EdDSA|Ed25519"],
    ]);
    const check = createTokenVerifier(ring, { clockToleranceSeconds: 30, maxLifetimeSeconds: 86_400, limits: DEFAULT_LIMITS, now: () => NOW * 1000 });
    for (const [kid, key] of [
      ["2025-05", old.privateKey],
      ["2025-06", next.privateKey],
    ] as const) {
      expect(await check.check(await sign(good, { alg: "EdDSA", kid }, key))).toMatchObject({ status: "valid" });
    }
    expect(await check.check(await sign(good, { alg: "EdDSA", kid: "2025-06" }, old.privateKey))).toEqual({ status: "rejected", reason: "bad-signature" });
    expect(await check.check(await sign(good, { alg: "HS256", kid: "hs" }, createSecretKey(Buffer.from("a-shared-secret-of-at-least-32-bytes!!"))))).toMatchObject({ status: "valid" });
  });

  it("refuses unusable key material with a message naming the file", () => {
    write("short.secret", "too-short\n");
    write("pem-as-secret", ed.publicKey.export({ format: "pem", type: "spki" }));
    write("nokid.json", JSON.stringify({ keys: [ed.publicKey.export({ format: "jwk" })] }));
    write("rsa.pem", generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "pem", type: "spki" }));
    expect(() => keyRingFromConfig([{ secretFile: "short.secret" }], dir)).toThrow(/at least 32 bytes/);
    expect(() => keyRingFromConfig([{ secretFile: "pem-as-secret" }], dir)).toThrow(/not a shared secret: use publicKeyFile/);
    expect(() => keyRingFromConfig([{ jwksFile: "nokid.json" }], dir)).toThrow(/has no kid/);
    expect(() => keyRingFromConfig([{ publicKeyFile: "rsa.pem" }], dir)).toThrow(/rsa key is not supported/);
    expect(() => keyRingFromConfig([{ publicKeyFile: "missing.pem" }], dir)).toThrow(/cannot read public key file .*missing\.pem: ENOENT/);
  });

  it("reads any key file for the CLI (private PEM gives the public half)", () => {
    write("ed.key.pem", ed.privateKey.export({ format: "pem", type: "pkcs8" }));
    const ring = keyRingFromFile(join(dir, "ed.key.pem"), "k");
    expect(ring.keys[0]!.key.type).toBe("public");
    expect(ring.keys[0]!.kid).toBe("k");
  });
});
