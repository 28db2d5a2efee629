import { Option, type Command } from "commander";
import { DetourError } from "@detour/core";
import { readAll } from "../cli-io.js";
import type { RegisterCommand } from "./register-command.js";
import { EXIT_OK } from "../exit-codes.js";
import { explainRequest } from "../explain/explain-request.js";
import { formatExplanation } from "../explain/format-explanation.js";
import { parseHeaderLines } from "../explain/header-lines.js";
import { DEFAULT_TOPOLOGY, loadTopology } from "../topology/load-topology.js";

const HELP = `
Shows how one hop is routed, exactly as the sidecar's ext_proc server decides it: what each
override carrier said, the problems found, the winning override, what the calling workload's
sidecar injects, and the route chosen (cluster service@version, or the miss policy's answer).

Examples:
  $ detour explain -H 'x-detour: pricing=v2' --to pricing --from catalog/v1
  $ detour explain -H 'x-detour: pricing=v2' -H 'baggage: detour=cart%3Dpr-7' --to pricing --from cart/pr-7
  $ detour explain --to catalog -H 'x-detour: catalog=v9' --json
  $ curl -sv http://127.0.0.1:10000/ -H 'x-detour: *=pr-7' 2>&1 | detour explain --stdin --to cart

--to takes a service name or an :authority (pricing:8080, pricing.shop.svc.cluster.local).
--from takes a workload key from detour.yaml (service/version) or 'edge'; without it the hop is
a sidecar's that injects nothing.`;

export const registerExplainCommand: RegisterCommand = (program: Command, io, done) => {
  program
    .command("explain")
    .description("explain which version serves a hop for given request headers")
    .requiredOption("--to <service>", "destination service or :authority of the hop")
    .option("--from <workload>", "calling workload (service/version from detour.yaml) or 'edge'")
    .option("-H, --header <line>", "a request header 'Name: value' (repeatable)", (line: string, all: string[]) => [...all, line], [] as string[])
    .option("--stdin", "also read header lines from stdin (curl -v output works)")
    .option("-t, --topology <file>", "the topology file", DEFAULT_TOPOLOGY)
    .addOption(new Option("--json", "print the explanation as JSON"))
    .addHelpText("after", HELP)
    .action(async (options: { to: string; from?: string; header: string[]; stdin?: boolean; topology: string; json?: boolean }) => {
      const config = loadTopology(options.topology, io.cwd);
      const lines = [...options.header];
      if (options.stdin) lines.push(...(await readAll(io.stdin)).split("\n"));
      const headers = parseHeaderLines(lines);
      if (options.from !== undefined && options.from !== "edge" && !Object.hasOwn(config.workloads, options.from)) {
        const known = Object.keys(config.workloads);
        throw new DetourError(
          "usage-unknown-workload",
          `--from ${options.from} is not a workload of ${options.topology} (workloads: ${known.length > 0 ? known.join(", ") : "none"}; or 'edge'): pass one of them, or add it under workloads`,
        );
      }
      const explanation = explainRequest({ config, headers, to: options.to, from: options.from });
      io.stdout.write(options.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
      done(EXIT_OK);
    });
};
