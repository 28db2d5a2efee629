import { Option, type Command } from "commander";
import { DetourError } from "@detour/core";
import { rfc3339Millis } from "@detour/ext-proc/kubernetes";
import type { RegisterCommand } from "./register-command.js";
import { EXIT_OK } from "../exit-codes.js";
import { expireVersion } from "../sandbox/expire-version.js";
import { sandboxTable } from "../sandbox/sandbox-table.js";
import { configureSubcommand } from "../subcommand-output.js";
import { DEFAULT_SERVER_URL, fetchServerTopology } from "../sandbox/server-topology.js";

const HELP = `
Versions the server discovered in the cluster (a server with a kubernetes section): each one's
state (live, expired, not ready), Ready pods, expiry and the requests that named it (requested)
and were routed to it (applied), from the server's GET /status on its operations port.

  list                      the discovered versions per service (--all: also detour.yaml's)
  expire SERVICE/VERSION    end a sandbox now (or --at a time): writes detour.dev/expires-at on
                            its Deployments with your kubeconfig; the server stops routing to it
                            at that moment and reports it; the Deployment stays

Examples:
  $ kubectl -n detour port-forward svc/detour-ext-proc 9464 &
  $ detour sandbox list
  $ detour sandbox list --server http://127.0.0.1:9464 --json
  $ detour sandbox expire pricing/pr-7
  $ detour sandbox expire pricing/pr-7 --at 2026-05-01T18:00:00Z --context staging`;

export const registerSandboxCommand: RegisterCommand = (program: Command, io, done) => {
  const sandbox = program.command("sandbox").description("list the versions a server discovered in the cluster, and end one early").addHelpText("after", HELP);

  sandbox
    .command("list")
    .description("the discovered versions per service, with expiry and requested/applied counts")
    .option("--server <url>", "the server's operations port (server.metrics)", DEFAULT_SERVER_URL)
    .option("--all", "also list the versions from the server's config file")
    .addOption(new Option("--json", "print the server's whole GET /status answer"))
    .action(async (options: { server: string; all?: boolean; json?: boolean }) => {
      const status = await fetchServerTopology(options.server);
      io.stdout.write(options.json ? `${JSON.stringify(status, null, 2)}\n` : sandboxTable(status, { all: options.all === true }));
      done(EXIT_OK);
    });

  sandbox
    .command("expire")
    .description("end a discovered version now: writes detour.dev/expires-at on its Deployments")
    .argument("<service/version>", "the version to end, e.g. pricing/pr-7")
    .option("--server <url>", "the server's operations port, which says where the version's Deployments are", DEFAULT_SERVER_URL)
    .option("--at <time>", "when it ends, RFC 3339 (default now)")
    .option("--kubeconfig <file>", "kubeconfig to write with (default KUBECONFIG, ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use")
    .action(async (workload: string, options: { server: string; at?: string; kubeconfig?: string; context?: string }) => {
      const at = options.at === undefined ? Date.now() : rfc3339Millis(options.at);
      if (at === undefined) throw new DetourError("usage-time", `--at ${options.at} is not an RFC 3339 time: write e.g. 2026-05-01T18:00:00Z`);
      const result = await expireVersion({ workload, serverUrl: options.server, kubeconfig: options.kubeconfig, context: options.context, at });
      const objects = result.deployments.map((name) => `Deployment ${result.namespace}/${name}`).join(", ");
      io.stdout.write(`${workload}: detour.dev/expires-at=${result.expiresAt} set on ${objects}; detour stops routing to it then (the Deployment stays: delete it when done)\n`);
      done(EXIT_OK);
    });

  for (const command of sandbox.commands) configureSubcommand(command, io);
};
