{{/* Chart name, overridable. */}}
{{- define "depin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name, at most 63 characters. */}}
{{- define "depin.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "depin.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "depin.labels" -}}
helm.sh/chart: {{ include "depin.chart" . }}
{{ include "depin.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "depin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "depin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "depin.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Fails the release on values that cannot work, with a message saying which. */}}
{{- define "depin.validate" -}}
{{- if and (not .Values.postgres.connectionString) (not .Values.postgres.existingSecret) }}
{{- fail "postgres.connectionString or postgres.existingSecret is required: silos keep clustering, grain state and reminders in PostgreSQL" }}
{{- end }}
{{- if lt (int .Values.replicaCount) 1 }}
{{- fail "replicaCount must be at least 1" }}
{{- end }}
{{- if not (regexMatch "^[a-z0-9-]+$" .Values.orleans.serviceId) }}
{{- fail "orleans.serviceId must be lower-case letters, digits and '-'" }}
{{- end }}
{{- if not (regexMatch "^[a-z0-9-]+$" .Values.orleans.clusterId) }}
{{- fail "orleans.clusterId must be lower-case letters, digits and '-'" }}
{{- end }}
{{- if eq (int .Values.orleans.siloPort) (int .Values.orleans.gatewayPort) }}
{{- fail "orleans.siloPort and orleans.gatewayPort must differ" }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.shutdownTimeoutSeconds) }}
{{- fail "terminationGracePeriodSeconds must exceed shutdownTimeoutSeconds, or Kubernetes kills a silo still handing its grains over" }}
{{- end }}
{{- if and .Values.pdb.create (ge (int .Values.pdb.maxUnavailable) (int .Values.replicaCount)) (gt (int .Values.replicaCount) 1) }}
{{- fail "pdb.maxUnavailable must be below replicaCount, or the budget protects nothing" }}
{{- end }}
{{- end }}
