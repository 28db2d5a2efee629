import type { Command } from "commander";
import type { RegisterCommand } from "./register-command.js";
import { EXIT_OK } from "../exit-codes.js";
import { DEFAULT_TOPOLOGY, loadTopology } from "../topology/load-topology.js";

const HELP = `
Exits 0 and prints a one-line summary when the topology is valid; otherwise prints every
problem as file:line:col path: what is wrong and how to fix it, and exits 2.

Examples:
  $ detour validate --topology examples/detour.yaml`;

export const registerValidateCommand: RegisterCommand = (program: Command, io, done) => {
  program
    .command("validate")
    .description("check a topology file and report every problem with its place in the file")
    .option("-t, --topology <file>", "the topology file", DEFAULT_TOPOLOGY)
    .addHelpText("after", HELP)
    .action((options: { topology: string }) => {
      const config = loadTopology(options.topology, io.cwd);
      const services = Object.entries(config.services);
      const versions = services.reduce((sum, [, service]) => sum + Object.keys(service.versions).length, 0);
      const workloads = Object.keys(config.workloads).length;
      io.stdout.write(`${options.topology}: ok (${services.length} services, ${versions} versions, ${workloads} workloads)\n`);
      done(EXIT_OK);
    });
};
