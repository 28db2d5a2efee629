import type { AliasSpec } from "./aliases.js";
import { createCarrierConfig, type CarrierConfig } from "./carrier-config.js";
import { DetourError } from "./detour-error.js";
import { DEFAULT_LIMITS, type OverrideLimits } from "./limits.js";
import { isValidService, isValidVersion } from "./override-grammar.js";
import type { OverrideSet } from "./override-set.js";
import { parseOverrides } from "./parse-overrides.js";
import { requestedVersion } from "./requested-version.js";

/** Path of the read-only topology document on the ext_proc server's metrics port. */
export const TOPOLOGY_PATH = "/topology";

/**
 * Version of the document's shape. A reader refuses a format it does not know rather than
 * guessing: a misread topology would route messages to the wrong consumers.
 */
export const TOPOLOGY_FORMAT = 1;

/**
 * The topology as the ext_proc server publishes it (GET /topology): what a component outside the
 * request path (a message consumer, a job runner) needs to route the way the sidecars do.
 * JSON; versions are listed in the order of detour.yaml.
 */
export interface TopologyDocument {
  readonly format: typeof TOPOLOGY_FORMAT;
  readonly services: Readonly<Record<string, { readonly baseline: string; readonly versions: readonly string[] }>>;
  /** Workloads (`service/version`) with an injected override, in x-detour syntax. */
  readonly workloads: Readonly<Record<string, { readonly inject?: string }>>;
  readonly aliases: readonly AliasSpec[];
  readonly limits: OverrideLimits;
}

/** One service of a Topology. */
export interface ServiceTopology {
  readonly name: string;
  readonly baseline: string;
  readonly versions: ReadonlySet<string>;
}

/** Where one unit of work for a service goes under an override. */
export interface ServiceRoute {
  /** The version that serves it: the requested one when the topology has it, else the baseline. */
  readonly version: string;
  /** The version the override asked for (undefined when it did not name this service). */
  readonly requested: string | undefined;
  /** True when `version` is not the baseline. */
  readonly overridden: boolean;
}

const WORKLOAD_KEY = /^([^/]+)\/([^/]+)$/;

/**
 * A validated topology with the lookups routing needs. Built from a TopologyDocument (the server's
 * endpoint) or from the same fields written by hand; immutable.
 */
export class Topology {
  readonly document: TopologyDocument;
  readonly #services: ReadonlyMap<string, ServiceTopology>;
  readonly #injections: ReadonlyMap<string, OverrideSet>;
  /** The topology's aliases and limits, checked, in the form readCarriers takes. */
  readonly carriers: CarrierConfig;

  private constructor(document: TopologyDocument, services: Map<string, ServiceTopology>, injections: Map<string, OverrideSet>, carriers: CarrierConfig) {
    this.document = document;
    this.#services = services;
    this.#injections = injections;
    this.carriers = carriers;
  }

  /**
   * Validates a parsed JSON document. Throws DetourError "invalid-topology" naming the path of the
   * first problem (configuration time: a client keeps its last good topology when this throws).
   * `aliases`, `limits` and `workloads` may be left out by hand-written topologies.
   */
  static fromDocument(value: unknown): Topology {
    const doc = record(value, "topology");
    if (doc.format !== undefined && doc.format !== TOPOLOGY_FORMAT) {
      invalid("format", `is ${JSON.stringify(doc.format)}, this reader knows format ${TOPOLOGY_FORMAT}: upgrade @detour/core`);
    }
    const services = new Map<string, ServiceTopology>();
    const documentServices: Record<string, { baseline: string; versions: string[] }> = {};
    for (const [name, raw] of Object.entries(record(doc.services, "services"))) {
      if (!isValidService(name) || name === "*" || name !== name.toLowerCase()) {
        invalid(`services.${name}`, "is not a service name: use a lower-case DNS label");
      }
      const spec = record(raw, `services.${name}`);
      if (!Array.isArray(spec.versions) || spec.versions.length === 0) invalid(`services.${name}.versions`, "must be a non-empty array of versions");
      const versions: string[] = [];
      for (const [index, version] of (spec.versions as unknown[]).entries()) {
        if (typeof version !== "string" || !isValidVersion(version)) {
          invalid(`services.${name}.versions[${index}]`, `${JSON.stringify(version)} is not a version: 1-63 letters, digits, '.', '_' or '-'`);
        }
        if (!versions.includes(version)) versions.push(version);
      }
      const baseline = spec.baseline;
      if (typeof baseline !== "string" || !versions.includes(baseline)) {
        invalid(`services.${name}.baseline`, `${JSON.stringify(baseline)} must be one of the service's versions (${versions.join(", ")})`);
      }
      services.set(name, Object.freeze({ name, baseline, versions: new Set(versions) }));
      documentServices[name] = { baseline, versions };
    }
    const injections = new Map<string, OverrideSet>();
    const documentWorkloads: Record<string, { inject?: string }> = {};
    for (const [key, raw] of Object.entries(doc.workloads === undefined ? {} : record(doc.workloads, "workloads"))) {
      if (!WORKLOAD_KEY.test(key)) invalid(`workloads.${key}`, "is not a workload key: write service/version");
      const spec = record(raw, `workloads.${key}`);
      documentWorkloads[key] = {};
      if (spec.inject === undefined) continue;
      if (typeof spec.inject !== "string") invalid(`workloads.${key}.inject`, "must be an override in x-detour syntax");
      let set: OverrideSet;
      try {
        set = parseOverrides(spec.inject, { strict: true }).set;
      } catch (error) {
        invalid(`workloads.${key}.inject`, (error as Error).message);
      }
      documentWorkloads[key] = { inject: spec.inject };
      if (!set.isEmpty) injections.set(key, set);
    }
    let carriers: CarrierConfig;
    try {
      carriers = createCarrierConfig({ aliases: doc.aliases as AliasSpec[] | undefined, limits: doc.limits as Partial<OverrideLimits> | undefined });
    } catch (error) {
      invalid(error instanceof DetourError && error.code === "invalid-limits" ? "limits" : "aliases", (error as Error).message);
    }
    const document: TopologyDocument = deepFreeze({
      format: TOPOLOGY_FORMAT,
      services: documentServices,
      workloads: documentWorkloads,
      aliases: carriers.aliases.map((spec) => ({ ...spec })),
      limits: { maxEntries: carriers.limits.maxEntries, maxValueBytes: carriers.limits.maxValueBytes },
    });
    return new Topology(document, services, injections, carriers);
  }

