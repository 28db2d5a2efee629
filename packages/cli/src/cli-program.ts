import { Command, CommanderError } from "commander";
import { DetourError } from "@detour/core";
import type { CliIo } from "./cli-io.js";
import { registerComposeCommand } from "./commands/compose.js";
import { registerDemoCommand } from "./commands/demo.js";
import { registerEnvoyCommand } from "./commands/envoy.js";
import { registerExplainCommand } from "./commands/explain.js";
import { registerExtProcConfigCommand } from "./commands/ext-proc-config.js";
import { registerKeysCommand } from "./commands/keys.js";
import { registerKubernetesCommand } from "./commands/kubernetes.js";
import type { RegisterCommand } from "./commands/register-command.js";
import { registerSandboxCommand } from "./commands/sandbox.js";
import { registerSchemaCommand } from "./commands/schema.js";
import { registerTokenCommand } from "./commands/token.js";
import { registerValidateCommand } from "./commands/validate.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";

const VERSION = "0.1.0";

const COMMANDS: readonly RegisterCommand[] = [
  registerDemoCommand,
  registerEnvoyCommand,
  registerExtProcConfigCommand,
  registerComposeCommand,
  registerKubernetesCommand,
  registerExplainCommand,
  registerValidateCommand,
  registerSchemaCommand,
  registerTokenCommand,
  registerKeysCommand,
  registerSandboxCommand,
];

const ROOT_HELP = `
Exit codes (every command):
  0  success
  1  failure: an expectation not met, a child process crashed, Envoy rejected a config
  2  usage or configuration error: unknown flag, missing argument, invalid detour.yaml

Examples:
  $ detour demo                                   # the whole demo on loopback, Ctrl-C stops it
  $ detour envoy --topology detour.yaml --out envoy/
  $ detour kubernetes --topology detour.yaml --namespace shop | kubectl apply -f -
  $ detour explain -H 'x-detour: pricing=v2' --to pricing --from cart/pr-7
  $ detour token sign --set 'pricing=v2' --ttl 1h --key keys/2025-06.key.pem

Run 'detour <command> --help' for a command's flags and examples.`;

export function createProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command("detour")
    .description("Per-request version routing for microservices: generate Envoy, ext_proc, compose and Kubernetes config from one detour.yaml, explain a request's route, run the demo.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", ROOT_HELP);
  program.configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  for (const register of COMMANDS) register(program, io, done);
  // Subcommands inherit output settings and exit handling from the root.
  for (const command of program.commands) {
    command.configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
    command.showHelpAfterError("(run with --help for usage)");
    command.exitOverride();
  }
  program.exitOverride();
  return program;
}

/** Runs `detour` with these arguments (without node and script path) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = EXIT_OK;
  const program = createProgram(io, (result) => (code = result));
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof DetourError) {
      io.stderr.write(`detour: (${error.code}) ${error.message}\n`);
      return exitCodeFor(error);
    }
    io.stderr.write(`detour: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_FAILURE;
  }
}
