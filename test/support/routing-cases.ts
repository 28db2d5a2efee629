import { readFileSync } from "node:fs";
import { parse } from "yaml";

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
