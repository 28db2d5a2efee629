import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pino, type Logger } from "pino";
import { loadConfigFile, parseConfigText } from "../config/load-config.js";
import type { KubernetesConfig } from "../config/kubernetes-config-schema.js";
import type { KubernetesDiscovery } from "../kubernetes/kubernetes-discovery.js";
import { assertKubernetesClientNode } from "../kubernetes/node-support.js";
import { createExtProcServer, type ExtProcServer } from "./create-ext-proc-server.js";
import { watchConfigFile } from "./watch-config-file.js";

export interface RunningExtProc {
  readonly server: ExtProcServer;
  /** Re-reads the config file; a bad file is logged and the last good config stays. */
  reloadFromFile(): boolean;
  /** Stops watching and signal handling and shuts the server down gracefully. */
  shutdown(): Promise<void>;
}

/**
 * What `detour-ext-proc --config FILE` does: load and validate the file (throws DetourError on a
 * bad one, so the binary can exit non-zero with the field named), start, reload on file change
 * or SIGHUP, and shut down gracefully on SIGTERM / SIGINT.
 */
export async function runExtProcServer(configPath: string, options: { logger?: Logger; exitOnSignal?: boolean } = {}): Promise<RunningExtProc> {
  const config = loadConfigFile(configPath);
  const logger = options.logger ?? pino({ level: config.server.logLevel, base: { component: "detour-ext-proc" } });
  // Key files named in the config resolve against the config file's folder.
  const baseDir = dirname(resolve(configPath));
  const server = createExtProcServer(config, { logger, baseDir });
  // Only a config with a kubernetes section loads the Kubernetes client (and its HTTP stack).
  const discovery = config.kubernetes === undefined ? undefined : await startDiscovery(server, config.kubernetes, baseDir, logger);
  await server.start();
  let lastText = readFileSync(configPath, "utf8");

  const reloadFromFile = (reason: string): boolean => {
    let text: string;
    try {
      text = readFileSync(configPath, "utf8");
    } catch (error) {
      server.metrics.recordReload("failure");
      logger.warn({ config: configPath, reason, err: error }, "config reload failed: cannot read the file; keeping the last good config");
      return false;
    }
    if (text === lastText && reason === "file change") return true;
    try {
      const next = parseConfigText(text, configPath);
      if (JSON.stringify(next.kubernetes) !== JSON.stringify(config.kubernetes)) {
        logger.warn({ config: configPath }, "the kubernetes section changed: it applies at the next restart; the rest of the file is reloaded");
      }
      if (options.logger === undefined) logger.level = next.server.logLevel;
      server.reload(next);
      lastText = text;
      return true;
    } catch (error) {
      server.metrics.recordReload("failure");
      logger.warn({ config: configPath, reason, problem: error instanceof Error ? error.message : String(error) }, "config reload rejected; keeping the last good config");
      return false;
    }
  };

  const watcher = watchConfigFile(configPath, () => reloadFromFile("file change"));
  const onHup = () => reloadFromFile("SIGHUP");
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      watcher.close();
      process.off("SIGHUP", onHup);
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onTerm);
      await discovery?.stop();
      await server.stop();
    })();
    return stopping;
  };
  const onTerm = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received");
    void shutdown().then(() => {
      if (options.exitOnSignal !== false) process.exit(0);
    });
  };
  process.on("SIGHUP", onHup);
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onTerm);
  return { server, reloadFromFile: () => reloadFromFile("manual"), shutdown };
}

async function startDiscovery(server: ExtProcServer, section: KubernetesConfig, baseDir: string, logger: Logger): Promise<KubernetesDiscovery> {
  assertKubernetesClientNode("the kubernetes section of the config");
  const { startKubernetesDiscovery } = await import("../kubernetes/kubernetes-discovery.js");
  const { routingObjectWork } = await import("../kubernetes/routing-object-writer.js");
  return startKubernetesDiscovery({ server, section, baseDir, logger }, section.routingObjects === "istio" ? routingObjectWork(section) : undefined);
}
