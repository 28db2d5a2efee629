import type { Command } from "commander";
import type { CliIo } from "./cli-io.js";

/**
 * What the program sets on its own commands, for a command's nested subcommands (`token sign`,
 * `sandbox list`): output through `io`, help after an error, and errors thrown instead of exiting.
 */
export function configureSubcommand(command: Command, io: CliIo): Command {
  command.configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  command.showHelpAfterError("(run with --help for usage)");
  command.exitOverride();
  return command;
}
