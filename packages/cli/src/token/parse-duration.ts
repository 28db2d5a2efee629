import { DetourError } from "@detour/core";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `90s`, `15m`, `1h`, `2d` (or plain seconds) as seconds. Throws DetourError (usage) otherwise. */
export function parseDuration(text: string, what = "--ttl"): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNITS[match[2] || "s"]! : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new DetourError("usage-duration", `${what} '${text}' is not a duration: write a number with s, m, h or d, e.g. 1h`);
  }
  return seconds;
}
