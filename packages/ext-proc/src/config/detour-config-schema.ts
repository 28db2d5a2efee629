import {
  carrierConfigProblems,
  DEFAULT_LIMITS,
  HEADER_NAME_PATTERN,
  LIMIT_RANGES,
  parseOverrides,
  SERVICE_NAME_PATTERN,
  VERSION_PATTERN,
  WORKLOAD_PATTERN,
} from "@detour/core";
import { z } from "zod";
import { DEFAULT_SHUTDOWN_GRACE_MS } from "../constants.js";
import { edgeSchema, workloadTrustSchema } from "./edge-config-schema.js";
import { hostPortSchema } from "./host-port-schema.js";
import { kubernetesSchema } from "./kubernetes-config-schema.js";

/*
 * The schema of `detour.yaml`, the one topology file that drives the ext_proc server, the Envoy
 * configs and the demo. Defaults live here and nowhere else, so the server, the generators and
 * the JSON Schema (`detour schema`) cannot disagree; the rules of the wire format (names, grammar,
 * limits, reserved headers) come from @detour/core, so the server, the propagator and the CLI
 * refuse the same things. Cross-field rules are refinements (not transforms) so
 * `z.toJSONSchema` can export the shape.
 */

const hostPort = hostPortSchema("127.0.0.1:9101");

// Versions use @detour/core's grammar: a version the wire format cannot carry would be unreachable.
const versionName = z.string().regex(new RegExp(VERSION_PATTERN), "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");

export const versionSchema = z.strictObject({
  endpoint: hostPort.optional().describe("host:port of this version's instances; used by the config generators only"),
});

export const missPolicySchema = z
  .enum(["fallback", "reject"])
  .describe("what a request naming an unknown version of this service gets: fallback = the baseline serves it, reject = a 503 naming the known versions");

export const serviceSchema = z
  .strictObject({
    baseline: versionName.describe("the version that serves requests whose override does not name this service"),
    miss: missPolicySchema.default("fallback"),
    hosts: z
      .array(z.string().min(1).regex(/^[A-Za-z0-9.-]+$/, "must be a host name without port"))
      .default([])
      .describe("extra :authority host names that mean this service (matched exactly, port ignored)"),
    versions: z
      .record(versionName, versionSchema)
      .refine((versions) => Object.keys(versions).length > 0, "a service needs at least one version")
      .describe("the deployed versions of this service, by name"),
  })
  .superRefine((service, ctx) => {
    if (!Object.hasOwn(service.versions, service.baseline)) {
      ctx.addIssue({
        code: "custom",
        path: ["baseline"],
        message: `baseline '${service.baseline}' is not one of this service's versions (${Object.keys(service.versions).join(", ")}): add it under versions or pick one of those`,
      });
    }
  });

const overrideText = z
  .string()
  .superRefine((text, ctx) => {
    try {
      parseOverrides(text, { strict: true });
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
    }
  });

export const workloadSchema = z.strictObject({
  inject: overrideText
    .optional()
    .describe("override (x-detour syntax, e.g. '*=pr-7') merged under every outbound request of this workload; the request's own entries win per service"),
  trust: workloadTrustSchema.optional(),
});

/**
 * Adds @detour/core's problems with one part of the carrier options (their paths start with the
 * part's name, which is where this schema sits in the document).
 */
function carrierRules(part: "aliases" | "limits") {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    for (const problem of carrierConfigProblems({ [part]: value })) {
      ctx.addIssue({ code: "custom", path: problem.path.slice(1), message: problem.message });
    }
  };
}

/** An alias that fits neither shape: say what core finds wrong with it, not just "invalid input". */
function aliasShapeError(issue: { readonly input?: unknown }): string {
  const problem = carrierConfigProblems({ aliases: [issue.input] })[0];
  if (problem === undefined) return "must be { header, format } or { baggage }";
  const field = problem.path.slice(2).join(".");
  return field.length === 0 ? problem.message : `${field} ${problem.message}`;
}

// The shape only: which names an alias may use is core's rule (carrierRules). The patterns are
// hints for editors that read the JSON Schema.
export const aliasSchema = z.union(
  [
    z.strictObject({ header: z.string().meta({ pattern: HEADER_NAME_PATTERN }), format: z.enum(["pairs", "wildcard"]) }),
    z.strictObject({ baggage: z.string().meta({ pattern: HEADER_NAME_PATTERN }) }),
  ],
  { error: aliasShapeError },
);

