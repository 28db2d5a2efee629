// @detour/ext-proc/tokens: signed override tokens as the edge verifies them, for tools that mint
// or check tokens (`detour token`) and tests that need the edge's verdict without Envoy.
export { edgeTokensSchema, type EdgeTokensConfig, type TokenKeyConfig } from "./config/edge-config-schema.js";
export { OVERRIDE_CLAIM, SERVICES_CLAIM } from "./trust/token-claims.js";
export { keyRingFromConfig, keyRingFromFile, MIN_SECRET_BYTES, type KeyRing, type TokenAlgorithm, type VerificationKey } from "./trust/key-ring.js";
export { allowListFromConfig, type AllowList } from "./trust/allow-list.js";
export { createTokenVerifier, type TokenCheck, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from "./trust/token-verifier.js";
export { REJECTION_REASONS, type RejectionReason } from "./trust/rejection-reason.js";
