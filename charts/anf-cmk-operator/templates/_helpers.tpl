{{/* Chart name, truncated to the 63 characters Kubernetes allows in names. */}}
{{- define "anf-cmk-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release name alone when it already contains the chart name. */}}
{{- define "anf-cmk-operator.fullname" -}}
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

{{- define "anf-cmk-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "anf-cmk-operator.labels" -}}
helm.sh/chart: {{ include "anf-cmk-operator.chart" . }}
{{ include "anf-cmk-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "anf-cmk-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "anf-cmk-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "anf-cmk-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "anf-cmk-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "anf-cmk-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Name of the metrics Service; Prometheus Operator puts it in the `service` label of every series. */}}
{{- define "anf-cmk-operator.metricsServiceName" -}}
{{- printf "%s-metrics" (include "anf-cmk-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* PromQL label matchers that select this release's series in alerts. */}}
{{- define "anf-cmk-operator.metricsSelector" -}}
{{- printf "namespace=\"%s\",service=\"%s\"" .Release.Namespace (include "anf-cmk-operator.metricsServiceName" .) }}
{{- end }}

{{/* Where git-sync keeps its checkout; the operator reads through the link git-sync swaps atomically. */}}
{{- define "anf-cmk-operator.gitSyncRoot" -}}/git{{- end }}
{{- define "anf-cmk-operator.gitSyncLink" -}}current{{- end }}

{{/* The path passed to `run --manifests`. */}}
{{- define "anf-cmk-operator.manifestsPath" -}}
{{- $m := .Values.manifests }}
{{- if eq $m.source "gitSync" }}
{{- $base := printf "%s/%s" (include "anf-cmk-operator.gitSyncRoot" .) (include "anf-cmk-operator.gitSyncLink" .) }}
{{- if $m.gitSync.path }}{{ printf "%s/%s" $base (trimAll "/" $m.gitSync.path) }}{{ else }}{{ $base }}{{ end }}
{{- else if eq $m.source "volume" }}
{{- if $m.volume.subPath }}{{ printf "/manifests/%s" (trimAll "/" $m.volume.subPath) }}{{ else }}/manifests{{ end }}
{{- else }}/manifests{{- end }}
{{- end }}

{{- define "anf-cmk-operator.manifestsConfigMapName" -}}
{{- default (printf "%s-manifests" (include "anf-cmk-operator.fullname" .)) .Values.manifests.configMap.existingConfigMap }}
{{- end }}

{{/* "true" when the documents are the anf-cmk.io custom resources (source: kubernetes). */}}
{{- define "anf-cmk-operator.kubernetesSource" -}}
{{- if eq .Values.source "kubernetes" }}true{{ end }}
{{- end }}

{{/* "true" when replicas elect a leader through a Lease (the kubernetes source with leaderElection.enabled). */}}
{{- define "anf-cmk-operator.leaderElection" -}}
{{- if and (include "anf-cmk-operator.kubernetesSource" .) .Values.kubernetes.leaderElection.enabled }}true{{ end }}
{{- end }}

{{/* Replicas: as set, else 2 with leader election and 1 without; more than 1 without a leader is refused. */}}
{{- define "anf-cmk-operator.replicas" -}}
{{- $elected := include "anf-cmk-operator.leaderElection" . }}
{{- $n := int (.Values.replicas | default (ternary 2 1 (eq $elected "true"))) }}
{{- if and (gt $n 1) (not $elected) }}
{{- fail "replicas > 1 needs source: kubernetes with kubernetes.leaderElection.enabled (two operators must never act on Azure at once)" }}
{{- end }}
{{- $n }}
{{- end }}

{{/* The release's leader-election Lease (operator.yaml leaseName; the chart's Role is limited to it). */}}
{{- define "anf-cmk-operator.leaseName" -}}{{ include "anf-cmk-operator.fullname" . }}{{- end }}

{{/* The namespace whose custom resources the operator watches, and where its Lease is: the release's by default. */}}
{{- define "anf-cmk-operator.watchedNamespace" -}}{{ .Values.kubernetes.namespace | default .Release.Namespace }}{{- end }}
