/*
 * Runs the propagation matrix against one framework: a real service (started by the framework's
 * test) receives each request and, while handling it, calls a real upstream; the upstream records
 * what arrived. Shared by the otel (plain node:http), express and fastify tests.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BAGGAGE_MEMBER, TOKEN_HEADER } from "@detour/core";
import { startUpstream, type Upstream } from "../../../../test/support/upstream.js";
import { getOverrides } from "../override-context.js";
import { BOUNDARIES, CLIENTS, matrixCases, type CarrierCase } from "./propagation-matrix.js";

/** A running service under test. */
export interface MatrixServer {
  readonly url: string;
  close(): Promise<void>;
}

/** What the service answers for one case. */
export interface CaseAnswer {
  /** getOverrides() inside the handler. */
  readonly active: string;
  /** The framework's request.detour, when it has one. */
  readonly requestDetour?: string;
}

/**
 * The service's handler for `GET /case?...`: frameworks route every request there and answer the
 * JSON it returns (adding requestDetour when they expose one).
 */
export type CaseHandler = (path: string) => Promise<CaseAnswer>;

export type StartServer = (handle: CaseHandler) => Promise<MatrixServer>;

/**
 * A plain node:http service that answers every case with `handle`. `around` runs each request's
 * handling (the light install reads the override there first); `onClose` runs when it is closed.
 */
