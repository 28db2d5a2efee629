import { DETOUR_HEADER, DetourError, isHeaderName, type CarrierConfig } from "@detour/core";
import { carrierConfigFromOptions, type ReadOverrideOptions } from "./read-options.js";

/** Framework options shared by @detour/express and @detour/fastify. */
export interface RequestOverrideOptions extends ReadOverrideOptions {
  /**
   * Opt-in response header showing what the service received: `true` for `x-detour-received`,
   * or a header name. Its value is the canonical override (empty when none), which helps when
   * debugging a call chain from the outside. Off by default: it reveals the override to callers.
   */
  readonly responseHeader?: boolean | string;
}

/** The default name of the opt-in response header (see RequestOverrideOptions.responseHeader). */
export const RECEIVED_HEADER = `${DETOUR_HEADER}-received`;

export interface ResolvedRequestOptions {
  /** undefined when the framework should use the process defaults (setupDetour's options). */
  readonly read: CarrierConfig | undefined;
  readonly responseHeader: string | undefined;
}

/** Validates framework options at registration time (throws DetourError on a mistake). */
export function resolveRequestOptions(options: RequestOverrideOptions | undefined, where: string): ResolvedRequestOptions {
  const given = options ?? {};
  const read = given.aliases === undefined && given.limits === undefined ? undefined : carrierConfigFromOptions(given, where);
  let responseHeader: string | undefined;
  if (given.responseHeader === true) responseHeader = RECEIVED_HEADER;
  else if (typeof given.responseHeader === "string") {
    if (!isHeaderName(given.responseHeader)) {
      throw new DetourError("invalid-options", `${where}: responseHeader '${given.responseHeader}' is not a valid header name`);
    }
    responseHeader = given.responseHeader.toLowerCase();
  } else if (given.responseHeader !== undefined && given.responseHeader !== false) {
    throw new DetourError("invalid-options", `${where}: responseHeader must be true, false or a header name`);
  }
  return { read, responseHeader };
}
