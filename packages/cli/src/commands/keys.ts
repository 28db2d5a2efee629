import { relative, resolve } from "node:path";
import { Option, type Command } from "commander";
import type { RegisterCommand } from "./register-command.js";
import { EXIT_OK } from "../exit-codes.js";
import { generateKeys } from "../token/generate-keys.js";
import { configureSubcommand } from "../subcommand-output.js";

const HELP = `
Writes <kid>.key.pem (private, mode 0600: whoever holds it can mint overrides) and
<kid>.pub.pem (what the edge verifies with). With --jwks the public key is added to a JWKS
file: rotate by generating a new kid into the same JWKS, letting old tokens expire, then
removing the old key. The edge rereads keys on SIGHUP or when its config file changes.

Examples:
  $ detour keys generate --kid 2025-06 --out keys --jwks keys/jwks.json
  $ detour keys generate --kid ci --alg ES256 --out /secure/detour`;

export const registerKeysCommand: RegisterCommand = (program: Command, io, done) => {
  const keys = program.command("keys").description("generate signing keys for override tokens").addHelpText("after", HELP);
  keys
    .command("generate")
    .description("generate an EdDSA (Ed25519) or ES256 key pair for detour token sign")
    .requiredOption("--kid <kid>", "key id: names the files and the JWKS entry, e.g. 2025-06")
    .option("-o, --out <dir>", "directory for the key files", ".")
    .option("--jwks <file>", "add the public key to this JWKS file (created when missing)")
    .addOption(new Option("--alg <alg>", "signature algorithm").choices(["EdDSA", "ES256"]).default("EdDSA"))
    .option("--force", "overwrite existing key files of this kid")
    .addHelpText("after", HELP)
    .action((options: { kid: string; out: string; jwks?: string; alg: "EdDSA" | "ES256"; force?: boolean }) => {
      const generated = generateKeys({
        dir: resolve(io.cwd, options.out),
        kid: options.kid,
        alg: options.alg,
        jwks: options.jwks === undefined ? undefined : resolve(io.cwd, options.jwks),
        force: options.force,
      });
      const shown = (path: string) => relative(io.cwd, path) || path;
      const lines = [
        `wrote ${shown(generated.privateKeyFile)} (private: keep it secret, it mints overrides)`,
        `wrote ${shown(generated.publicKeyFile)}`,
      ];
      if (generated.jwksFile !== undefined) lines.push(`added kid ${generated.kid} to ${shown(generated.jwksFile)}`);
      const keyEntry = generated.jwksFile !== undefined ? `{ jwksFile: ${shown(generated.jwksFile)} }` : `{ kid: ${generated.kid}, publicKeyFile: ${shown(generated.publicKeyFile)} }`;
      lines.push(
        "",
        "verify with it at the edge (detour.yaml):",
        "  edge:",
        "    tokens:",
        `      keys: [${keyEntry}]`,
        "",
        "mint a token:",
        `  detour token sign --set 'pricing=v2' --ttl 1h --key ${shown(generated.privateKeyFile)}`,
      );
      io.stdout.write(`${lines.join("\n")}\n`);
      done(EXIT_OK);
    });
  for (const command of keys.commands) configureSubcommand(command, io);
};
