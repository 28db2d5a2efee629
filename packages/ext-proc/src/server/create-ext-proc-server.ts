import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DetourError } from "@detour/core";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import { formatHostPort, parseHostPort, type HostPort } from "../address/host-port.js";
import type { DetourConfig } from "../config/detour-config-schema.js";
import { routingTableFromConfig, type RoutingTable } from "../decision/routing-table.js";
import { createProcessHandler } from "../service/process-stream.js";
import { trustTableFromConfig, type TrustTable } from "../trust/trust-table.js";
import { EXT_PROC_SERVICE_NAME, processMethod } from "../protobuf/process-method.js";
import { GrpcServer, type GrpcServiceDefinition } from "./grpc-server.js";
import { HealthService } from "./health-service.js";
import { createHttpEndpoints } from "./http-endpoints.js";
import { publishedTopology } from "./topology-document.js";
import { createMetrics, type ExtProcMetrics } from "../metrics/ext-proc-metrics.js";
import { staticTopologyStatus, type TopologySource, type TopologyStatus } from "./topology-status.js";

export interface ExtProcServerOptions {
  /** Logger to use; default pino to stdout at `config.server.logLevel`. */
  readonly logger?: Logger;
  /** Prometheus registry to register into; default a fresh one (so several servers can coexist). */
  readonly registry?: Registry;
  /** Folder that relative paths in the config (edge token key files) resolve against; default the working directory. */
  readonly baseDir?: string;
}

export interface ExtProcAddresses {
  /** gRPC `host:port` actually bound (port 0 in the config resolves here). */
  readonly grpc: string;
  readonly grpcPort: number;
  /** Operations HTTP `host:port` (/metrics, /healthz, /readyz). */
  readonly metrics: string;
  readonly metricsPort: number;
}

export interface ExtProcServer {
  /** Binds gRPC and the operations port; resolves with the bound addresses. */
  start(): Promise<ExtProcAddresses>;
  /**
   * Graceful stop: readiness and gRPC health turn NOT_SERVING, no new streams are accepted,
   * in-flight streams get `graceMs` (default `server.shutdownGraceMs`) before they are cancelled.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /**
   * Swaps in a new config (already validated). The next request uses it; listen/metrics
   * address changes need a restart and are reported in the log.
   */
  reload(config: DetourConfig): void;
  /**
   * Puts a live topology source (Kubernetes discovery) between the config and the routing table,
   * or removes it; the routing table is rebuilt from `source.merge(config)`.
   */
  setTopologySource(source: TopologySource | undefined): void;
  /** Rebuilds the routing table from the config and the topology source; the next request uses it. */
  refreshTopology(): void;
  /** The routing table in force (its `config` is the config with the source's topology merged in). */
  readonly routingTable: RoutingTable;
  /** What GET /topology answers. */
  topologyStatus(): TopologyStatus;
  /** The config as loaded (detour.yaml), without the source's topology. */
  readonly config: DetourConfig;
  readonly metrics: ExtProcMetrics;
  readonly logger: Logger;
  /** Streams currently open. */
  readonly activeStreams: number;
}

const PROCESS_SERVICE: GrpcServiceDefinition = { Process: processMethod };

/** Envoy opens one stream per HTTP request on a long-lived HTTP/2 connection per worker. */
const MAX_CONCURRENT_STREAMS = 10_000;

/** A listen address of the config (the schema checked it; a config built in code may not have been). */
function listenAddress(text: string, field: string): HostPort {
  const address = parseHostPort(text);
  if (address === undefined) throw new DetourError("invalid-config", `${field}: '${text}' is not host:port with a port from 0 to 65535`);
  return address;
}

/**
 * Creates the ext_proc server for one `detour.yaml`: the Process service, grpc.health.v1, and
 * an HTTP port with Prometheus metrics and health endpoints. Nothing listens until start().
 */
