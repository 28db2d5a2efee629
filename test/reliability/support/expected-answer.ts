import { createCarrierConfig, parseOverrides, readCarriers, ROUTE_HEADER, type ProblemCode } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import type { HeaderLine } from "./hostile-inputs.js";

export type ExpectedAnswer =
  /** 200 from this version of the destination (the baseline when no valid override names one). */
  | { readonly status: 200; readonly version: string }
  /** `miss: reject` and a named version the topology lacks: ext_proc's local 503. */
  | { readonly status: 503 };

export interface Expectation {
  readonly answer: ExpectedAnswer;
  /** Problem codes @detour/core reports for the carriers (what the server must count). */
  readonly problems: readonly ProblemCode[];
  /** The header lines as Envoy holds them (lower-case names, trimmed values, latin1 bytes). */
  readonly envoyLines: readonly HeaderLine[];
}

/**
 * What Envoy 1.40's HTTP/1 codec hands on for the header lines as sent (raw bytes, `latin1`),
 * as observed by this suite: a bare LF ends a line like CRLF does, a line that starts with SP or
 * HTAB continues the previous value (obs-fold, joined with one SP), an empty line ends the
 * header block (what follows is read as a next request), a bare CR inside a value is dropped
 * (`pricing=v2\rx` arrives as `pricing=v2x`), names are lower-cased and values trimmed. Lines
 * Envoy refuses (control characters, no colon) need no model: those requests get a 400 and are
 * counted as refused. x-detour-route never gets further: the early header mutation removes it.
 */
export function envoyHeaderLines(lines: readonly HeaderLine[]): HeaderLine[] {
  const block = lines.map(([name, value]) => `${name}: ${value}`).join("\r\n");
  const parsed: [string, string][] = [];
  for (const physical of block.replace(/\r(?!\n)/g, "").split(/\r?\n/)) {
    if (physical === "") break;
    const previous = parsed.at(-1);
    if ((physical.startsWith(" ") || physical.startsWith("\t")) && previous !== undefined) {
      previous[1] = `${previous[1]} ${physical.replace(/^[ \t]+/, "")}`;
      continue;
    }
    const colon = physical.indexOf(":");
    if (colon <= 0) continue;
    parsed.push([physical.slice(0, colon).toLowerCase(), physical.slice(colon + 1)]);
  }
  return parsed
    .map(([name, value]): HeaderLine => [name, value.replace(/^[ \t]+|[ \t]+$/g, "")])
    .filter(([name]) => name !== ROUTE_HEADER);
}

/**
 * The oracle: the answer a correct sidecar gives, computed with @detour/core's readCarriers (not
 * the server's decide()) plus the topology rules (packages/ext-proc/README.md): the workload's injection
 * merged under the request's set, a named unknown version is a miss (fallback or reject), a
 * wildcard without a matching version quietly leaves the baseline.
 */
export function expectedAnswer(config: DetourConfig, via: string, service: string, lines: readonly HeaderLine[]): Expectation {
  const envoyLines = envoyHeaderLines(lines);
  const spec = config.services[service];
  if (spec === undefined) throw new Error(`${service} is not a topology service`);
  // The lines are latin1 strings, one char per byte: the server reads Envoy's `raw_value` bytes
  // the same way (packages/ext-proc's protobuf adapter), so they go to the reader as they are.
  const read = readCarriers(envoyLines, createCarrierConfig({ aliases: config.aliases, limits: config.limits }));
  const inject = config.workloads[via]?.inject;
  const set = inject === undefined ? read.set : read.set.withDefaults(parseOverrides(inject, { strict: true }).set);
  const problems = read.problems.map((problem) => problem.code);
  const version = set.versionFor(service);
  if (version !== undefined && Object.hasOwn(spec.versions, version)) return { answer: { status: 200, version }, problems, envoyLines };
  const named = set.entries().some((entry) => entry.service === service);
  if (version !== undefined && named && spec.miss === "reject") return { answer: { status: 503 }, problems, envoyLines };
  return { answer: { status: 200, version: spec.baseline }, problems, envoyLines };
}