  get aliases(): readonly AliasSpec[] {
    return this.document.aliases;
  }

  get limits(): OverrideLimits {
    return this.document.limits;
  }

  /** The service, or undefined when the topology does not have it. */
  service(name: string): ServiceTopology | undefined {
    return this.#services.get(name);
  }

  /** Every service name. */
  serviceNames(): readonly string[] {
    return [...this.#services.keys()];
  }

  /** The override a workload (`service/version`) injects under its outbound traffic, if any. */
  injection(workload: string): OverrideSet | undefined {
    return this.#injections.get(workload);
  }

  /**
   * Where work for `service` carrying `set` goes: the version a sidecar would route an HTTP request
   * to, except that a miss always falls back to the baseline (work that is not a request has no
   * caller to answer a 503 to). Undefined when the topology has no such service.
   */
  route(set: OverrideSet, service: string): ServiceRoute | undefined {
    const spec = this.#services.get(service);
    if (spec === undefined) return undefined;
    const { version } = requestedVersion(set, service);
    if (version !== undefined && version !== spec.baseline && spec.versions.has(version)) {
      return { version, requested: version, overridden: true };
    }
    return { version: spec.baseline, requested: version, overridden: false };
  }
}

/**
 * The topology document of a detour.yaml as parsed (the server's config or the file itself):
 * services with their baseline and version names, workload injections, aliases (header names
 * lower-cased, as they are matched) and limits. It only reshapes: Topology.fromDocument validates.
 * What the server publishes at GET /topology and what a consumer reading detour.yaml itself sees
 * are the same document.
 */
export function topologyDocumentFromConfig(config: unknown): TopologyDocument {
  const given = (typeof config === "object" && config !== null ? config : {}) as Record<string, unknown>;
  const services: Record<string, { baseline: string; versions: string[] }> = {};
  for (const [name, raw] of Object.entries(objectOr(given.services))) {
    const spec = objectOr(raw);
    services[name] = { baseline: spec.baseline as string, versions: Object.keys(objectOr(spec.versions)) };
  }
  const workloads: Record<string, { inject?: string }> = {};
  for (const [key, raw] of Object.entries(objectOr(given.workloads))) {
    const inject = objectOr(raw).inject;
    workloads[key] = inject === undefined ? {} : { inject: inject as string };
  }
  const aliases = (Array.isArray(given.aliases) ? given.aliases : []).map((alias: unknown) => {
    const spec = objectOr(alias);
    return typeof spec.header === "string" ? { header: spec.header.toLowerCase(), format: spec.format } : { baggage: spec.baggage };
  }) as AliasSpec[];
  // Defaults filled in, nothing checked: Topology.fromDocument checks the limits as it does the rest.
  const limits = objectOr(given.limits);
  return {
    format: TOPOLOGY_FORMAT,
    services,
    workloads,
    aliases,
    limits: { maxEntries: (limits.maxEntries ?? DEFAULT_LIMITS.maxEntries) as number, maxValueBytes: (limits.maxValueBytes ?? DEFAULT_LIMITS.maxValueBytes) as number },
  };
}

function objectOr(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) invalid(path, "must be an object");
  return value as Record<string, unknown>;
}

function invalid(path: string, message: string): never {
  throw new DetourError("invalid-topology", `topology ${path} ${message}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
