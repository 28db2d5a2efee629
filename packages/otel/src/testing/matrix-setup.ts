import type { SetupDetourOptions } from "../setup-detour.js";

/** Options every matrix process passes to setupDetour (aliases make the alias rows readable). */
export const MATRIX_SETUP: SetupDetourOptions = {
  aliases: [{ header: "x-override", format: "pairs" }, { baggage: "okteto-divert" }],
};
