// The public surface of @detour/core. Everything not exported here is internal.
export { DetourError } from "./detour-error.js";
export { BAGGAGE_HEADER, BAGGAGE_MEMBER, DETOUR_HEADER, ROUTE_HEADER, TOKEN_COOKIE, TOKEN_HEADER } from "./headers.js";
export {
  BAGGAGE_MAX_BYTES,
  BAGGAGE_MAX_MEMBERS,
  DEFAULT_LIMITS,
  MAX_SERVICE_LENGTH,
  MAX_TOKEN_BYTES,
  MAX_VERSION_LENGTH,
  type OverrideLimits,
} from "./limits.js";
export { isValidService, isValidVersion, SERVICE_PATTERN, VERSION_PATTERN } from "./override-grammar.js";
export { OverrideSet, WILDCARD, type OverrideEntry } from "./override-set.js";
export type { Problem, ProblemCode } from "./problem.js";
export { parseOverrides, type ParseOptions, type ParseResult } from "./parse-overrides.js";
export { aliasName, formatAlias, validateAliases, type AliasSpec } from "./aliases.js";
export { readHeaderValues, type HeaderInput, type HeadersLike } from "./header-input.js";
export {
  readCarriers,
  type CarrierReadResult,
  type CarrierReport,
  type ReadCarriersOptions,
} from "./read-carriers.js";
export { writeCarriers, type WritableHeaders } from "./write-carriers.js";
export { baggageWithOverride, decodeBaggageValue, encodeBaggageValue, removeBaggageMembers } from "./baggage.js";
export { requestedVersion, type RequestedVersion } from "./requested-version.js";
export {
  Topology,
  TOPOLOGY_FORMAT,
  TOPOLOGY_PATH,
  topologyDocumentFromConfig,
  type ServiceRoute,
  type ServiceTopology,
  type TopologyDocument,
} from "./topology.js";
