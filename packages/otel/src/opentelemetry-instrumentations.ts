import { createRequire } from "node:module";
import type { Instrumentation } from "@opentelemetry/instrumentation";
import type { HttpInstrumentationConfig } from "@opentelemetry/instrumentation-http";
import type { UndiciInstrumentationConfig } from "@opentelemetry/instrumentation-undici";
import { DetourError } from "@detour/core";

/*
 * OpenTelemetry's http and undici instrumentations, for `outbound: "opentelemetry"`. They are
 * optional peer dependencies, loaded only here and only when used, so a light install needs
 * neither them nor @opentelemetry/instrumentation. They ship CommonJS only (no `exports` map), so
 * `require` loads the very module an `import` would.
 */

const nodeRequire = createRequire(import.meta.url);

/** The install line that matches the application's OpenTelemetry line, for error messages. */
const INSTALL_HINT =
  "npm install @opentelemetry/instrumentation @opentelemetry/instrumentation-http @opentelemetry/instrumentation-undici " +
  "(0.2xx/0.33 with @opentelemetry/api 1.9, 0.30x/0.34 with 1.10), or use outbound: \"light\"";

function load<T>(name: string): T {
  try {
    return nodeRequire(name) as T;
  } catch (error) {
    throw new DetourError("missing-peer", `setupDetour: outbound "opentelemetry" needs ${name}, which cannot be loaded: ${INSTALL_HINT}`, {
      cause: error,
    });
  }
}

export interface InstrumentationChoice {
  readonly http: false | HttpInstrumentationConfig;
  readonly undici: false | UndiciInstrumentationConfig;
}

/** Registers the chosen instrumentations; returns the function that unregisters them. */
export function registerOpenTelemetryInstrumentations(choice: InstrumentationChoice): () => void {
  const instrumentations: Instrumentation[] = [];
  if (choice.http !== false) {
    const { HttpInstrumentation } = load<typeof import("@opentelemetry/instrumentation-http")>("@opentelemetry/instrumentation-http");
    instrumentations.push(new HttpInstrumentation(choice.http));
  }
  if (choice.undici !== false) {
    const { UndiciInstrumentation } = load<typeof import("@opentelemetry/instrumentation-undici")>("@opentelemetry/instrumentation-undici");
    instrumentations.push(new UndiciInstrumentation(choice.undici));
  }
  if (instrumentations.length === 0) return () => {};
  const { registerInstrumentations } = load<typeof import("@opentelemetry/instrumentation")>("@opentelemetry/instrumentation");
  return registerInstrumentations({ instrumentations });
}