export async function startNodeHttpService(
  handle: CaseHandler,
  around: (request: IncomingMessage, response: ServerResponse, answer: () => void) => void = (_request, _response, answer) => answer(),
  onClose?: () => void,
): Promise<MatrixServer> {
  const server = createServer((req, res) => {
    around(req, res, () => {
      handle(req.url ?? "/").then(
        (answer) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  return listening(server.listen(0, "127.0.0.1"), onClose);
}

/** Waits until `server` (listening on 127.0.0.1) is bound; its base URL, and a close that ends every connection. */
export async function listening(server: Server, onClose?: () => void): Promise<MatrixServer> {
  if (!server.listening) await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        onClose?.();
      }),
  };
}

let upstream: Upstream | undefined;

/** The load tests take a second on an idle machine; CI shares two cores with other suites. */
const LOAD_TIMEOUT = 180_000;

/** Performs the call a case path names (`/case?client=0&boundary=3&id=abc`). */
export const handleCase: CaseHandler = async (path) => {
  const query = new URL(path, "http://service").searchParams;
  const client = CLIENTS[Number(query.get("client"))];
  const boundary = BOUNDARIES[Number(query.get("boundary"))];
  const id = query.get("id");
  if (client === undefined || boundary === undefined || id === null || upstream === undefined) {
    throw new Error(`bad case path ${path}`);
  }
  const active = getOverrides().toString();
  const target = `http://127.0.0.1:${upstream.port}/hit/${id}`;
  await boundary.run(() => client.call(target));
  return { active };
};

let sequence = 0;

/** Sends one request to the service and returns its answer and what the upstream saw. */
async function runCase(
  server: MatrixServer,
  carrier: CarrierCase,
  client: number,
  boundary: number,
): Promise<{ answer: CaseAnswer; hits: IncomingHttpHeaders[] }> {
  const id = `c${++sequence}`;
  const res = await undiciRequest(`${server.url}/case?client=${client}&boundary=${boundary}&id=${id}`, {
    headers: carrier.headers,
  });
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`service answered ${res.statusCode}: ${body}`);
  const hits = (upstream?.hits ?? []).filter((hit) => hit.url === `/hit/${id}`).map((hit) => hit.headers);
  return { answer: JSON.parse(body) as CaseAnswer, hits };
}

/** The baggage members of a received header (repeated lines joined), trimmed. */
export function baggageMembers(headers: IncomingHttpHeaders): string[] {
  const value = headers.baggage;
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(",") : value;
  return joined
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
}

/** Asserts an upstream received exactly `expected` and `token` (or no override, no token at all). */
export function expectCarried(
  headers: IncomingHttpHeaders,
  expected: string | undefined,
  keepsBaggage: readonly string[] = [],
  token?: string,
): void {
  // A token is forwarded unchanged and only by the request that brought it: never leaked to another.
  expect(headers[TOKEN_HEADER]).toBe(token);
  const members = baggageMembers(headers);
  const ours = members.filter((m) => m === BAGGAGE_MEMBER || m.startsWith(`${BAGGAGE_MEMBER}=`) || m.startsWith(`${BAGGAGE_MEMBER};`));
  if (expected === undefined) {
    expect(headers["x-detour"]).toBeUndefined();
    expect(ours).toEqual([]);
  } else {
    expect(headers["x-detour"]).toBe(expected);
    // Exactly one member, whichever propagators ran: no duplicate and no conflicting copy.
    expect(ours).toEqual([`${BAGGAGE_MEMBER}=${encodeURIComponent(expected)}`]);
  }
  for (const member of keepsBaggage) expect(members).toContain(member);
}

export interface MatrixOptions {
  /** The framework exposes the parsed set on the request (request.detour). */
  readonly requestDetour?: boolean;
  /**
   * "full" (default): every carrier × client × boundary. "reduced": every client, with the
   * header, baggage, token and no-override carriers and the first five boundaries, for variants of a
   * setup whose full matrix runs elsewhere (keeps CI time on two cores in check).
   */
  readonly size?: "full" | "reduced";
}

const REDUCED_CARRIERS = new Set(["x-detour header", "baggage member only", "x-detour with x-detour-token", "no override"]);
const REDUCED_BOUNDARIES = new Set(BOUNDARIES.slice(0, 5).map((b) => b.name));

/** Declares the matrix, the leakage test and the no-override test for one framework. */
export function describePropagationMatrix(framework: string, start: StartServer, options: MatrixOptions = {}): void {
  describe(`${framework}: propagation matrix`, () => {
    let server: MatrixServer;
    beforeAll(async () => {
      upstream = await startUpstream("upstream", "v1");
      server = await start(handleCase);
    });
    afterAll(async () => {
      await server?.close();
      await upstream?.close();
    });

    const selected = matrixCases().filter(
      ({ carrier, boundary }) => options.size !== "reduced" || (REDUCED_CARRIERS.has(carrier.name) && REDUCED_BOUNDARIES.has(boundary.name)),
    );
    const cases = selected.map(({ carrier, client, boundary }) => ({
      label: `${carrier.name} | ${client.name} | ${boundary.name}`,
      carrier,
      client: CLIENTS.indexOf(client),
      boundary: BOUNDARIES.indexOf(boundary),
    }));

    test.each(cases)("$label", async ({ carrier, client, boundary }) => {
      const { answer, hits } = await runCase(server, carrier, client, boundary);
      expect(answer.active).toBe(carrier.expected ?? "");
      if (options.requestDetour === true) expect(answer.requestDetour).toBe(carrier.expected ?? "");
      expect(hits.length).toBeGreaterThanOrEqual(1);
      for (const headers of hits) expectCarried(headers, carrier.expected, carrier.keepsBaggage, carrier.expectedToken);
    });

    test("200 concurrent requests with distinct overrides and tokens: every upstream call saw exactly its own", async () => {
      const total = 200;
      const runs = Array.from({ length: total }, async (_, i) => {
        const expected = `svc-${i}=v${i}`;
        // Interleave: different clients and boundaries, staggered starts.
        await sleep(i % 7);
        const plain: CarrierCase = i % 2 === 0
          ? { name: "header", headers: { "x-detour": expected }, expected }
          : { name: "baggage", headers: { baggage: `detour=${encodeURIComponent(expected)},req=${i}` }, expected, keepsBaggage: [`req=${i}`] };
        // Every third request also brings its own token: none may reach another request's upstream call.
        const token = `tok${i}.payload.sig`;
        const carrier: CarrierCase = i % 3 === 0 ? { ...plain, headers: { ...plain.headers, [TOKEN_HEADER]: token }, expectedToken: token } : plain;
        const { answer, hits } = await runCase(server, carrier, i % CLIENTS.length, (i * 5) % BOUNDARIES.length);
        return { carrier, answer, hits };
      });
      const results = await Promise.all(runs);
      for (const { carrier, answer, hits } of results) {
        expect(answer.active).toBe(carrier.expected);
        expect(hits.length).toBeGreaterThanOrEqual(1);
        for (const headers of hits) expectCarried(headers, carrier.expected, carrier.keepsBaggage, carrier.expectedToken);
      }
    }, LOAD_TIMEOUT);

    test("requests without an override, interleaved with requests that have one, carry none", async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          const carrier: CarrierCase = i % 2 === 0
            ? { name: "none", headers: {}, expected: undefined }
            : { name: "header", headers: { "x-detour": `pricing=v${i}` }, expected: `pricing=v${i}` };
          return runCase(server, carrier, i % CLIENTS.length, i % BOUNDARIES.length).then((r) => ({ carrier, ...r }));
        }),
      );
      for (const { carrier, hits } of results) for (const headers of hits) expectCarried(headers, carrier.expected);
    }, LOAD_TIMEOUT);
  });
}
