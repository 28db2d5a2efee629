import { BAGGAGE_HEADER, BAGGAGE_MEMBER, ROUTE_HEADER } from "@detour/core";
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { metricValue } from "../support/prometheus-text.js";
import { delta, extProcFilterTotals } from "./support/envoy-ext-proc-stats.js";
import { expectedAnswer, type Expectation } from "./support/expected-answer.js";
import { HOSTILE_KINDS, hostileInput, sendableByClient, type HostileInput, type HostileKind, type HostileTopology } from "./support/hostile-inputs.js";
import { sendRawRequest } from "./support/raw-http.js";
import { reliabilityProfile } from "./support/reliability-profile.js";
import { startRig, type Rig } from "./support/reliability-rig.js";
import { extProcCalled } from "./support/sidecar-route-model.js";
import { recordSummaryRow } from "./support/summary-row.js";

const profile = reliabilityProfile();
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_FAILURE_SAMPLES = 12;

/** Authorities Envoy and the server both resolve to the service (port, case, cluster domain, host alias). */
const TOPOLOGY_AUTHORITIES: Record<string, string[]> = {
  pricing: ["pricing", "pricing:8080", "PRICING", "prices.example.internal", "pricing.shop.svc.cluster.local"],
  checkout: ["checkout", "checkout:443"],
  catalog: ["catalog", "catalog.default.svc.cluster.local:80"],
  cart: ["cart"],
};
/** A workload without injection (skip path for requests without carriers) and one injecting *=pr-7. */
const WORKLOADS = ["frontend/v1", "frontend/v1", "cart/pr-7"];

interface Answer {
  readonly status: number;
  readonly body: string;
  /** Nothing came back: the connection closed or timed out. */
  readonly error?: string;
}

interface KindCount {
  sent: number;
  correct: number;
  envoyRejected: number;
  failed: number;
}

/** Our own members and the baggage aliases: the ones the sidecar may rewrite. */
const OWN_MEMBERS = new Set([BAGGAGE_MEMBER, "okteto-divert"]);

/** The baggage members the sidecar must pass on untouched (trimmed, as a sorted list). */
function foreignMembers(values: readonly string[]): string[] {
  return values
    .join(",")
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "" && !OWN_MEMBERS.has(/^[^=;\s]*/.exec(member)![0]))
    .sort();
}

