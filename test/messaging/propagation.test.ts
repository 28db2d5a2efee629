import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import express from "express";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detour } from "@detour/express";
import { createTopologyClient, type TopologyClient } from "@detour/messaging";
import { getOverrides, setupDetour, type DetourSetup } from "@detour/otel";
import { waitFor } from "../support/wait-for.js";
import { startBrokers, type Brokers } from "./support/brokers.js";
import { CLIENTS } from "./support/clients/clients.js";
import type { HarnessConsumer, OpenClient } from "./support/clients/client-harness.js";
import { startDetourStack, type DetourStack } from "./support/detour-stack.js";

interface PropagationCase {
  name: string;
  request?: Record<string, string>;
  message?: Record<string, string>;
  expect: { ledger: string; pricing: string; audit: string };
}

/** What one consumer's handler saw and reached for one case. */
interface Handled {
  workload: string;
  /** The version of pricing the handler's call through its own sidecar reached. */
  pricing: string;
  /** The override active in the handler. */
  override: string;
}

const cases = parse(readFileSync(new URL("./propagation-cases.yaml", import.meta.url), "utf8")) as PropagationCase[];
const LEDGER_VERSIONS = ["v1", "v2", "pr-7"];

// Produce inside a request (or raw) → real broker → detour consumers of ledger (three versions)
// and audit → each handler calls pricing through its own real Envoy sidecar and the real ext_proc
// server. Every client the running Node supports; the others are reported as skipped.
describe("overrides through brokers: produce in a request, consume, call out through the sidecar", () => {
  let stack: DetourStack;
  let brokers: Brokers;
  let setup: DetourSetup;
  let topology: TopologyClient;
  let frontend: Server;
  let frontendUrl = "";
  const open = new Map<string, OpenClient>();
  const handled = new Map<string, Handled[]>();

  beforeAll(async () => {
    setup = setupDetour({ aliases: [{ header: "x-override", format: "pairs" }, { header: "virtual-cluster-name", format: "wildcard" }, { baggage: "okteto-divert" }] });
    [stack, brokers] = await Promise.all([startDetourStack(), startBrokers(CLIENTS.filter((c) => c.unsupported === undefined).map((c) => c.broker))]);
    topology = createTopologyClient({ url: stack.metricsUrl, refreshMs: 500 });
    await topology.ready();

    // frontend: an Express service that produces one message per request, inside the request.
    const app = express();
    app.use(detour());
    app.post("/produce/:client/:id", async (req, res) => {
      await open.get(req.params.client)!.produce([JSON.stringify({ id: req.params.id })]);
      res.json({ override: req.detour?.toString() });
    });
    frontend = app.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => frontend.once("listening", () => resolve()));
    frontendUrl = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const client of open.values()) await client.close().catch(() => undefined);
    frontend?.closeAllConnections();
    await new Promise<void>((resolve) => (frontend ? frontend.close(() => resolve()) : resolve()));
    topology?.close();
    await stack?.close();
    await brokers?.stop();
    setup?.shutdown();
  });

  describe.each(CLIENTS.map((client) => [client.name, client] as const))("%s", (name, client) => {
    const consumers: HarnessConsumer[] = [];

    const skip = client.unsupported !== undefined;

    beforeAll(async () => {
      if (skip) {
        console.log(`skipped on Node ${process.versions.node}: ${name} ${client.unsupported}`);
        return;
      }
      const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
      const opened = await client.open(brokers.endpoints, `orders-${slug}`);
      open.set(name, opened);
      const handler = (workload: string) => async (value: string) => {
        const { id } = JSON.parse(value) as { id: string };
        const pricing = await stack.callThroughSidecar(workload, "pricing");
        const list = handled.get(id) ?? [];
        list.push({ workload, pricing, override: getOverrides().toString() });
        handled.set(id, list);
      };
      for (const version of LEDGER_VERSIONS) consumers.push(await opened.consume(`ledger/${version}`, `ledger-${slug}`, topology, handler(`ledger/${version}`)));
      consumers.push(await opened.consume("audit/v1", `audit-${slug}`, topology, handler("audit/v1")));
      // The baseline forwards to a version only once it has seen the version's inbox.
      await waitFor(
        async () => {
          await consumers[0]!.reconcile();
          const inboxes = consumers[0]!.status().inboxes;
          return inboxes.includes("v2") && inboxes.includes("pr-7");
        },
        { what: `${name}: the ledger baseline to see the v2 and pr-7 inboxes`, timeoutMs: 60_000 },
      );
    });

    afterAll(async () => {
      for (const consumer of consumers) await consumer.stop().catch(() => undefined);
    });

    it.skipIf(skip)("runs the roles the topology gives", () => {
      expect(consumers.map((c) => c.role)).toEqual(["baseline", "version", "version", "baseline"]);
    });

    it.skipIf(skip).each(cases.map((c, index) => [c.name, c, index] as const))("%s", async (_case, testCase, index) => {
      const id = `${name}#${index}`;
      if (testCase.message !== undefined) {
        await open.get(name)!.produceRaw(JSON.stringify({ id }), await resolveTokens(testCase.message, stack));
      } else {
        const response = await fetch(`${frontendUrl}/produce/${encodeURIComponent(name)}/${encodeURIComponent(id)}`, {
          method: "POST",
          headers: await resolveTokens(testCase.request ?? {}, stack),
        });
        expect(response.status).toBe(200);
      }
      const seen = await waitFor(
        () => {
          const list = handled.get(id) ?? [];
          return list.some((h) => h.workload.startsWith("ledger/")) && list.some((h) => h.workload === "audit/v1") ? list : undefined;
        },
        { what: `${id} to be handled by ledger and audit`, timeoutMs: 30_000 },
      );
      const ledger = seen.filter((h) => h.workload.startsWith("ledger/"));
      expect(ledger.map((h) => h.workload), "exactly one ledger version handles it").toEqual([`ledger/${testCase.expect.ledger}`]);
      expect(ledger[0]!.pricing, "ledger's outbound call").toBe(testCase.expect.pricing);
      expect(seen.find((h) => h.workload === "audit/v1")!.pricing, "audit's outbound call (token-only sidecar)").toBe(testCase.expect.audit);
    });
  });
});

/** Replaces `{{token <set>}}` in header values by a token for that set. */
async function resolveTokens(headers: Record<string, string>, stack: DetourStack): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const match = /^\{\{token (.+)\}\}$/.exec(value);
    resolved[name] = match === null ? value : await stack.token(match[1]!);
  }
  return resolved;
}
