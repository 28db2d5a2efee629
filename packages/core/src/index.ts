// The public surface of @detour/core. Everything not exported here is internal.
export { DetourError } from "./detour-error.js";

// The wire format's rules (docs/spec.md): names, grammar, limits. Config schemas, propagator
// options and the CLI take them from here.
export {
  BAGGAGE_HEADER,
  BAGGAGE_MEMBER,
  DETOUR_HEADER,
  HEADER_NAME_PATTERN,
  isHeaderName,
  isReservedHeader,
  ROUTE_HEADER,
  TOKEN_COOKIE,
  TOKEN_HEADER,
} from "./headers.js";
export {
  isValidService,
  isValidVersion,
  SERVICE_NAME_PATTERN,
  SERVICE_PATTERN,
  VERSION_PATTERN,
  WORKLOAD_PATTERN,
} from "./override-grammar.js";
export {
  BAGGAGE_MAX_BYTES,
  BAGGAGE_MAX_MEMBERS,
  DEFAULT_LIMITS,
  LIMIT_RANGES,
  MAX_SERVICE_LENGTH,
  MAX_TOKEN_BYTES,
  MAX_VERSION_LENGTH,
  type LimitRange,
  type OverrideLimits,
} from "./limits.js";
export {
  carrierConfigProblems,
  createCarrierConfig,
  type CarrierConfig,
  type CarrierOptions,
} from "./carrier-config.js";
export type { ConfigProblem } from "./config-problem.js";

// The model and the codecs.
export { OverrideSet, WILDCARD, type OverrideEntry } from "./override-set.js";
export type { Problem, ProblemCode } from "./problem.js";
export { parseOverrides, type ParseOptions, type ParseResult } from "./parse-overrides.js";
export { aliasName, formatAlias, type AliasSpec } from "./aliases.js";
export { readHeaderValues, type HeaderInput, type HeadersLike } from "./header-input.js";
export { readCarriers, readCarrierValues, type CarrierReadResult, type CarrierReport } from "./read-carriers.js";
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
