{{/*
Envoy pieces of the EnvoyFilters (packages/cli/src/envoy-config/ and kubernetes/istio-envoy-filters.ts):
fragments from files/detour-settings.json with their placeholders filled in. Each helper
returns JSON text; callers use fromJson.
*/}}

{{/* A header predicate: (dict "s" SETTINGS "kind" present|contains|containsIgnoreCase|exact|queryParameter "name" N "value" V). */}}
{{- define "detour.predicate" -}}
{{- $predicate := deepCopy (get .s.envoy.predicate .kind) -}}
{{- $single := $predicate.single_predicate -}}
{{- if eq .kind "queryParameter" -}}
{{- $_ := set $single.input.typed_config "query_param" .name -}}
{{- else -}}
{{- $_ := set $single.input.typed_config "header_name" .name -}}
{{- end -}}
{{- range $key := list "contains" "exact" -}}
{{- if hasKey $single.value_match $key -}}{{- $_ := set $single.value_match $key $.value -}}{{- end -}}
{{- end -}}
{{- toJson $predicate -}}
{{- end -}}

{{/* Any of a list of predicates (the one itself when alone). */}}
{{- define "detour.anyOf" -}}
{{- if eq (len .) 1 -}}{{- toJson (first .) -}}{{- else -}}{{- toJson (dict "or_matcher" (dict "predicate" .)) -}}{{- end -}}
{{- end -}}

{{/* All of a list of predicates. */}}
{{- define "detour.allOf" -}}
{{- if eq (len .) 1 -}}{{- toJson (first .) -}}{{- else -}}{{- toJson (dict "and_matcher" (dict "predicate" .)) -}}{{- end -}}
{{- end -}}

{{/* An HTTP filter created only for requests the predicate matches (composite filter): (dict "s" SETTINGS "filter" F "when" P). */}}
{{- define "detour.onlyWhen" -}}
{{- $wrapper := deepCopy .s.envoy.onlyWhen -}}
{{- $_ := set $wrapper "name" .filter.name -}}
{{- $matcher := first $wrapper.typed_config.xds_matcher.matcher_list.matchers -}}
{{- $_ := set $matcher "predicate" .when -}}
{{- $_ := set $matcher.on_match.action.typed_config "typed_config" .filter -}}
{{- toJson $wrapper -}}
{{- end -}}

{{/* The ext_proc filter: (dict "s" SETTINGS "role" outbound|edge "workload" W-or-empty "timeoutMs" MS). */}}
{{- define "detour.extProcFilter" -}}
{{- $filter := deepCopy (get .s.envoy.extProcFilter (ternary "outboundWorkload" .role (not (empty .workload)))) -}}
{{- if .workload -}}
{{- $_ := set (first $filter.typed_config.grpc_service.initial_metadata) "value" .workload -}}
{{- end -}}
{{- $_ := set $filter.typed_config "message_timeout" (printf "%.3fs" (divf .timeoutMs 1000)) -}}
{{- toJson $filter -}}
{{- end -}}

{{/* The ext_proc cluster, dialing HOST (the server's Service): (dict "s" SETTINGS "host" H). */}}
{{- define "detour.extProcCluster" -}}
{{- $cluster := deepCopy .s.envoy.extProcCluster -}}
{{- $endpoint := (first (first $cluster.load_assignment.endpoints).lb_endpoints).endpoint -}}
{{- $_ := set $endpoint.address.socket_address "address" .host -}}
{{- toJson $cluster -}}
{{- end -}}

{{/* Predicates for a request carrying an override carrier at a sidecar: (dict "s" SETTINGS "config" C "tokenHop" BOOL). */}}
{{- define "detour.sidecarCarriers" -}}
{{- $h := .s.headers -}}
{{- $list := list (include "detour.predicate" (dict "s" .s "kind" "present" "name" $h.detour) | fromJson) (include "detour.predicate" (dict "s" .s "kind" "contains" "name" $h.baggage "value" $h.baggageMember) | fromJson) -}}
{{- range (.config.aliases | default list) -}}
{{- if hasKey . "baggage" -}}
{{- $list = append $list (include "detour.predicate" (dict "s" $.s "kind" "contains" "name" $h.baggage "value" .baggage) | fromJson) -}}
{{- else -}}
{{- $list = append $list (include "detour.predicate" (dict "s" $.s "kind" "present" "name" (lower .header)) | fromJson) -}}
{{- end -}}
{{- end -}}
{{- if .tokenHop -}}
{{- $list = append $list (include "detour.predicate" (dict "s" .s "kind" "present" "name" $h.token) | fromJson) -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}

{{/* Predicates for a request the edge ext_proc must see: (dict "s" SETTINGS "config" C). */}}
{{- define "detour.edgeCarriers" -}}
{{- $h := .s.headers -}}
{{- $list := list (include "detour.predicate" (dict "s" .s "kind" "present" "name" $h.detour) | fromJson) (include "detour.predicate" (dict "s" .s "kind" "containsIgnoreCase" "name" $h.baggage "value" $h.baggageMember) | fromJson) (include "detour.predicate" (dict "s" .s "kind" "present" "name" $h.token) | fromJson) -}}
{{- range (.config.aliases | default list) -}}
{{- if hasKey . "baggage" -}}
{{- $list = append $list (include "detour.predicate" (dict "s" $.s "kind" "containsIgnoreCase" "name" $h.baggage "value" .baggage) | fromJson) -}}
{{- else -}}
{{- $list = append $list (include "detour.predicate" (dict "s" $.s "kind" "present" "name" (lower .header)) | fromJson) -}}
{{- end -}}
{{- end -}}
{{- $tokens := dig "edge" "tokens" dict .config -}}
{{- if ne (dig "cookie" true $tokens) false -}}
{{- $list = append $list (include "detour.predicate" (dict "s" .s "kind" "contains" "name" "cookie" "value" $h.tokenCookie) | fromJson) -}}
{{- end -}}
{{- with $tokens.queryParameter -}}
{{- $list = append $list (include "detour.predicate" (dict "s" $.s "kind" "queryParameter" "name" .) | fromJson) -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}

{{/* An HCM early_header_mutation removing a list of header names: (dict "s" SETTINGS "names" LIST). */}}
{{- define "detour.earlyRemoval" -}}
{{- $extension := deepCopy .s.envoy.earlyRemoval -}}
{{- $mutations := list -}}
{{- range .names -}}{{- $mutations = append $mutations (dict "remove" .) -}}{{- end -}}
{{- $_ := set $extension.typed_config "mutations" $mutations -}}
{{- toJson $extension -}}
{{- end -}}

{{/* The alias header names of a config, lower case. */}}
{{- define "detour.aliasHeaders" -}}
{{- $names := list -}}
{{- range (.aliases | default list) -}}{{- if hasKey . "header" -}}{{- $names = append $names (lower .header) -}}{{- end -}}{{- end -}}
{{- toJson $names -}}
{{- end -}}
