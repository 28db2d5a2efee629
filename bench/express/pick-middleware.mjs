// Finds the middleware in the built @detour/express (packages/express/dist). The package's API
// is not fixed yet, so this accepts a factory or a middleware exported under a name containing
// "middleware" or "detour"; a factory is called with no options (the defaults a user gets).
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const DIST = fileURLToPath(new URL("../../packages/express/dist/index.js", import.meta.url));

export async function pickMiddleware() {
  if (!existsSync(DIST)) return { reason: "packages/express/dist is not built" };
  let mod;
  try {
    mod = await import(pathToFileURL(DIST).href);
  } catch (error) {
    return { reason: `cannot load @detour/express: ${error.message.split("\n")[0]}` };
  }
  const candidates = Object.entries(mod).filter(([name, value]) => typeof value === "function" && /middleware|^detour$|^createDetour/i.test(name));
  for (const [name, value] of candidates) {
    // (req, res, next) is a middleware; fewer parameters is a factory.
    if (value.length === 3) return { middleware: value, name };
    try {
      const made = value();
      if (typeof made === "function") return { middleware: made, name: `${name}()` };
    } catch {
      // Needs options we cannot guess: try the next export.
    }
  }
  return { reason: "@detour/express exports no middleware yet" };
}

const OTEL_DIST = fileURLToPath(new URL("../../packages/otel/dist/index.js", import.meta.url));

/** setupDetour from the built @detour/otel, the one-call install a real user makes. */
export async function pickSetup() {
  if (!existsSync(OTEL_DIST)) return { reason: "packages/otel/dist is not built" };
  try {
    const mod = await import(pathToFileURL(OTEL_DIST).href);
    if (typeof mod.setupDetour !== "function") return { reason: "@detour/otel exports no setupDetour" };
    return { setupDetour: mod.setupDetour };
  } catch (error) {
    return { reason: `cannot load @detour/otel: ${error.message.split("\n")[0]}` };
  }
}
