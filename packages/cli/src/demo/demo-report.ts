import { readCarriers } from "@detour/core";
import { drawTree } from "./call-tree.js";
import { curlLine } from "./curl-line.js";
import type { DemoOutcome } from "./demo-runner.js";

/** Services the request names explicitly, to explain a hop that stayed on its baseline (a miss). */
function namedVersions(headers: Readonly<Record<string, string>>): Map<string, string> {
  const named = new Map<string, string>();
  for (const entry of readCarriers(headers).set.entries()) if (entry.service !== "*") named.set(entry.service, entry.version);
  return named;
}

export interface ReportContext {
  readonly baselines: ReadonlyMap<string, string>;
  readonly edgeUrl: string;
  /** URL a job's result is read from, by outcome name. */
  readonly jobUrls: ReadonlyMap<string, string>;
}

/** One numbered section per request: its curl line, the call tree drawn, and the verdict. */
export function formatOutcomes(outcomes: readonly DemoOutcome[], context: ReportContext): string {
  const out: string[] = [];
  outcomes.forEach((outcome, index) => {
    const jobUrl = context.jobUrls.get(outcome.name);
    out.push(`${index + 1}. ${outcome.name}`);
    out.push(`   $ ${jobUrl === undefined ? curlLine(context.edgeUrl, outcome.headers) : curlLine(jobUrl, {})}`);
    const lines = drawTree(outcome.tree, { baselines: context.baselines, requested: namedVersions(outcome.headers), markRoot: jobUrl === undefined });
    for (const line of lines) out.push(`   ${line}`);
    out.push(outcome.ok ? "   ✓ as expected" : `   ✗ expected ${outcome.expected}\n     but got  ${outcome.actual}`);
    out.push("");
  });
  const failed = outcomes.filter((outcome) => !outcome.ok).length;
  out.push(failed === 0 ? `All ${outcomes.length} call trees are as expected.` : `${failed} of ${outcomes.length} call trees are NOT as expected.`);
  return `${out.join("\n")}\n`;
}
