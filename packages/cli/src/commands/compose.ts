import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Option, type Command } from "commander";
import { DetourError } from "@detour/core";
import type { RegisterCommand } from "./register-command.js";
import { repoLayout } from "../demo/repo-layout.js";
import { DEFAULT_SIDECAR_BASE_PORT } from "../envoy-config/detour-envoy-bootstrap.js";
import { EXIT_FAILURE, EXIT_OK } from "../exit-codes.js";
import { DEFAULT_ENVOY_IMAGE, DEFAULT_NODE_IMAGE } from "../generate/compose-file.js";
import { COMPOSE_FILE, composeFiles } from "../generate/compose-files.js";
import { validateComposeFile } from "../generate/compose-validation.js";
import { shownPath } from "../generate/shown-path.js";
import { DEFAULT_TOPOLOGY, loadTopology } from "../topology/load-topology.js";


const HELP = `
Writes DIR/docker-compose.yml and the Envoy bootstrap it mounts, DIR/envoy/envoy.yaml (the same
file 'detour envoy --out DIR/envoy' writes): the ext_proc server and one container per service
version on ${DEFAULT_NODE_IMAGE} running this repository's built code (mounted read-only),
and one Envoy on ${DEFAULT_ENVOY_IMAGE}. Every container uses the host network, so the
addresses are the topology's own and the compose demo matches 'detour demo'. The repository's
docker-compose.yml and envoy/envoy.yaml are generated this way from examples/detour.yaml:

  $ detour compose --topology examples/detour.yaml --out .

Then validates the result with 'docker compose config' where the compose plugin exists, else
'docker-compose config', else the Compose Specification's JSON Schema (exit 1 if invalid).

Examples:
  $ detour compose --topology examples/detour.yaml --out /tmp/demo && cd /tmp/demo && docker compose up
  $ detour compose --topology examples/detour.yaml --out . --node-image node:24-bookworm-slim`;

interface ComposeFlags {
  topology: string;
  out: string;
  repo?: string;
  envoyImage: string;
  nodeImage: string;
  sidecarBasePort: number;
  validate: boolean;
}

export const registerComposeCommand: RegisterCommand = (program: Command, io, done) => {
  program
    .command("compose")
    .description("generate docker-compose.yml (Envoy, ext_proc server, example services) from the topology")
    .option("-t, --topology <file>", "the topology file", DEFAULT_TOPOLOGY)
    .option("-o, --out <dir>", "directory for docker-compose.yml and envoy/envoy.yaml", ".")
    .option("--repo <dir>", "the detour repository whose built code the containers run (default: this CLI's)")
    .option("--envoy-image <image>", "Envoy image", DEFAULT_ENVOY_IMAGE)
    .option("--node-image <image>", "Node image for the server and the services", DEFAULT_NODE_IMAGE)
    .addOption(
      new Option("--sidecar-base-port <port>", "port of the first sidecar listener").default(DEFAULT_SIDECAR_BASE_PORT).argParser((text: string) => {
        const port = Number(text);
        if (!/^\d+$/.test(text) || port < 1 || port > 65_535) throw new DetourError("usage", `--sidecar-base-port '${text}' is not a port number`);
        return port;
      }),
    )
    .option("--no-validate", "skip validating the written compose file")
    .addHelpText("after", HELP)
    .action(async (flags: ComposeFlags) => {
      const topology = resolve(io.cwd, flags.topology);
      const config = loadTopology(topology, io.cwd);
      const files = composeFiles(config, {
        topology,
        out: resolve(io.cwd, flags.out),
        repo: resolve(io.cwd, flags.repo ?? repoLayout().root),
        sidecarBasePort: flags.sidecarBasePort,
        envoyImage: flags.envoyImage,
        nodeImage: flags.nodeImage,
      });
      mkdirSync(dirname(files.envoyFile), { recursive: true });
      writeFileSync(files.envoyFile, files.envoyText);
      writeFileSync(files.composeFile, files.composeText);
      io.stdout.write(`wrote ${shownPath(io.cwd, files.composeFile)} and ${shownPath(io.cwd, files.envoyFile)}\n`);
      if (flags.validate) {
        const result = await validateComposeFile(files.composeFile, files.composeText, dirname(files.composeFile));
        if (!result.ok) {
          io.stderr.write(`detour compose: ${COMPOSE_FILE} is not valid (${result.by}):\n${result.output}\n`);
          done(EXIT_FAILURE);
          return;
        }
        io.stdout.write(`valid (${result.by})\n`);
      }
      done(EXIT_OK);
    });
};
