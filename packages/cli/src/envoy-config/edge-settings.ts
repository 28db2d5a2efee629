import { z } from "zod";
import { DetourError } from "@detour/core";
import { parseHostPort, type DetourConfig } from "@detour/ext-proc";

/**
 * The `edge:` section of detour.yaml as the generators read it: where the front door listens
 * and which service it serves. The server's schema holds the edge trust settings of the same
 * section; keys this schema does not know pass through untouched.
 */
export const edgeSettingsSchema = z.looseObject({
  listen: z
    .string()
    .refine((text) => parseHostPort(text) !== undefined, "must be host:port with a port from 0 to 65535, e.g. 127.0.0.1:10000")
    .default("127.0.0.1:10000")
    .describe("address of the edge listener (the front door)"),
  service: z.string().min(1).optional().describe("the service the edge forwards every request to, e.g. frontend; without it no edge listener is generated"),
});

export type EdgeSettings = z.output<typeof edgeSettingsSchema> & { readonly service: string };

/** The edge listener settings of a topology, or undefined when it names no edge service. */
export function edgeSettingsFromTopology(config: DetourConfig): EdgeSettings | undefined {
  if (config.edge === undefined || config.edge === null) return undefined;
  const result = edgeSettingsSchema.safeParse(config.edge);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new DetourError("invalid-config", `edge.${issue.path.join(".")}: ${issue.message}`);
  }
  const service = result.data.service;
  if (service === undefined) return undefined;
  if (!Object.hasOwn(config.services, service)) {
    throw new DetourError(
      "invalid-config",
      `edge.service: '${service}' is not a service of the topology (services: ${Object.keys(config.services).join(", ")}): name one of them`,
    );
  }
  return { ...result.data, service };
}
