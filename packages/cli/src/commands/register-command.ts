import type { Command } from "commander";
import type { CliIo } from "../cli-io.js";

/** Registers one subcommand on the program; `done` records the action's exit code. */
export type RegisterCommand = (program: Command, io: CliIo, done: (code: number) => void) => void;
