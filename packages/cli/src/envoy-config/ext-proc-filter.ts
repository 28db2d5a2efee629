import { ROLE_METADATA, SOURCE_ADDRESS_ATTRIBUTE, WORKLOAD_METADATA } from "@detour/ext-proc/envoy";
import { DEFAULT_MESSAGE_TIMEOUT_MS, EXT_PROC_CLUSTER, EXT_PROC_FILTER_NAME, EXT_PROC_RETRY_POLICY, HEADERS_ONLY_PROCESSING_MODE } from "./envoy-names.js";

type Json = Record<string, unknown>;

export interface ExtProcFilterOptions {
  /** `outbound`: a sidecar's egress; `edge`: the front door. */
  readonly role: "outbound" | "edge";
  /** The calling workload (`service/version`) a sidecar filter speaks for; none = no identity. */
  readonly workload?: string | undefined;
  readonly messageTimeoutMs?: number | undefined;
}

/**
 * The `envoy.filters.http.ext_proc` HTTP filter as every generated config writes it: request
 * headers only, an explicit message timeout, fail open, retries of a stream that never got an
 * answer, and the caller's identity in the stream's initial metadata.
 */
export function extProcFilter(options: ExtProcFilterOptions): Json {
  const messageTimeoutMs = options.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
  // Identity comes from config the app never sees, not from a request header it could forge.
  const metadata = options.workload === undefined ? [] : [{ key: WORKLOAD_METADATA, value: options.workload }];
  metadata.push({ key: ROLE_METADATA, value: options.role });
  return {
    name: EXT_PROC_FILTER_NAME,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
      grpc_service: { envoy_grpc: { cluster_name: EXT_PROC_CLUSTER }, initial_metadata: metadata, retry_policy: EXT_PROC_RETRY_POLICY },
      // Outbound: a dead ext_proc must not take traffic down; requests then go to the baseline.
      // Edge: fail open for traffic, closed for overrides: without an answer (no edge marker)
      // the edge's own rules remove every carrier and the edge service's baseline serves.
      failure_mode_allow: true,
      message_timeout: `${(messageTimeoutMs / 1000).toFixed(3)}s`,
      // The downstream peer's address, for edge.trustedCidrs (checked again in the server).
      ...(options.role === "edge" ? { request_attributes: [SOURCE_ADDRESS_ATTRIBUTE] } : {}),
      processing_mode: { ...HEADERS_ONLY_PROCESSING_MODE }, // a copy: the yaml writer turns shared objects into anchors
    },
  };
}
