import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { waitFor } from "../support/wait-for.js";
import { runLoad } from "./support/load-generator.js";
import { reliabilityProfile } from "./support/reliability-profile.js";
import { startRig, type Rig } from "./support/reliability-rig.js";
import { recordSummaryRow } from "./support/summary-row.js";
import { cycle, trafficMix } from "./support/traffic-mix.js";

const profile = reliabilityProfile();

interface ConfigFault {
  name: string;
  cutAfter?: string;
  replace?: [string, string];
  append?: string;
  text?: string;
  delete?: boolean;
  expect: "rejected" | "applied";
}

const FAULTS = parse(readFileSync(new URL("./config-faults.yaml", import.meta.url), "utf8")) as ConfigFault[];
/** How long traffic runs on whatever config is in force after each fault. */
const HOLD_MS = 400;

/** The fault's file text, derived from the good text; undefined = delete the file. */
function faultText(fault: ConfigFault, good: string): string | undefined {
  if (fault.delete) return undefined;
  if (fault.text !== undefined) return fault.text;
  let text = good;
  if (fault.cutAfter !== undefined) {
    const at = text.indexOf(fault.cutAfter);
    if (at === -1) throw new Error(`config-faults.yaml '${fault.name}': '${fault.cutAfter}' is not in the config`);
    text = text.slice(0, at + fault.cutAfter.length);
  }
  if (fault.replace !== undefined) {
    if (!text.includes(fault.replace[0])) throw new Error(`config-faults.yaml '${fault.name}': '${fault.replace[0]}' is not in the config`);
    text = text.replace(fault.replace[0], fault.replace[1]);
  }
  if (fault.append !== undefined) text += fault.append;
  return text;
}

// The server's config file is broken in the ways operators break it (cut
// short, wrong types, typos, deleted, garbage) and also changed for real, while traffic flows.
// A bad file must leave the last good config in force (the traffic mix depends on its aliases,
// injections and hosts, so a lost config shows as wrong answers); no request may fail.
describe("config faults under load", () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("keeps the last good config through every bad file and applies the good ones", async () => {
    const server = rig.servers[0]!;
    const original = readFileSync(server.configPath, "utf8");
    const reloads = async () => ({
      success: await server.metric("detour_ext_proc_config_reloads_total", { result: "success" }),
      failure: await server.metric("detour_ext_proc_config_reloads_total", { result: "failure" }),
    });
    const outcomes: { name: string; expected: string; got: string }[] = [];
    let done = false;
    const started = performance.now();

    const faultScript = async () => {
      try {
        await sleep(HOLD_MS);
        let lastGood = original;
        for (const fault of FAULTS) {
          const before = await reloads();
          const text = faultText(fault, original);
          if (text === undefined) rmSync(server.configPath);
          else writeFileSync(server.configPath, text);
          const got = await waitFor(
            async () => {
              const now = await reloads();
              if (now.failure > before.failure) return "rejected";
              if (now.success > before.success) return "applied";
              return undefined;
            },
            { timeoutMs: 10_000, what: `a reload after '${fault.name}'` },
          ).catch(() => "no reload");
          outcomes.push({ name: fault.name, expected: fault.expect, got });
          if (got === "applied" && text !== undefined) lastGood = text;
          await sleep(HOLD_MS);
          // Put the last good text back before the next fault (no reload: it is what is in force).
          if (text === undefined || got === "rejected") writeFileSync(server.configPath, lastGood);
          await sleep(HOLD_MS);
        }
        writeFileSync(server.configPath, original);
        await sleep(HOLD_MS);
      } finally {
        done = true;
      }
    };

    const [load] = await Promise.all([
      runLoad({
        port: rig.listenerPort,
        next: cycle(trafficMix(rig.config)),
        concurrency: profile.configFaults.concurrency,
        intervalMs: profile.configFaults.intervalMs,
        maxRequests: 1_000_000,
        maxDurationMs: 5 * 60_000,
        stop: () => done,
      }),
      faultScript(),
    ]);

    const crashes = rig.crashes();
    const rejections = server.logLines("config reload rejected; keeping the last good config").length + server.logLines("config reload failed: cannot read the file; keeping the last good config").length;
    recordSummaryRow(inject("reliabilityResults"), {
      part: "config faults",
      faults: FAULTS.length,
      sent: load.sent,
      succeeded: load.applied + load.baseline,
      fellBack: load.fellBack,
      failed: load.failed,
      badInputs: FAULTS.filter((fault) => fault.expect === "rejected").length,
      envoyRejected: 0,
      crashes: crashes.count,
      durationMs: performance.now() - started,
      notes: [
        ...outcomes.map((outcome) => `${outcome.name}: ${outcome.got}${outcome.got === outcome.expected ? "" : ` (expected ${outcome.expected})`}`),
        `${rejections} rejection lines in the server log ("keeping the last good config")`,
        ...load.failures.slice(0, 5),
        ...crashes.notes,
      ],
    });

    expect(outcomes.filter((outcome) => outcome.got !== outcome.expected)).toEqual([]);
    expect(load.failures).toEqual([]);
    expect(load.failed).toBe(0);
    expect(load.fellBack, "ext_proc was up all along").toBe(0);
    expect(crashes.notes).toEqual([]);
    expect(server.running).toBe(true);
  });
});