const { maxEntries, maxValueBytes } = LIMIT_RANGES;
export const limitsSchema = z
  .strictObject({
    maxEntries: z
      .int()
      .default(DEFAULT_LIMITS.maxEntries)
      .meta({ minimum: maxEntries.min, maximum: maxEntries.max })
      .describe("most entries one carrier may hold; above it the carrier is ignored whole"),
    maxValueBytes: z
      .int()
      .default(DEFAULT_LIMITS.maxValueBytes)
      .meta({ minimum: maxValueBytes.min, maximum: maxValueBytes.max })
      .describe("most bytes one carrier value may hold; above it the carrier is ignored whole"),
  })
  .superRefine(carrierRules("limits"));

export const routingSchema = z.strictObject({
  clusterDomains: z
    .array(z.string().min(1).regex(/^[A-Za-z0-9.-]+$/, "must be a domain suffix such as svc.cluster.local"))
    .default(["svc.cluster.local"])
    .describe("domain suffixes stripped from :authority before the service is looked up (pricing.shop.svc.cluster.local -> pricing)"),
});

export const serverSchema = z.strictObject({
  listen: hostPort.default("127.0.0.1:50051").describe("gRPC address of the ext_proc server (port 0 = any free port)"),
  metrics: hostPort.default("127.0.0.1:9464").describe("HTTP address for /metrics, /healthz and /readyz (port 0 = any free port)"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  shutdownGraceMs: z.int().min(0).max(600_000).default(DEFAULT_SHUTDOWN_GRACE_MS).describe("how long SIGTERM waits for in-flight streams"),
});

/** The whole `detour.yaml`. */
export const detourConfigSchema = z
  .strictObject({
    services: z
      .record(z.string().regex(new RegExp(SERVICE_NAME_PATTERN), "service names are lower-case DNS labels (a-z, 0-9, '-')"), serviceSchema)
      .describe("the topology: every service, its versions and its baseline"),
    workloads: z
      .record(
        z.string().regex(new RegExp(WORKLOAD_PATTERN), "workload keys are service/version, e.g. cart/pr-7"),
        workloadSchema.default({}),
      )
      .default({})
      .describe("workloads whose outbound traffic passes a detour sidecar, keyed service/version"),
    routing: routingSchema.default({ clusterDomains: ["svc.cluster.local"] }),
    aliases: z.array(aliasSchema).superRefine(carrierRules("aliases")).default([]).describe("foreign override carriers read after x-detour and baggage, in this order"),
    limits: limitsSchema.default({ ...DEFAULT_LIMITS }),
    server: serverSchema.default({ listen: "127.0.0.1:50051", metrics: "127.0.0.1:9464", logLevel: "info", shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS }),
    edge: edgeSchema.optional().describe("the front door: its listener (generators) and who may set an override there (docs/security.md)"),
    kubernetes: kubernetesSchema
      .optional()
      .describe("read versions from a Kubernetes cluster: a version is routable while it has Ready pods (docs/kubernetes.md); merged with the services above"),
  })
  .superRefine((config, ctx) => {
    const owner = new Map<string, string>();
    for (const [service, spec] of Object.entries(config.services)) {
      for (const [index, host] of spec.hosts.entries()) {
        const name = host.toLowerCase();
        const taken = owner.get(name) ?? (Object.hasOwn(config.services, name) && name !== service ? name : undefined);
        if (taken !== undefined && taken !== service) {
          ctx.addIssue({
            code: "custom",
            path: ["services", service, "hosts", index],
            message: `host '${host}' already means service '${taken}': a host can name one service only`,
          });
        }
        owner.set(name, service);
      }
    }
    if (config.edge?.service !== undefined && !Object.hasOwn(config.services, config.edge.service)) {
      ctx.addIssue({
        code: "custom",
        path: ["edge", "service"],
        message: `'${config.edge.service}' is not a service of the topology (services: ${Object.keys(config.services).join(", ")}): name one of them`,
      });
    }
    for (const [key, workload] of Object.entries(config.workloads)) {
      if (workload.trust === "token" && config.edge?.tokens === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["workloads", key, "trust"],
          message: "trust: token needs token keys: configure edge.tokens.keys (the sidecar verifies with the edge's keys)",
        });
      }
    }
  });

/** `detour.yaml` as written (defaults optional). */
export type DetourConfigInput = z.input<typeof detourConfigSchema>;
/** `detour.yaml` after validation, defaults filled in. */
export type DetourConfig = z.output<typeof detourConfigSchema>;
export type ServiceConfig = DetourConfig["services"][string];
export type WorkloadConfig = DetourConfig["workloads"][string];
export type MissPolicy = z.output<typeof missPolicySchema>;

/** The JSON Schema of `detour.yaml` (input form: fields with defaults are optional), for editors and the CLI. */
export function detourConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(detourConfigSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
