{{/* The object name prefix: the release name when it already says netpulse, else <release>-netpulse. */}}
{{- define "netpulse.fullname" -}}
{{- if contains "netpulse" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-netpulse" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; the component's selector labels on top. Call with (dict "ctx" $ "component" "capture"). */}}
{{- define "netpulse.selectorLabels" -}}
app.kubernetes.io/name: netpulse-{{ .component }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end -}}

{{- define "netpulse.labels" -}}
{{ include "netpulse.selectorLabels" . }}
app.kubernetes.io/part-of: netpulse
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version }}
{{- end -}}

{{- define "netpulse.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}

{{/* requests = limits, from one value: the pod is never killed for what it was promised. */}}
{{- define "netpulse.resources" -}}
requests: { cpu: {{ .cpu | quote }}, memory: {{ .memory | quote }} }
limits: { cpu: {{ .cpu | quote }}, memory: {{ .memory | quote }} }
{{- end -}}

{{/* Extra env from a map of NAME: value, in name order. */}}
{{- define "netpulse.envMap" -}}
{{- range $k, $v := . }}
- { name: {{ $k }}, value: {{ $v | toString | quote }} }
{{- end }}
{{- end -}}

{{/* The bus settings of README's Configuration table; secrets through secretKeyRef, files mounted. */}}
{{- define "netpulse.busEnv" -}}
{{- $b := .Values.bus -}}
{{- if gt (int ($b.replicas | default 1)) 1 }}
- { name: NETPULSE_BUS_REPLICAS, value: {{ $b.replicas | quote }} }
{{- end }}
{{- if eq $b.kind "nats" }}
- { name: NETPULSE_BUS, value: nats }
- { name: NETPULSE_NATS_URL, value: {{ $b.nats.url | quote }} }
{{- with $b.nats.auth }}
{{- if .existingSecret }}
{{- if .userKey }}
- name: NETPULSE_NATS_USER
  valueFrom: { secretKeyRef: { name: {{ .existingSecret | quote }}, key: {{ .userKey | quote }} } }
{{- end }}
{{- if .passwordKey }}
- name: NETPULSE_NATS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .existingSecret | quote }}, key: {{ .passwordKey | quote }} } }
{{- end }}
{{- if .tokenKey }}
- name: NETPULSE_NATS_TOKEN
  valueFrom: { secretKeyRef: { name: {{ .existingSecret | quote }}, key: {{ .tokenKey | quote }} } }
{{- end }}
{{- if .credsKey }}
- { name: NETPULSE_NATS_CREDS, value: /etc/netpulse/bus-auth/{{ .credsKey }} }
{{- end }}
{{- end }}
{{- end }}
{{- with $b.nats.tls }}
{{- if .existingSecret }}
{{- if .caKey }}
- { name: NETPULSE_NATS_TLS_CA, value: /etc/netpulse/bus-tls/{{ .caKey }} }
{{- end }}
{{- if .certKey }}
- { name: NETPULSE_NATS_TLS_CERT, value: /etc/netpulse/bus-tls/{{ .certKey }} }
- { name: NETPULSE_NATS_TLS_KEY, value: /etc/netpulse/bus-tls/{{ .keyKey }} }
{{- end }}
{{- end }}
{{- end }}
{{- else if eq $b.kind "kafka" }}
- { name: NETPULSE_BUS, value: kafka }
- { name: NETPULSE_KAFKA_BROKERS, value: {{ $b.kafka.brokers | quote }} }
{{- if $b.kafka.clientId }}
- { name: NETPULSE_KAFKA_CLIENT_ID, value: {{ $b.kafka.clientId | quote }} }
{{- end }}
{{- with $b.kafka.sasl }}
{{- if .mechanism }}
- { name: NETPULSE_KAFKA_SASL_MECHANISM, value: {{ .mechanism | quote }} }
- name: NETPULSE_KAFKA_USERNAME
  valueFrom: { secretKeyRef: { name: {{ required "bus.kafka.sasl.existingSecret is needed with a SASL mechanism" .existingSecret | quote }}, key: {{ .usernameKey | quote }} } }
- name: NETPULSE_KAFKA_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .existingSecret | quote }}, key: {{ .passwordKey | quote }} } }
{{- end }}
{{- end }}
{{- with $b.kafka.tls }}
{{- if .enabled }}
- { name: NETPULSE_KAFKA_TLS, value: "true" }
{{- if and .existingSecret .caKey }}
- { name: NETPULSE_KAFKA_TLS_CA, value: /etc/netpulse/bus-tls/{{ .caKey }} }
{{- end }}
{{- end }}
{{- end }}
{{- else }}
{{- fail (printf "bus.kind must be nats or kafka, got %q" $b.kind) }}
{{- end }}
{{- end -}}

{{/* The Secret holding the bus's TLS files, if any ("" = none). */}}
{{- define "netpulse.busTlsSecret" -}}
{{- if eq .Values.bus.kind "nats" }}{{ .Values.bus.nats.tls.existingSecret }}
{{- else if .Values.bus.kafka.tls.enabled }}{{ .Values.bus.kafka.tls.existingSecret }}
{{- end }}
{{- end -}}

{{/* The Secret holding a NATS .creds file, if any. */}}
{{- define "netpulse.busCredsSecret" -}}
{{- if and (eq .Values.bus.kind "nats") .Values.bus.nats.auth.existingSecret .Values.bus.nats.auth.credsKey }}{{ .Values.bus.nats.auth.existingSecret }}
{{- end }}
{{- end -}}

{{- define "netpulse.busVolumeMounts" -}}
{{- if include "netpulse.busTlsSecret" . }}
- { name: bus-tls, mountPath: /etc/netpulse/bus-tls, readOnly: true }
{{- end }}
{{- if include "netpulse.busCredsSecret" . }}
- { name: bus-auth, mountPath: /etc/netpulse/bus-auth, readOnly: true }
{{- end }}
{{- end -}}

{{- define "netpulse.busVolumes" -}}
{{- with include "netpulse.busTlsSecret" . }}
- name: bus-tls
  secret: { secretName: {{ . | quote }}, defaultMode: 288 } # 0440
{{- end }}
{{- with include "netpulse.busCredsSecret" . }}
- name: bus-auth
  secret: { secretName: {{ . | quote }}, defaultMode: 288 } # 0440
{{- end }}
{{- end -}}

{{/* Best-effort spread of a component's replicas over nodes. */}}
{{- define "netpulse.topologySpread" -}}
topologySpreadConstraints:
  - maxSkew: {{ .ctx.Values.topologySpread.maxSkew }}
    topologyKey: {{ .ctx.Values.topologySpread.topologyKey }}
    whenUnsatisfiable: {{ .ctx.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "netpulse.selectorLabels" . | nindent 8 }}
{{- end -}}

{{/* /healthz and /readyz on the metrics port. */}}
{{- define "netpulse.probes" -}}
readinessProbe:
  httpGet: { path: /readyz, port: metrics }
  periodSeconds: 5
livenessProbe:
  httpGet: { path: /healthz, port: metrics }
  periodSeconds: 10
  failureThreshold: 6
{{- end -}}

{{/* Non-root, nothing to escalate to, read-only root. */}}
{{- define "netpulse.restrictedContainer" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: { drop: [ALL] }
{{- end -}}

{{- define "netpulse.restrictedPod" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.runAsUser }}
  runAsGroup: {{ .Values.runAsUser }}
  fsGroup: {{ .Values.runAsUser }}
  seccompProfile: { type: RuntimeDefault }
{{- end -}}
