import { parseArgs } from "node:util";

/** How a demo service instance is told who it is and where its sidecar listens. */
export interface ServiceSettings {
  readonly service: string;
  readonly version: string;
  /** Address to listen on (127.0.0.1 natively, 0.0.0.0 in a container). */
  readonly host: string;
  readonly port: number;
  /** The workload's sidecar outbound listener (`host:port`); absent for a service that calls nobody. */
  readonly sidecar: { readonly host: string; readonly port: number } | undefined;
}

function hostPort(text: string, what: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${what} '${text}' is not a port or host:port: write e.g. 127.0.0.1:15001`);
  }
  return { host: match[1] ?? "127.0.0.1", port };
}

/**
 * Reads the settings from flags (`--service cart --version pr-7 --port 9301 --sidecar 15003`)
 * or, for each flag not given, the environment (SERVICE, VERSION, HOST, PORT, SIDECAR).
 */
export function serviceSettings(defaultService: string, argv = process.argv.slice(2), env = process.env): ServiceSettings {
  const { values } = parseArgs({
    args: argv,
    options: {
      service: { type: "string" },
      version: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      sidecar: { type: "string" },
    },
  });
  const port = values.port ?? env.PORT ?? "0";
  const sidecar = values.sidecar ?? env.SIDECAR;
  return {
    service: values.service ?? env.SERVICE ?? defaultService,
    version: values.version ?? env.VERSION ?? "v1",
    host: values.host ?? env.HOST ?? "127.0.0.1",
    port: hostPort(port, "PORT").port,
    sidecar: sidecar ? hostPort(sidecar, "SIDECAR") : undefined,
  };
}
