import { createCarrierConfig, DetourError, type AliasSpec, type CarrierConfig, type CarrierOptions, type OverrideLimits } from "@detour/core";

/** How incoming carriers are read: the same aliases and limits as the sidecar (detour.yaml). */
export interface ReadOverrideOptions {
  /** Foreign carriers read after x-detour and the baggage member, in this order. Default none. */
  readonly aliases?: readonly AliasSpec[];
  /** Per-carrier limits; default 32 entries and 1024 bytes (DEFAULT_LIMITS). */
  readonly limits?: Partial<OverrideLimits>;
}

/**
 * Checks options once, where they are given (propagator construction, setup, plugin
 * registration), with @detour/core's rules, so a mistake fails at startup with the field named
 * rather than on a request. The result is frozen: later mutation of `options` changes nothing.
 * Never strict: an application keeps serving whatever its callers send.
 */
export function carrierConfigFromOptions(options: ReadOverrideOptions | undefined, where: string): CarrierConfig {
  if (options === undefined) return createCarrierConfig();
  if (typeof options !== "object" || options === null) {
    throw new DetourError("invalid-options", `${where}: options must be an object`);
  }
  // A config checked before (setupDetour hands its own to the propagator) comes back as it is.
  const config = createCarrierConfig(options as CarrierOptions, where);
  return config.strict ? createCarrierConfig({ aliases: config.aliases, limits: config.limits }) : config;
}
