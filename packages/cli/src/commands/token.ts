import { resolve } from "node:path";
import type { Command } from "commander";
import { DetourError, DEFAULT_LIMITS } from "@detour/core";
import { createTokenVerifier, keyRingFromFile } from "@detour/ext-proc/tokens";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { readAll } from "../cli-io.js";
import type { RegisterCommand } from "./register-command.js";
import { EXIT_FAILURE, EXIT_OK } from "../exit-codes.js";
import { parseDuration } from "../token/parse-duration.js";
import { signToken } from "../token/sign-token.js";
import { signingKeyFromFile } from "../token/signing-key.js";
import { configureSubcommand } from "../subcommand-output.js";

const HELP = `
A token carries a signed override: the edge admits it (x-detour-token header, detour_token
cookie, or an opt-in query parameter) and turns it into x-detour for every hop behind it.
Tokens always expire; keep them short-lived. See docs/security.md.

Examples:
  $ detour keys generate --kid 2025-06 --out keys --jwks keys/jwks.json
  $ detour token sign --set 'pricing=v2' --ttl 1h --key keys/2025-06.key.pem --aud shop-edge
  $ detour token verify "$TOKEN" --key keys/jwks.json --aud shop-edge
  $ curl -H "x-detour-token: $(detour token sign --set pricing=v2 --ttl 15m --key edge.secret)" https://shop.example.com/`;

const SIGN_HELP = `
The key file decides the algorithm: an Ed25519 private key (detour keys generate) signs
EdDSA, a P-256 key ES256, anything else is read as an HS256 shared secret (>= 32 bytes).
Without --kid, a key file named <kid>.key.pem signs with that kid.

Examples:
  $ detour token sign --set 'pricing=v2' --ttl 1h --key keys/2025-06.key.pem
  $ detour token sign --set 'pricing=v2,cart=pr-7' --ttl 15m --key edge.secret --kid hs-1 --aud shop-edge --sub alice
  $ detour token sign --set '*=pr-42' --ttl 2h --key keys/2025-06.key.pem --services cart,pricing`;

const VERIFY_HELP = `
Checks a token exactly as the edge does (signature, algorithm per key, exp/nbf/iat with clock
tolerance, audience, override) and prints its override; exits 1 naming the reason otherwise.
--key takes a JWKS, a JWK, a PEM public or private key, or a shared secret file.

Examples:
  $ detour token verify "$TOKEN" --key keys/jwks.json
  $ detour token verify - --key edge.secret --aud shop-edge --json < token.txt`;

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length !== 0);
}

function describeSeconds(seconds: number): string {
  const abs = Math.abs(seconds);
  const text = abs >= 86_400 ? `${Math.floor(abs / 86_400)}d ${Math.floor((abs % 86_400) / 3_600)}h` : abs >= 3_600 ? `${Math.floor(abs / 3_600)}h ${Math.floor((abs % 3_600) / 60)}m` : abs >= 60 ? `${Math.floor(abs / 60)}m ${abs % 60}s` : `${abs}s`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

export const registerTokenCommand: RegisterCommand = (program: Command, io, done) => {
  const token = program.command("token").description("mint and check signed, expiring override tokens (x-detour-token)").addHelpText("after", HELP);

  token
    .command("sign")
    .description("mint a token carrying an override")
    .requiredOption("--set <override>", "the override, x-detour syntax: 'pricing=v2,cart=pr-7'")
    .requiredOption("--key <file>", "signing key: Ed25519/P-256 private key PEM or HS256 secret file")
    .option("--ttl <duration>", "lifetime (s, m, h, d); the edge refuses tokens living longer than edge.tokens.maxLifetimeSeconds (default 1d)", "1h")
    .option("--kid <kid>", "key id for the header (default: from <kid>.key.pem)")
    .option("--aud <audience>", "audience, when the edge requires edge.tokens.audience")
    .option("--sub <subject>", "who the token is for (the edge logs it on use)")
    .option("--services <list>", "comma-separated services (or '*') the token may touch (svc claim)")
    .addHelpText("after", SIGN_HELP)
    .action(async (options: { set: string; key: string; ttl: string; kid?: string; aud?: string; sub?: string; services?: string }) => {
      const key = signingKeyFromFile(resolve(io.cwd, options.key));
      const text = await signToken({
        set: options.set,
        ttlSeconds: parseDuration(options.ttl),
        key,
        kid: options.kid,
        audience: options.aud,
        subject: options.sub,
        services: list(options.services),
      });
      io.stdout.write(`${text}\n`);
      done(EXIT_OK);
    });

  token
    .command("verify")
    .description("check a token as the edge would and print its override")
    .argument("<token>", "the token, or - to read it from stdin")
    .requiredOption("--key <file>", "verification key: JWKS, JWK, PEM (public or private) or HS256 secret file")
    .option("--aud <audience>", "require this audience")
    .option("--kid <kid>", "kid of a single PEM/secret key (default: accepts any kid)")
    .option("--max-lifetime <duration>", "refuse an exp further ahead than this", "1d")
    .option("--clock-tolerance <duration>", "clock skew allowed on exp, nbf and iat", "30s")
    .option("--json", "print the verdict as JSON")
    .addHelpText("after", VERIFY_HELP)
    .action(async (argument: string, options: { key: string; aud?: string; kid?: string; maxLifetime: string; clockTolerance: string; json?: boolean }) => {
      const text = (argument === "-" ? await readAll(io.stdin) : argument).trim();
      if (text.length === 0) throw new DetourError("usage-token", "no token given: pass it as the argument or '-' with the token on stdin");
      const verifier = createTokenVerifier(keyRingFromFile(resolve(io.cwd, options.key), options.kid), {
        audience: options.aud,
        clockToleranceSeconds: options.clockTolerance === "0" ? 0 : parseDuration(options.clockTolerance, "--clock-tolerance"),
        maxLifetimeSeconds: parseDuration(options.maxLifetime, "--max-lifetime"),
        limits: DEFAULT_LIMITS,
      });
      const check = await verifier.check(text);
      if (check.status === "rejected") {
        if (options.json) io.stdout.write(`${JSON.stringify({ valid: false, reason: check.reason })}\n`);
        else io.stdout.write(`invalid: ${check.reason}\n`);
        done(EXIT_FAILURE);
        return;
      }
      const header = decodeProtectedHeader(text);
      const claims = decodeJwt(text);
      const now = Math.floor(Date.now() / 1000);
      const verdict = {
        valid: true,
        override: check.token.set.toString(),
        alg: header.alg,
        kid: check.token.kid ?? header.kid,
        sub: check.token.subject,
        aud: claims.aud,
        svc: claims.svc,
        iat: check.token.issuedAt,
        exp: check.token.expiresAt,
      };
      if (options.json) {
        io.stdout.write(`${JSON.stringify(verdict)}\n`);
      } else {
        const details = [`alg ${String(verdict.alg)}`, verdict.kid === undefined ? undefined : `kid ${verdict.kid}`, verdict.sub === undefined ? undefined : `sub ${verdict.sub}`, verdict.aud === undefined ? undefined : `aud ${String(verdict.aud)}`];
        io.stdout.write(
          `valid: ${verdict.override}\n  ${details.filter((d) => d !== undefined).join(", ")}\n  expires ${new Date(verdict.exp * 1000).toISOString()} (${describeSeconds(verdict.exp - now)})\n`,
        );
      }
      done(EXIT_OK);
    });

  for (const command of token.commands) configureSubcommand(command, io);
};
