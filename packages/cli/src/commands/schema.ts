import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { detourConfigJsonSchema } from "@detour/ext-proc";
import { z } from "zod";
import { edgeSettingsSchema } from "../envoy-config/edge-settings.js";
import type { RegisterCommand } from "./register-command.js";
import { EXIT_OK } from "../exit-codes.js";

const HELP = `
The schema is generated from the same zod schema the ext_proc server validates with, so an
editor that knows it flags exactly what the server would reject. The repository keeps a copy
at docs/detour.schema.json; with the YAML language server, start detour.yaml with:
  # yaml-language-server: $schema=./docs/detour.schema.json

Examples:
  $ detour schema > detour.schema.json
  $ detour schema --out docs/detour.schema.json`;

/**
 * The JSON Schema text of detour.yaml, as written to docs/detour.schema.json: the server's
 * schema, with the edge settings the generators read (the server keeps `edge` open for edge
 * trust settings).
 */
export function detourSchemaText(): string {
  const { $schema, ...server } = detourConfigJsonSchema() as { $schema?: string; properties?: Record<string, { properties?: object; description?: string }> };
  const properties = { ...server.properties };
  // The server's schema describes the edge listener itself once edge trust defines the section.
  if (properties.edge?.properties === undefined || !("listen" in properties.edge.properties)) {
    const { $schema: _dialect, ...edge } = z.toJSONSchema(edgeSettingsSchema, { io: "input" }) as Record<string, unknown>;
    properties.edge = { ...edge, description: "the front door: where it listens and which service it serves" };
  }
  const schema = {
    $schema,
    title: "detour.yaml",
    description: "detour topology: services, versions, baselines, workloads, aliases, limits, server and edge settings.",
    ...server,
    properties,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export const registerSchemaCommand: RegisterCommand = (program: Command, io, done) => {
  program
    .command("schema")
    .description("print the JSON Schema of detour.yaml (for editors)")
    .option("-o, --out <file>", "write to this file instead of stdout")
    .addHelpText("after", HELP)
    .action((options: { out?: string }) => {
      const text = detourSchemaText();
      if (options.out === undefined) io.stdout.write(text);
      else writeFileSync(resolve(io.cwd, options.out), text);
      done(EXIT_OK);
    });
};
