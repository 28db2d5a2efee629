import type { Explanation } from "./explain-request.js";

const VERDICT: Record<string, string> = {
  wins: "wins",
  agrees: "agrees with the winner",
  conflict: "disagrees: the sidecar rewrites it to the winner",
  ignored: "ignored: nothing valid in it",
};

/** A baggage carrier's raw text is the member value; show it as the member people wrote. */
function shownRaw(carrier: string, raw: string): string {
  if (carrier === "baggage") return `detour=${raw}`;
  if (carrier.startsWith("baggage:")) return `${carrier.slice("baggage:".length)}=${raw}`;
  return raw;
}

/** The explanation for people: carriers, problems, winner, injection, the hop's route, header edits. */
export function formatExplanation(explanation: Explanation): string {
  const out: string[] = [];
  const { route } = explanation;
  out.push(`Hop: ${route.from} → ${route.to}${route.service !== undefined && route.service !== route.to ? ` (service ${route.service})` : ""}`);
  out.push("");
  out.push("Carriers (precedence order: x-detour, baggage member 'detour', aliases):");
  if (explanation.carriers.length === 0) out.push("  none");
  for (const carrier of explanation.carriers) {
    out.push(`  ${carrier.carrier}: ${JSON.stringify(shownRaw(carrier.carrier, carrier.raw))} → ${carrier.set || "(nothing valid)"}  [${VERDICT[carrier.verdict]}]`);
  }
  out.push("");
  out.push("Problems:");
  if (explanation.problems.length === 0) out.push("  none");
  for (const problem of explanation.problems) out.push(`  ${problem.code}: ${problem.message}`);
  out.push("");
  const winner = explanation.winner;
  out.push(`Winning override: ${winner.set ? `${winner.set} (from ${winner.source})` : "none"}`);
  if (explanation.injected) {
    out.push(`Injected by ${explanation.injected.workload}'s sidecar: ${explanation.injected.set} (the request's entries win per service)`);
  } else {
    out.push(`Injected: nothing${route.from === "edge" ? " (the edge injects nothing)" : ""}`);
  }
  out.push(`Effective override: ${explanation.effective || "none"}`);
  out.push("");
  const served = route.outcome === "rejected" ? `rejected with ${route.reject?.status}` : route.cluster ? `cluster ${route.cluster}` : "passed through unrouted";
  out.push(`Route: ${served} (${route.outcome})`);
  out.push(`  ${route.reason}`);
  if (route.reject) out.push(`  answer: ${route.reject.body.trimEnd()}`);
  if (explanation.headers.set.length > 0 || explanation.headers.remove.length > 0) {
    out.push("");
    out.push("Header edits before routing:");
    for (const [name, value] of explanation.headers.set) out.push(`  set ${name}: ${value}`);
    for (const name of explanation.headers.remove) out.push(`  remove ${name}`);
  }
  if (explanation.outcomes.length > 0) out.push(`Counted as: ${explanation.outcomes.join(", ")}`);
  for (const note of explanation.notes) out.push(`Note: ${note}`);
  return `${out.join("\n")}\n`;
}
