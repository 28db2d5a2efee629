import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { DetourError } from "@detour/core";
import { detourConfigSchema } from "@detour/ext-proc";
import type { RegisterCommand } from "./register-command.js";
import { EXIT_OK } from "../exit-codes.js";
import { extProcConfigFromTopology, extProcConfigYaml } from "../generate/ext-proc-config.js";
import { generatedHeader } from "../generate/generated-header.js";
import { DEFAULT_TOPOLOGY, loadTopology } from "../topology/load-topology.js";

const HELP = `
The ext_proc server reads detour.yaml itself (detour-ext-proc --config detour.yaml); this
command writes the server's view of it for one deployment: defaults spelled out, the server's
own addresses, generator-only endpoints left out.

Examples:
  $ detour ext-proc-config --topology detour.yaml                       # to stdout
  $ detour ext-proc-config --topology detour.yaml --listen 0.0.0.0:50051 --metrics 0.0.0.0:9464 --out ext-proc.yaml`;

export const registerExtProcConfigCommand: RegisterCommand = (program: Command, io, done) => {
  program
    .command("ext-proc-config")
    .description("write the ext_proc server's config (detour-ext-proc --config) from the topology")
    .option("-t, --topology <file>", "the topology file", DEFAULT_TOPOLOGY)
    .option("-o, --out <file>", "write to this file instead of stdout")
    .option("--listen <host:port>", "gRPC address the server binds (default: server.listen)")
    .option("--metrics <host:port>", "HTTP address of /metrics and /readyz (default: server.metrics)")
    .addHelpText("after", HELP)
    .action((options: { topology: string; out?: string; listen?: string; metrics?: string }) => {
      const topology = resolve(io.cwd, options.topology);
      const config = loadTopology(topology, io.cwd);
      const serverConfig = extProcConfigFromTopology(config, { listen: options.listen, metrics: options.metrics });
      const checked = detourConfigSchema.safeParse(serverConfig);
      if (!checked.success) {
        const issue = checked.error.issues[0]!;
        throw new DetourError("usage", `--${issue.path.at(-1) === "metrics" ? "metrics" : "listen"}: ${issue.message}`);
      }
      const text = extProcConfigYaml(serverConfig, generatedHeader("ext-proc-config", topology, io.cwd));
      if (options.out === undefined) io.stdout.write(text);
      else writeFileSync(resolve(io.cwd, options.out), text);
      done(EXIT_OK);
    });
};