// Generated hostile carriers and tokens through real Envoy and the real server.
// Every answer must be what @detour/core's readCarriers says (the oracle), or Envoy's own refusal
// of an illegal HTTP/1 header line (counted and explained, never lost); every carrier problem
// the server saw must be counted under its reason; the server must never crash.
describe("hostile input through real Envoy", () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it(`answers ${profile.hostile.requests} generated hostile requests correctly and counts every problem by reason`, async () => {
    const server = rig.servers[0]!;
    const topology: HostileTopology = {
      services: Object.fromEntries(Object.entries(rig.config.services).map(([name, spec]) => [name, Object.keys(spec.versions)])),
      authorities: TOPOLOGY_AUTHORITIES,
      workloads: WORKLOADS,
    };
    const metricsBefore = await server.metricsText();
    const envoyBefore = extProcFilterTotals(await rig.envoy.stats());
    const pools = new Map<string, Pool>();
    const poolFor = (via: string) => {
      let pool = pools.get(via);
      if (pool === undefined) {
        pool = new Pool(`http://127.0.0.1:${rig.listenerPort(via)}`, { connections: profile.hostile.concurrency, pipelining: 1 });
        pools.set(via, pool);
      }
      return pool;
    };

    const byKind = Object.fromEntries(HOSTILE_KINDS.map((kind) => [kind, { sent: 0, correct: 0, envoyRejected: 0, failed: 0 }])) as Record<HostileKind, KindCount>;
    const envoyRejections = new Map<string, number>();
    const predictedProblems = new Map<string, number>();
    let predictedCalls = 0;
    let rawSent = 0;
    let baggageChecked = 0;
    let baggageWithRawBytes = 0;
    const failures: string[] = [];
    let next = 0;
    const started = performance.now();

    const send = async (input: HostileInput): Promise<Answer> => {
      try {
        if (sendableByClient(input.lines)) {
          const response = await poolFor(input.via).request({
            method: "GET",
            path: `/hostile/${input.index}`,
            headers: [...input.lines.flat(), "host", input.authority],
            headersTimeout: REQUEST_TIMEOUT_MS,
            bodyTimeout: REQUEST_TIMEOUT_MS,
          });
          return { status: response.statusCode, body: await response.body.text() };
        }
        rawSent++;
        const response = await sendRawRequest(rig.listenerPort(input.via), input.authority, input.lines, { path: `/hostile/${input.index}`, timeoutMs: REQUEST_TIMEOUT_MS });
        return { status: response.status, body: response.body };
      } catch (error) {
        return { status: 0, body: "", error: (error as Error).message };
      }
    };

    const fail = (input: HostileInput, expectation: Expectation, why: string) => {
      byKind[input.kind].failed++;
      if (failures.length < MAX_FAILURE_SAMPLES) {
        failures.push(`#${input.index} ${input.kind} via ${input.via} -> ${input.authority} ${JSON.stringify(input.lines).slice(0, 300)}: expected ${JSON.stringify(expectation.answer)}, ${why}`);
      }
    };

    const judge = (input: HostileInput, expectation: Expectation, answer: Answer, reaches: boolean) => {
      const mayBeRefused = !sendableByClient(input.lines) || input.kind === "beyond-envoy-limits";
      const upstreamAnswer = answer.status === 200 ? parseUpstream(answer.body) : undefined;
      if (mayBeRefused && upstreamAnswer === undefined && (answer.status === 400 || answer.status === 431 || answer.status === 0)) {
        // Envoy's HTTP/1 codec refused an illegal header line (or Envoy's own header limits): the
        // request never reached detour. Not lost: the client got a clear 4xx.
        const reason = answer.status === 0 ? `closed: ${answer.error}` : `${answer.status} ${answer.body.trim().slice(0, 40)}`;
        envoyRejections.set(`${input.kind}: ${reason}`, (envoyRejections.get(`${input.kind}: ${reason}`) ?? 0) + 1);
        byKind[input.kind].envoyRejected++;
        return;
      }
      if (reaches) {
        predictedCalls++;
        for (const code of expectation.problems) predictedProblems.set(code, (predictedProblems.get(code) ?? 0) + 1);
      }
      const expected = expectation.answer;
      if (expected.status === 503) {
        if (answer.status === 503 && answer.body.startsWith("detour: service")) byKind[input.kind].correct++;
        else fail(input, expectation, `got ${answer.status} ${answer.error ?? answer.body.slice(0, 120)}`);
        return;
      }
      if (upstreamAnswer === undefined) return fail(input, expectation, `got ${answer.status} ${answer.error ?? answer.body.slice(0, 120)}`);
      if (upstreamAnswer.service !== input.service || upstreamAnswer.version !== expected.version) {
        return fail(input, expectation, `answered by ${upstreamAnswer.service}@${upstreamAnswer.version}${reaches ? "" : " (ext_proc not called: skip path)"}`);
      }
      if (upstreamAnswer.headers[ROUTE_HEADER] !== undefined) return fail(input, expectation, `${ROUTE_HEADER} reached the upstream`);
      const sentBaggage = expectation.envoyLines.filter(([name]) => name === BAGGAGE_HEADER).map(([, value]) => value);
      if (sentBaggage.length > 0 && input.kind !== "baggage-window") {
        const received = upstreamAnswer.headers[BAGGAGE_HEADER];
        const receivedValues = received === undefined ? [] : Array.isArray(received) ? received : [received];
        const sentForeign = foreignMembers(sentBaggage);
        const receivedForeign = foreignMembers(receivedValues);
        baggageChecked++;
        if (JSON.stringify(sentForeign) !== JSON.stringify(receivedForeign)) {
          // Other members pass byte for byte (docs/spec.md §5), raw non-UTF-8 bytes included.
          return fail(input, expectation, `foreign baggage members changed: sent ${JSON.stringify(sentForeign)}, received ${JSON.stringify(receivedForeign)}`);
        }
        if (sentBaggage.some((value) => /[\x80-\xff]/.test(value))) baggageWithRawBytes++;
      }
      byKind[input.kind].correct++;
    };

    const worker = async () => {
      for (;;) {
        const index = next++;
        if (index >= profile.hostile.requests) return;
        const input = hostileInput(topology, profile.hostile.seed, index);
        const expectation = expectedAnswer(rig.config, input.via, input.service, input.lines);
        const reaches = extProcCalled(rig.bootstrap, input.via, input.authority, expectation.envoyLines);
        byKind[input.kind].sent++;
        judge(input, expectation, await send(input), reaches);
        if (index % 2_000 === 0) rig.clearHits();
      }
    };
    try {
      await Promise.all(Array.from({ length: profile.hostile.concurrency }, worker));
    } finally {
      await Promise.all([...pools.values()].map((pool) => pool.close().catch(() => undefined)));
    }
    const durationMs = performance.now() - started;

    const metricsAfter = await server.metricsText();
    const counted = (name: string, labels: Record<string, string> = {}) => metricValue(metricsAfter, name, labels) - metricValue(metricsBefore, name, labels);
    const serverProblems = new Map<string, number>();
    const reasons = new Set([...predictedProblems.keys(), ...[...metricsAfter.matchAll(/^detour_ext_proc_carrier_problems_total\{reason="([^"]+)"/gm)].map((m) => m[1]!)]);
    for (const reason of reasons) serverProblems.set(reason, counted("detour_ext_proc_carrier_problems_total", { reason }));
    const envoyFilter = delta(extProcFilterTotals(await rig.envoy.stats()), envoyBefore);
    const serverRequests = counted("detour_ext_proc_requests_total");

    const totals = Object.values(byKind).reduce((sum, kind) => ({ sent: sum.sent + kind.sent, correct: sum.correct + kind.correct, envoyRejected: sum.envoyRejected + kind.envoyRejected, failed: sum.failed + kind.failed }));
    const crashes = rig.crashes();
    const reasonRows = [...reasons].sort().map((reason) => `${reason}: server ${serverProblems.get(reason) ?? 0}, oracle ${predictedProblems.get(reason) ?? 0}`);
    recordSummaryRow(inject("reliabilityResults"), {
      part: "hostile input",
      faults: 0,
      sent: totals.sent,
      succeeded: totals.correct,
      fellBack: 0,
      failed: totals.failed,
      badInputs: totals.sent - byKind.valid.sent,
      envoyRejected: totals.envoyRejected,
      crashes: crashes.count,
      durationMs,
      notes: [
        `seed ${profile.hostile.seed}, ${totals.sent} requests (${rawSent} over raw sockets: control characters and illegal names no HTTP client sends) at ${(totals.sent / (durationMs / 1000)).toFixed(0)}/s, ${profile.hostile.concurrency} in flight`,
        `by kind (sent/correct/envoy-refused/failed): ${HOSTILE_KINDS.map((kind) => `${kind} ${byKind[kind].sent}/${byKind[kind].correct}/${byKind[kind].envoyRejected}/${byKind[kind].failed}`).join(", ")}`,
        `ext_proc calls: oracle ${predictedCalls}, Envoy streams_started ${envoyFilter.streams_started ?? 0}, server requests ${serverRequests}`,
        `carrier problems by reason (server counter vs oracle): ${reasonRows.join("; ")}`,
        `Envoy refused before detour saw them: ${[...envoyRejections].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${reason} x${count}`).join("; ") || "none"}`,
        `foreign baggage members passed byte for byte on all ${baggageChecked} answers that had baggage (${baggageWithRawBytes} of them with raw non-UTF-8 bytes)`,
        ...failures,
        ...crashes.notes,
      ],
    });

    expect(failures, "wrong or lost answers").toEqual([]);
    expect(totals.failed).toBe(0);
    expect(crashes.notes).toEqual([]);
    expect(totals.sent).toBe(profile.hostile.requests);
    // The route model and the server agree on who reached ext_proc, and every problem the oracle
    // saw is in the server's counter under the same reason.
    expect(serverRequests).toBe(predictedCalls);
    expect(envoyFilter.streams_started ?? 0).toBe(predictedCalls);
    expect(Object.fromEntries(serverProblems)).toEqual(Object.fromEntries([...reasons].map((reason) => [reason, predictedProblems.get(reason) ?? 0])));
    expect(envoyFilter.streams_failed ?? 0).toBe(0);
    expect(envoyFilter.rejected_header_mutations ?? 0).toBe(0);
  });
});

function parseUpstream(body: string): { service: string; version: string; headers: Record<string, string | string[] | undefined> } | undefined {
  try {
    const parsed = JSON.parse(body) as { service?: unknown; version?: unknown; headers?: unknown };
    if (typeof parsed.service !== "string" || typeof parsed.version !== "string" || typeof parsed.headers !== "object" || parsed.headers === null) return undefined;
    return parsed as { service: string; version: string; headers: Record<string, string | string[] | undefined> };
  } catch {
    return undefined;
  }
}


