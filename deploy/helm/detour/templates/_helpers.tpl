{{/*
Helpers of the detour chart. The objects and names follow packages/cli/src/kubernetes/ (the
`detour kubernetes` generator); test/kubernetes-helm-chart.test.ts checks that both render the
same objects. Settings and Envoy fragments come from files/detour-settings.json, which that
generator writes.
*/}}

{{/* Namespace of the topology's services and of detour's objects: values.namespace, else the release's. */}}
{{- define "detour.namespace" -}}
{{- default .Release.Namespace .Values.namespace -}}
{{- end -}}

{{/* files/detour-settings.json as a map (JSON text; callers use fromJson). */}}
{{- define "detour.settings" -}}
{{- .Files.Get "files/detour-settings.json" -}}
{{- end -}}

{{/* The server config (values.serverConfig) as JSON text, or a clear failure. */}}
{{- define "detour.config" -}}
{{- $text := required "serverConfig is required: write the values with `detour kubernetes --topology detour.yaml --helm-values`" .Values.serverConfig -}}
{{- $config := fromYaml $text -}}
{{- if hasKey $config "Error" -}}
{{- fail (printf "serverConfig is not YAML: %s" (get $config "Error")) -}}
{{- end -}}
{{- if not (kindIs "map" $config.services) -}}
{{- fail "serverConfig has no services: it must be a detour.yaml (detour kubernetes --helm-values writes it)" -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{/* Labels of an object detour owns: (dict "component" C "server" BOOL). */}}
{{- define "detour.labels" -}}
{{- $labels := dict "app.kubernetes.io/component" .component "app.kubernetes.io/part-of" "detour" "app.kubernetes.io/managed-by" "detour" -}}
{{- if .server -}}
{{- $_ := set $labels "app.kubernetes.io/name" "detour-ext-proc" -}}
{{- end -}}
{{- toJson $labels -}}
{{- end -}}

{{/* Metadata of an object detour owns: (dict "name" N "namespace" NS "component" C "server" BOOL). */}}
{{- define "detour.metadata" -}}
{{- toJson (dict "name" .name "namespace" .namespace "labels" (include "detour.labels" . | fromJson)) -}}
{{- end -}}

{{/* The server pods' selector. */}}
{{- define "detour.serverSelector" -}}
{{- toJson (dict "app.kubernetes.io/name" "detour-ext-proc" "app.kubernetes.io/part-of" "detour") -}}
{{- end -}}

{{/*
A DNS-1035 label from a list of parts joined by '-': kept when it already is one, else folded to
lower case and '-', shortened, and given the first 8 hex digits of sha256(parts joined by '/').
*/}}
{{- define "detour.dnsLabelName" -}}
{{- $exact := join "-" . -}}
{{- $folded := regexReplaceAll "[^a-z0-9-]" (lower $exact) "-" -}}
{{- if and (eq $folded $exact) (le (len $folded) 63) (regexMatch "^[a-z]" $folded) (not (hasSuffix "-" $folded)) -}}
{{- $folded -}}
{{- else -}}
{{- printf "%s-%s" (regexReplaceAll "-+$" (trunc 54 $folded) "") (trunc 8 (sha256sum (join "/" .))) -}}
{{- end -}}
{{- end -}}

{{/* The DestinationRule subset of a version: the version when it is a DNS-1123 label, else a label made from it. */}}
{{- define "detour.subsetName" -}}
{{- $folded := regexReplaceAll "[^a-z0-9-]" (lower .) "-" -}}
{{- if and (eq $folded .) (le (len $folded) 63) (regexMatch "^[a-z0-9]" $folded) (not (hasSuffix "-" $folded)) -}}
{{- $folded -}}
{{- else -}}
{{- include "detour.dnsLabelName" (list "v" .) -}}
{{- end -}}
{{- end -}}

{{/* A version as the value of the version label, or a failure naming it: (dict "service" S "version" V "label" L). */}}
{{- define "detour.versionLabelValue" -}}
{{- if not (regexMatch "^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$" .version) -}}
{{- fail (printf "services.%s.versions.%s: '%s' cannot be the value of the pod label '%s' (Kubernetes label values end in a letter or digit): rename the version" .service .version .version .label) -}}
{{- end -}}
{{- .version -}}
{{- end -}}

{{/* `pricing.shop.svc.cluster.local`: (dict "service" S "root" $). */}}
{{- define "detour.serviceHost" -}}
{{- printf "%s.%s.svc.%s" .service (include "detour.namespace" .root) .root.Values.clusterDomain -}}
{{- end -}}

{{/* True (non-empty) when detour renders the routing object KIND for SERVICE: (dict "service" S "kind" K "root" $). */}}
{{- define "detour.routes" -}}
{{- $skip := has .service .root.Values.skipRoutes -}}
{{- range .root.Values.leaveOut -}}
{{- if and (eq .service $.service) (eq .kind $.kind) -}}{{- $skip = true -}}{{- end -}}
{{- end -}}
{{- if not $skip -}}yes{{- end -}}
{{- end -}}

{{/* The VirtualService http routes of a service: (dict "config" C "service" S "root" $ "route" ROUTE_HEADER) (istio-routes.ts detourHttpRoutes). */}}
{{- define "detour.httpRoutes" -}}
{{- $spec := get .config.services .service -}}
{{- $host := include "detour.serviceHost" (dict "service" .service "root" .root) -}}
{{- $routes := list -}}
{{- range $version := keys $spec.versions | sortAlpha -}}
{{- $subset := include "detour.subsetName" $version -}}
{{- $routes = append $routes (dict "name" (printf "detour-%s" $subset) "match" (list (dict "headers" (dict $.route (dict "exact" $version)))) "route" (list (dict "destination" (dict "host" $host "subset" $subset)))) -}}
{{- end -}}
{{- $routes = append $routes (dict "name" "detour-baseline" "route" (list (dict "destination" (dict "host" $host "subset" (include "detour.subsetName" $spec.baseline))))) -}}
{{- toJson $routes -}}
{{- end -}}
