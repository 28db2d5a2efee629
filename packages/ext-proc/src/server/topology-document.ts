import { createHash } from "node:crypto";
import { topologyDocumentFromConfig, type TopologyDocument } from "@detour/core";
import type { RoutingTable } from "../decision/routing-table.js";

/** The JSON body of GET /topology and its entity tag, built once per loaded config. */
export interface PublishedTopology {
  readonly document: TopologyDocument;
  readonly body: string;
  /** A strong ETag of the body: clients poll with If-None-Match and get 304 while nothing changed. */
  readonly etag: string;
}

const published = new WeakMap<RoutingTable, PublishedTopology>();

/**
 * What the server tells components off the request path (message consumers) about the topology:
 * services with their baseline and versions, workload injections, aliases and limits. Endpoints,
 * trust settings and server addresses stay private.
 */
export function publishedTopology(table: RoutingTable): PublishedTopology {
  const known = published.get(table);
  if (known !== undefined) return known;
  // Reshaped from the validated config, the same way a consumer reading detour.yaml itself does.
  const document = topologyDocumentFromConfig(table.config);
  const body = `${JSON.stringify(document)}\n`;
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  const result: PublishedTopology = { document, body, etag };
  published.set(table, result);
  return result;
}
