// `node --import ./deny-module.mjs`: every import of a package named in DETOUR_DENY_MODULES
// (comma-separated) fails with "denied by the test", so a test can prove a process never loads it.
import { register } from "node:module";

register("./deny-module-hooks.mjs", import.meta.url, { data: { denied: (process.env.DETOUR_DENY_MODULES ?? "").split(",").filter(Boolean) } });
