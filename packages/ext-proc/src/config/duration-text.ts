/** Seconds per unit of a duration text. */
const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * `90s`, `15m`, `72h`, `7d` (or plain seconds) as seconds; undefined when the text is not a
 * positive whole number of one unit. One grammar for every duration a person writes for detour
 * (token lifetimes, the `detour.dev/ttl` annotation).
 */
export function durationSeconds(text: string): number | undefined {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (match === null) return undefined;
  const seconds = Number(match[1]) * UNITS[match[2] || "s"]!;
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}
