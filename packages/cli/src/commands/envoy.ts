import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { DetourError } from "@detour/core";
import type { RegisterCommand } from "./register-command.js";
import { findEnvoy } from "../envoy-binary.js";
import { DEFAULT_SIDECAR_BASE_PORT, detourEnvoyYaml, sidecarPortsFrom } from "../envoy-config/detour-envoy-bootstrap.js";
import { edgeSettingsFromTopology } from "../envoy-config/edge-settings.js";
import { outboundListenerName } from "../envoy-config/envoy-names.js";
import { validateEnvoyConfig } from "../envoy-process.js";
import { EXIT_FAILURE, EXIT_OK } from "../exit-codes.js";
import { DEFAULT_ADMIN_PORT } from "../generate/compose-files.js";
import { generatedHeader } from "../generate/generated-header.js";
import { shownPath } from "../generate/shown-path.js";
import { DEFAULT_TOPOLOGY, loadTopology } from "../topology/load-topology.js";

/** File name of the bootstrap inside --out. */
export const ENVOY_CONFIG_FILE = "envoy.yaml";

const HELP = `
Writes one Envoy bootstrap (DIR/envoy.yaml) for the whole topology, the layout detour runs on
one host: a sidecar listener per workload (outbound:<service>/<version>, ports from
--sidecar-base-port in the order of workloads:), the edge listener (edge, at edge.listen) when
the topology has an edge: section, one cluster per version (<service>@<version>) and the ext_proc
cluster (server.listen). In a cluster with one sidecar per pod, run it once per workload with
--workload. Requests carrying no override carrier from a workload that injects nothing skip the
ext_proc call (per-route disable); ext_proc: request headers only, 1 s message timeout, fail
open; an application's own x-detour-route is removed before routing.

Examples:
  $ detour envoy --topology detour.yaml --out envoy/
  $ detour envoy --topology detour.yaml --out envoy/ --validate     # also run envoy --mode validate
  $ detour envoy --topology detour.yaml --workload cart/pr-7 --stdout`;

interface EnvoyFlags {
  topology: string;
  out?: string;
  stdout?: boolean;
  workload?: string[];
  sidecarBasePort: number;
  adminPort: number;
  validate?: boolean;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new DetourError("usage", `'${text}' is not a port number (0-65535)`);
  return port;
}

export const registerEnvoyCommand: RegisterCommand = (program: Command, io, done) => {
  program
    .command("envoy")
    .description("generate the Envoy bootstrap (sidecar listeners, edge, clusters, ext_proc) from the topology")
    .option("-t, --topology <file>", "the topology file", DEFAULT_TOPOLOGY)
    .option("-o, --out <dir>", "directory to write envoy.yaml into")
    .option("--stdout", "print the bootstrap instead of writing a file")
    .option("-w, --workload <key>", "only this workload's sidecar listener (repeatable); no edge", (key: string, all: string[] = []) => [...all, key])
    .addOption(new Option("--sidecar-base-port <port>", "port of the first sidecar listener").default(DEFAULT_SIDECAR_BASE_PORT).argParser(parsePort))
    .addOption(new Option("--admin-port <port>", "Envoy admin port on 127.0.0.1 (0 = any)").default(DEFAULT_ADMIN_PORT).argParser(parsePort))
    .option("--validate", "check the result with envoy --mode validate (needs Envoy: ENVOY_BIN or scripts/install-envoy)")
    .addHelpText("after", HELP)
    .action(async (flags: EnvoyFlags) => {
      if (flags.out === undefined && !flags.stdout) throw new DetourError("usage", "say where the config goes: --out DIR (writes DIR/envoy.yaml) or --stdout");
      const topology = resolve(io.cwd, flags.topology);
      let config = loadTopology(topology, io.cwd);
      if (flags.workload !== undefined) {
        for (const key of flags.workload) {
          if (!Object.hasOwn(config.workloads, key)) {
            throw new DetourError("usage-unknown-workload", `--workload ${key} is not a workload of ${flags.topology} (workloads: ${Object.keys(config.workloads).join(", ")})`);
          }
        }
        // One pod's sidecar: its own listener(s) only, and no edge.
        config = { ...config, edge: undefined, workloads: Object.fromEntries(flags.workload.map((key) => [key, config.workloads[key]!])) };
      }
      const sidecarPorts = sidecarPortsFrom(config, flags.sidecarBasePort);
      const text = detourEnvoyYaml(config, { sidecarPorts, adminPort: flags.adminPort, header: generatedHeader("envoy", topology, io.cwd) });
      if (flags.validate) {
        const envoyBin = findEnvoy(io.env);
        if (envoyBin === undefined) throw new DetourError("envoy-missing", "--validate needs Envoy: run scripts/install-envoy or set ENVOY_BIN");
        const result = await validateEnvoyConfig(envoyBin, text);
        if (!result.ok) {
          io.stderr.write(`detour envoy: Envoy rejects the generated config:\n${result.output}\n`);
          done(EXIT_FAILURE);
          return;
        }
      }
      if (flags.stdout) {
        io.stdout.write(text);
      } else {
        const dir = resolve(io.cwd, flags.out!);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, ENVOY_CONFIG_FILE);
        writeFileSync(file, text);
        const edge = edgeSettingsFromTopology(config);
        const listeners = Object.entries(sidecarPorts).map(([workload, port]) => `  ${outboundListenerName(workload)}  127.0.0.1:${port}`);
        if (edge) listeners.push(`  edge  ${edge.listen} -> ${edge.service}`);
        io.stdout.write(`wrote ${shownPath(io.cwd, file)}${flags.validate ? " (envoy --mode validate: OK)" : ""}\n${listeners.join("\n")}\n`);
      }
      done(EXIT_OK);
    });
};
