{{/* The one image of both components: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "metallb-ts.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The ConfigMap both components read (--config): a user-managed one, or `config`. */}}
{{- define "metallb-ts.configName" -}}
{{ .Values.existingConfigMap | default "config" }}
{{- end -}}

{{/* A liveness or readiness probe on /metrics at the `monitoring` port. Argument: the probe's values. */}}
{{- define "metallb-ts.probe" -}}
httpGet:
  path: /metrics
  port: monitoring
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
successThreshold: {{ .successThreshold }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}

{{/* Pod annotations: Prometheus' scrape annotations (if enabled) plus the component's podAnnotations. */}}
{{- define "metallb-ts.podAnnotations" -}}
{{- $annotations := dict -}}
{{- if .root.Values.prometheus.scrapeAnnotations -}}
{{- $_ := set $annotations "prometheus.io/scrape" "true" -}}
{{- $_ := set $annotations "prometheus.io/port" (toString .root.Values.prometheus.metricsPort) -}}
{{- end -}}
{{- $annotations = merge (deepCopy .component.podAnnotations) $annotations -}}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The args both components take (v0.11's flags). Argument: dict root, component values, name. */}}
{{- define "metallb-ts.args" -}}
- {{ .name }}
- --port={{ .root.Values.prometheus.metricsPort }}
- --config={{ include "metallb-ts.configName" .root }}
- --log-level={{ .component.logLevel }}
{{- end -}}
