import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { expect } from "vitest";
import type { SidecarResponse } from "./sidecar-request.js";

/** A header in a case: one line, several lines, or a value repeated to build oversized input. */
export type HeaderSpec = string | string[] | { repeat: string; times: number };

/** An entry of test/ext-proc/routing-cases.yaml: request in, expected route out. */
export interface RoutingCase {
  name: string;
  via?: string;
  authority: string;
  headers?: Record<string, HeaderSpec>;
  expect: {
    status?: number;
    version?: string;
    body?: string;
    forwarded?: Record<string, string>;
    absent?: string[];
    extProc?: "called" | "skipped";
  };
}

/** The routing cases every suite that claims routing works runs (native and containers). */
export const routingCases = parse(readFileSync(new URL("../ext-proc/routing-cases.yaml", import.meta.url), "utf8")) as RoutingCase[];

export function headerValue(spec: HeaderSpec): string | string[] {
  return typeof spec === "object" && !Array.isArray(spec) ? spec.repeat.repeat(spec.times) : spec;
}

/** The request headers of a case, oversized values built. */
export function caseHeaders(testCase: Pick<RoutingCase, "headers">): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, spec] of Object.entries(testCase.headers ?? {})) headers[name] = headerValue(spec);
  return headers;
}

/**
 * Checks a response against a case's expectations: status, body, the version that answered and
 * the headers it received (x-detour-route never among them). The ext_proc count is the caller's:
 * each rig counts streams its own way.
 */
export function expectRoutingOutcome(response: SidecarResponse, expected: RoutingCase["expect"]): void {
  expect(response.status, response.text).toBe(expected.status ?? 200);
  if (expected.body !== undefined) expect(response.text).toContain(expected.body);
  if (expected.version === undefined) return;
  expect(response.upstream?.version, response.text).toBe(expected.version);
  const received = response.upstream!.headers;
  expect(received["x-detour-route"], "x-detour-route must never leave the sidecar").toBeUndefined();
  for (const [name, value] of Object.entries(expected.forwarded ?? {})) expect(received[name], name).toBe(value);
  for (const name of expected.absent ?? []) expect(received[name], name).toBeUndefined();
}
