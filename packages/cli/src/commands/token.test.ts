import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { runCliInProcess } from "../testing/run-cli-in-process.js";

const dir = mkdtempSync(join(tmpdir(), "detour-token-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const detour = (args: string[], stdin = "") => runCliInProcess(args, { cwd: dir, stdin });

describe("detour keys generate / token sign / token verify", () => {
  it("generates an Ed25519 pair and a JWKS that grows with each rotation", async () => {
    const first = await detour(["keys", "generate", "--kid", "2025-05", "--out", "keys", "--jwks", "keys/jwks.json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("wrote keys/2025-05.key.pem (private");
    expect(first.stdout).toContain("detour token sign --set 'pricing=v2' --ttl 1h --key keys/2025-05.key.pem");
    expect(statSync(join(dir, "keys/2025-05.key.pem")).mode & 0o777).toBe(0o600);
    expect((await detour(["keys", "generate", "--kid", "2025-06", "--out", "keys", "--jwks", "keys/jwks.json"])).code).toBe(0);
    const jwks = JSON.parse(readFileSync(join(dir, "keys/jwks.json"), "utf8")) as { keys: Array<{ kid: string; crv: string; alg: string; d?: string }> };
    expect(jwks.keys.map((key) => [key.kid, key.crv, key.alg, key.d])).toEqual([
      ["2025-05", "Ed25519", "EdDSA", undefined],
      ["2025-06", "Ed25519", "EdDSA", undefined],
    ]);
    const again = await detour(["keys", "generate", "--kid", "2025-06", "--out", "keys"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: pick another --kid/);
  });

  it("signs with the kid of the key file and verifies against the JWKS (both kids during the overlap)", async () => {
    for (const kid of ["2025-05", "2025-06"]) {
      const signed = await detour(["token", "sign", "--set", "pricing=v2, cart=pr-7", "--ttl", "15m", "--key", `keys/${kid}.key.pem`, "--aud", "shop-edge", "--sub", "alice"]);
      expect(signed.code, signed.stderr).toBe(0);
      const token = signed.stdout.trim();
      expect(decodeProtectedHeader(token)).toEqual({ alg: "EdDSA", kid, typ: "JWT" });
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({ ovr: "pricing=v2,cart=pr-7", aud: "shop-edge", sub: "alice" });
      expect(claims.exp! - claims.iat!).toBe(900);
      const verified = await detour(["token", "verify", token, "--key", "keys/jwks.json", "--aud", "shop-edge"]);
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.stdout).toMatch(new RegExp(`^valid: pricing=v2,cart=pr-7\\n  alg EdDSA, kid ${kid}, sub alice, aud shop-edge\\n  expires .* \\(in 1[45]m`));
    }
  });

  it("names the reason and exits 1 for a token that does not verify", async () => {
    const token = (await detour(["token", "sign", "--set", "pricing=v2", "--key", "keys/2025-05.key.pem"])).stdout.trim();
    const wrongKey = await detour(["token", "verify", token, "--key", "keys/2025-06.pub.pem"]);
    expect({ code: wrongKey.code, stdout: wrongKey.stdout }).toEqual({ code: 1, stdout: "invalid: bad-signature\n" });
    const audience = await detour(["token", "verify", token, "--key", "keys/jwks.json", "--aud", "shop-edge", "--json"]);
    expect({ code: audience.code, verdict: JSON.parse(audience.stdout) }).toEqual({ code: 1, verdict: { valid: false, reason: "wrong-audience" } });
    const longLived = (await detour(["token", "sign", "--set", "pricing=v2", "--ttl", "7d", "--key", "keys/2025-05.key.pem"])).stdout.trim();
    expect((await detour(["token", "verify", longLived, "--key", "keys/jwks.json"])).stdout).toBe("invalid: lifetime-too-long\n");
    expect((await detour(["token", "verify", longLived, "--key", "keys/jwks.json", "--max-lifetime", "8d"])).code).toBe(0);
  });

  it("signs HS256 with a shared secret and reads the token from stdin", async () => {
    writeFileSync(join(dir, "edge.secret"), "0123456789abcdef0123456789abcdef-secret\n");
    const token = (await detour(["token", "sign", "--set", "*=pr-42", "--key", "edge.secret", "--kid", "hs-1", "--services", "*"])).stdout.trim();
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", kid: "hs-1", typ: "JWT" });
    const verified = await detour(["token", "verify", "-", "--key", "edge.secret", "--json"], `${token}\n`);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, override: "*=pr-42", alg: "HS256", kid: "hs-1", svc: ["*"] });
  });

  it("refuses bad input as usage errors (exit 2)", async () => {
    const badSet = await detour(["token", "sign", "--set", "pricing", "--key", "edge.secret"]);
    expect(badSet.code).toBe(2);
    expect(badSet.stderr).toMatch(/--set: .*has no '='/);
    const badTtl = await detour(["token", "sign", "--set", "pricing=v2", "--ttl", "soon", "--key", "edge.secret"]);
    expect(badTtl.code).toBe(2);
    expect(badTtl.stderr).toContain("--ttl 'soon' is not a duration");
    writeFileSync(join(dir, "short.secret"), "short\n");
    expect((await detour(["token", "sign", "--set", "pricing=v2", "--key", "short.secret"])).stderr).toMatch(/at least 32 bytes/);
    expect((await detour(["token", "sign", "--set", "pricing=v2", "--key", "keys/2025-05.pub.pem"])).stderr).toMatch(/is not a private key/);
    expect((await detour(["token", "sign", "--key", "edge.secret"])).code).toBe(2);
  });

  it.each([["token"], ["token", "sign"], ["token", "verify"], ["keys"], ["keys", "generate"]])("%s --help shows examples, exit 0", async (...command) => {
    const { code, stdout } = await detour([...command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Examples:");
    expect(stdout).toContain(`$ detour ${command[0]}`);
  });
});
