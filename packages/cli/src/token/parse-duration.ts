import { DetourError } from "@detour/core";
import { durationSeconds } from "@detour/ext-proc/kubernetes";

/** `90s`, `15m`, `1h`, `2d` (or plain seconds) as seconds. Throws DetourError (usage) otherwise. */
export function parseDuration(text: string, what = "--ttl"): number {
  const seconds = durationSeconds(text);
  if (seconds === undefined) {
    throw new DetourError("usage-duration", `${what} '${text}' is not a duration: write a number with s, m, h or d, e.g. 1h`);
  }
  return seconds;
}