export function createExtProcServer(initialConfig: DetourConfig, options: ExtProcServerOptions = {}): ExtProcServer {
  let config = initialConfig;
  let source: TopologySource | undefined;
  // Built from the config alone until a topology source is set; swapped whole (one assignment),
  // so a request sees either the old table or the new one, never a mix.
  let table: RoutingTable = routingTableFromConfig(config);
  const baseDir = options.baseDir ?? process.cwd();
  // Edge trust: keys are loaded here, at start and reload, never on a request.
  let trust: TrustTable = trustTableFromConfig(config, table, { baseDir });
  const logger = options.logger ?? pino({ level: config.server.logLevel, base: { component: "detour-ext-proc" } });
  const metrics = createMetrics(options.registry);
  // A count, not a Set of the calls: a Set gaining and losing an entry per request keeps every
  // call's objects alive into the old generation (server/session-stream-table.ts).
  let activeStreams = 0;
  const health = new HealthService({ "": "NOT_SERVING", [EXT_PROC_SERVICE_NAME]: "NOT_SERVING" });
  let grpc: GrpcServer | undefined;
  let http: HttpServer | undefined;
  let state: "new" | "starting" | "serving" | "stopping" | "stopped" = "new";
  let addresses: ExtProcAddresses | undefined;

  const setHealth = (status: "SERVING" | "NOT_SERVING") => {
    health.setStatus("", status);
    health.setStatus(EXT_PROC_SERVICE_NAME, status);
  };

  async function start(): Promise<ExtProcAddresses> {
    if (state !== "new") throw new DetourError("server-state", `start() called on a server that is ${state}: create a new server instead`);
    state = "starting";
    const grpcAddress = listenAddress(config.server.listen, "server.listen");
    const httpAddress = listenAddress(config.server.metrics, "server.metrics");
    grpc = new GrpcServer({ maxConcurrentStreams: MAX_CONCURRENT_STREAMS });
    grpc.addService(PROCESS_SERVICE, {
      Process: createProcessHandler({
        table: () => table,
        trust: () => trust,
        metrics,
        logger,
        onOpen: () => activeStreams++,
        onClose: () => activeStreams--,
      }),
    });
    health.addToServer(grpc);
    const server = grpc;
    let grpcPort: number;
    try {
      grpcPort = await server.listen(grpcAddress.host, grpcAddress.port);
    } catch (error) {
      throw new DetourError("listen-failed", `cannot listen for gRPC on ${config.server.listen}: ${(error as Error).message}`, { cause: error });
    }
    http = createHttpEndpoints(metrics.registry, {
      ready: () => state === "serving" && (source === undefined || source.synced),
      readinessNotes: () => source?.readinessNotes() ?? [],
      topology: () => publishedTopology(table),
      status: topologyStatus,
    });
    const httpServer = http;
    try {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(httpAddress.port, httpAddress.host, () => {
          httpServer.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      server.forceShutdown();
      throw new DetourError("listen-failed", `cannot listen for metrics on ${config.server.metrics}: ${(error as Error).message}`, { cause: error });
    }
    const metricsPort = (httpServer.address() as AddressInfo).port;
    addresses = {
      grpc: formatHostPort(grpcAddress.host, grpcPort),
      grpcPort,
      metrics: formatHostPort(httpAddress.host, metricsPort),
      metricsPort,
    };
    state = "serving";
    setHealth("SERVING");
    logger.info({ grpc: addresses.grpc, metrics: addresses.metrics, services: table.services.size, workloads: Object.keys(config.workloads).length }, "detour ext_proc server listening");
    return addresses;
  }

  async function stop(stopOptions: { graceMs?: number } = {}): Promise<void> {
    if (state === "stopped" || state === "stopping" || state === "new") {
      state = "stopped";
      return;
    }
    state = "stopping";
    setHealth("NOT_SERVING");
    const graceMs = stopOptions.graceMs ?? config.server.shutdownGraceMs;
    logger.info({ activeStreams, graceMs }, "shutting down: finishing in-flight streams");
    const server = grpc;
    if (server !== undefined) {
      const warn = setTimeout(() => logger.warn({ activeStreams }, "shutdown grace period over: cancelling the remaining streams"), graceMs);
      await server.shutdown(graceMs);
      clearTimeout(warn);
    }
    const httpServer = http;
    if (httpServer !== undefined) {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    }
    state = "stopped";
    logger.info("detour ext_proc server stopped");
  }

  function topologyStatus(): TopologyStatus {
    const counts = metrics.versionCounts();
    const status = staticTopologyStatus(table, counts);
    return source === undefined ? status : source.describe(status, counts);
  }

  function refreshTopology(): void {
    table = routingTableFromConfig(source === undefined ? config : source.merge(config));
  }

  function reload(next: DetourConfig): void {
    const nextTable = routingTableFromConfig(source === undefined ? next : source.merge(next));
    const nextTrust = trustTableFromConfig(next, nextTable, { baseDir });
    if (next.server.listen !== config.server.listen || next.server.metrics !== config.server.metrics) {
      logger.warn(
        { listen: config.server.listen, metrics: config.server.metrics, newListen: next.server.listen, newMetrics: next.server.metrics },
        "server.listen / server.metrics changed: keeping the current addresses until restart",
      );
    }
    if (options.logger === undefined && next.server.logLevel !== config.server.logLevel) logger.level = next.server.logLevel;
    config = next;
    table = nextTable;
    trust = nextTrust;
    metrics.recordReload("success");
    logger.info({ services: nextTable.services.size, workloads: Object.keys(next.workloads).length }, "config reloaded");
  }

  return {
    start,
    stop,
    reload,
    setTopologySource(next) {
      source = next;
      refreshTopology();
    },
    refreshTopology,
    get routingTable() {
      return table;
    },
    topologyStatus,
    get config() {
      return config;
    },
    metrics,
    logger,
    get activeStreams() {
      return activeStreams;
    },
  };
}
