{{/*
Expand the name of the chart.
*/}}
{{- define "stripe-salesforce-sync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "stripe-salesforce-sync.fullname" -}}
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

{{/*
Name of a component's objects: fullname cut so that "-<component>" still fits in 63 characters.
Usage: include "stripe-salesforce-sync.componentName" (list . "webhook")
*/}}
{{- define "stripe-salesforce-sync.componentName" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- printf "%s-%s" (include "stripe-salesforce-sync.fullname" $root | trunc (int (sub 62 (len $component))) | trimSuffix "-") $component }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "stripe-salesforce-sync.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "stripe-salesforce-sync.labels" -}}
helm.sh/chart: {{ include "stripe-salesforce-sync.chart" . }}
{{ include "stripe-salesforce-sync.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "stripe-salesforce-sync.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "stripe-salesforce-sync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stripe-salesforce-sync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of a component's objects.
Usage: include "stripe-salesforce-sync.componentLabels" (list . "webhook")
*/}}
{{- define "stripe-salesforce-sync.componentLabels" -}}
{{ include "stripe-salesforce-sync.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Selector labels of a component's pods.
Usage: include "stripe-salesforce-sync.componentSelectorLabels" (list . "webhook")
*/}}
{{- define "stripe-salesforce-sync.componentSelectorLabels" -}}
{{ include "stripe-salesforce-sync.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Name of a component's ServiceAccount: each component has its own (and its own IAM role).
Usage: include "stripe-salesforce-sync.serviceAccountName" (list . "webhook")
*/}}
{{- define "stripe-salesforce-sync.serviceAccountName" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $sa := (index $root.Values $component).serviceAccount }}
{{- if $sa.create }}
{{- default (include "stripe-salesforce-sync.componentName" (list $root $component)) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/*
The image to use
*/}}
{{- define "stripe-salesforce-sync.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Name of the development Secret created from secrets.values.
*/}}
{{- define "stripe-salesforce-sync.devSecretName" -}}
{{- include "stripe-salesforce-sync.componentName" (list . "dev-secrets") }}
{{- end }}

{{/*
Secret holding the Stripe keys.
*/}}
{{- define "stripe-salesforce-sync.stripeSecretName" -}}
{{- if .Values.secrets.stripe.existingSecret }}
{{- .Values.secrets.stripe.existingSecret }}
{{- else if .Values.secrets.create }}
{{- include "stripe-salesforce-sync.devSecretName" . }}
{{- end }}
{{- end }}

{{/*
Secret holding the Salesforce credentials.
*/}}
{{- define "stripe-salesforce-sync.salesforceSecretName" -}}
{{- if .Values.secrets.salesforce.existingSecret }}
{{- .Values.secrets.salesforce.existingSecret }}
{{- else if .Values.secrets.create }}
{{- include "stripe-salesforce-sync.devSecretName" . }}
{{- end }}
{{- end }}

{{/*
Name of the bundled Redis objects, as the Bitnami chart computes it (common.names.fullname with the
chart name "redis"): redis.fullnameOverride, else "<release>-redis" (or the release name when it
already contains "redis"). Kept here so the chart renders without the subchart too.
*/}}
{{- define "stripe-salesforce-sync.redisFullname" -}}
{{- if .Values.redis.fullnameOverride }}
{{- .Values.redis.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "redis" .Values.redis.nameOverride }}
{{- $releaseName := regexReplaceAll "(-?[^a-z\\d\\-])+-?" (lower .Release.Name) "-" }}
{{- if contains $name $releaseName }}
{{- $releaseName | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $releaseName $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
REDIS_URL: the Bitnami master service of this release, or externalRedis.url.
*/}}
{{- define "stripe-salesforce-sync.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- $port := dig "master" "service" "ports" "redis" 6379 (.Values.redis | toYaml | fromYaml) }}
{{- printf "redis://%s-master.%s.svc.%s:%v/0" (include "stripe-salesforce-sync.redisFullname" .) .Release.Namespace .Values.clusterDomain $port }}
{{- else }}
{{- .Values.externalRedis.url }}
{{- end }}
{{- end }}

{{/*
Secret holding the Redis password; empty when Redis runs without a password.
*/}}
{{- define "stripe-salesforce-sync.redisSecretName" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}
{{- default (include "stripe-salesforce-sync.redisFullname" .) .Values.redis.auth.existingSecret }}
{{- end }}
{{- else }}
{{- .Values.externalRedis.existingSecret }}
{{- end }}
{{- end }}

{{/*
Key of the Redis password in its Secret (the Bitnami chart's generated Secret uses "redis-password").
*/}}
{{- define "stripe-salesforce-sync.redisSecretKey" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.existingSecret }}
{{- .Values.redis.auth.existingSecretPasswordKey }}
{{- else }}
{{- "redis-password" }}
{{- end }}
{{- else }}
{{- .Values.externalRedis.existingSecretPasswordKey }}
{{- end }}
{{- end }}

{{/*
Worker grace period: derived from the drain bound unless set.
*/}}
{{- define "stripe-salesforce-sync.workerGracePeriod" -}}
{{- if kindIs "invalid" .Values.worker.terminationGracePeriodSeconds }}
{{- add (int .Values.worker.shutdownTimeoutSeconds) 15 }}
{{- else }}
{{- int .Values.worker.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Webhook grace period: derived from the drain delay unless set (drain delay, then up to ~10 s to stop).
*/}}
{{- define "stripe-salesforce-sync.webhookGracePeriod" -}}
{{- if kindIs "invalid" .Values.webhook.terminationGracePeriodSeconds }}
{{- add (int .Values.webhook.drainDelaySeconds) 20 }}
{{- else }}
{{- int .Values.webhook.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Environment shared by both components (non-secret settings).
*/}}
{{- define "stripe-salesforce-sync.sharedEnv" -}}
- name: NODE_ENV
  value: {{ .Values.config.nodeEnv | quote }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: SQS_QUEUE_URL
  value: {{ .Values.config.sqs.queueUrl | quote }}
- name: AWS_REGION
  value: {{ .Values.config.aws.region | quote }}
{{- with .Values.config.sqs.endpointUrl }}
- name: AWS_ENDPOINT_URL_SQS
  value: {{ . | quote }}
{{- end }}
{{- with .Values.secrets.aws.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.secrets.aws.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.secrets.aws.secretAccessKeyKey }}
{{- end }}
{{- with .Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
OpenTelemetry settings of one component, (list $ "webhook"|"worker"); nothing when tracing is off.
The SDK reads these standard variables itself. The pod and node names come from the downward API,
under the names the OpenTelemetry operator uses, and are referenced from OTEL_RESOURCE_ATTRIBUTES.
*/}}
{{- define "stripe-salesforce-sync.tracingEnv" -}}
{{- $ := index . 0 }}
{{- $component := index . 1 }}
{{- with $.Values.tracing }}
{{- if .enabled }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .otlp.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .otlp.protocol | quote }}
{{- with .otlp.headersSecret.name }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.tracing.otlp.headersSecret.key }}
{{- end }}
- name: OTEL_TRACES_SAMPLER
  value: {{ .sampler.type | quote }}
{{- if not (kindIs "invalid" .sampler.arg) }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .sampler.arg | quote }}
{{- end }}
{{- with .serviceName }}
- name: OTEL_SERVICE_NAME
  value: {{ . | quote }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: OTEL_RESOURCE_ATTRIBUTES_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- $attributes := list (printf "k8s.namespace.name=%s" $.Release.Namespace) (printf "k8s.deployment.name=%s" (include "stripe-salesforce-sync.componentName" (list $ $component))) "k8s.pod.name=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)" "k8s.node.name=$(OTEL_RESOURCE_ATTRIBUTES_NODE_NAME)" (printf "service.version=%s" $.Chart.AppVersion) }}
{{- range $key, $value := .resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%v" $key $value) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Volume and mount for /tmp, the only writable path.
*/}}
{{- define "stripe-salesforce-sync.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/*
Topology spread constraints with the component's selector labels filled in.
Usage: include "stripe-salesforce-sync.topologySpread" (list . "webhook" .Values.webhook.topologySpreadConstraints)
*/}}
{{- define "stripe-salesforce-sync.topologySpread" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $constraints := list }}
{{- range (index . 2) }}
{{- $c := deepCopy . }}
{{- if not (hasKey $c "labelSelector") }}
{{- $_ := set $c "labelSelector" (dict "matchLabels" (include "stripe-salesforce-sync.componentSelectorLabels" (list $root $component) | fromYaml)) }}
{{- end }}
{{- $constraints = append $constraints $c }}
{{- end }}
{{- with $constraints }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/*
Last path segment of a queue URL (the queue name CloudWatch reports).
*/}}
{{- define "stripe-salesforce-sync.queueNameOf" -}}
{{- regexReplaceAll "^.*/" (trimSuffix "/" .) "" }}
{{- end }}

{{/*
Fewest replicas a component runs (PodDisruptionBudgets and absence alerts depend on it).
Usage: include "stripe-salesforce-sync.replicaFloor" (list . "webhook")
*/}}
{{- define "stripe-salesforce-sync.replicaFloor" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- if eq $component "webhook" }}
{{- ternary $root.Values.webhook.autoscaling.minReplicas $root.Values.webhook.replicaCount $root.Values.webhook.autoscaling.enabled | int }}
{{- else }}
{{- $as := $root.Values.worker.autoscaling }}
{{- if $root.Values.keda.enabled }}
{{- if kindIs "invalid" $as.idleReplicaCount }}{{ $as.minReplicaCount | int }}{{ else }}{{ min (int $as.minReplicaCount) (int $as.idleReplicaCount) }}{{ end }}
{{- else }}
{{- $root.Values.worker.replicaCount | int }}
{{- end }}
{{- end }}
{{- end }}

{{/*
PromQL label matchers selecting one component's series of this release: its namespace, and pods
named after its Deployment (the Prometheus operator and the usual kubernetes_sd relabelings add
both labels, whatever scrapes the pods).
Usage: include "stripe-salesforce-sync.seriesSelector" (list . "worker")
*/}}
{{- define "stripe-salesforce-sync.seriesSelector" -}}
{{- $root := index . 0 }}
{{- printf "namespace=%q, pod=~%q" $root.Release.Namespace (printf "%s-.+" (include "stripe-salesforce-sync.componentName" .)) }}
{{- end }}

{{/*
Existing Secrets a component mounts, comma-separated (for Stakater Reloader's annotation).
Usage: include "stripe-salesforce-sync.mountedSecrets" (list . "worker")
*/}}
{{- define "stripe-salesforce-sync.mountedSecrets" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $names := list }}
{{- if eq $component "webhook" }}
{{- $names = append $names (include "stripe-salesforce-sync.stripeSecretName" $root) }}
{{- else }}
{{- if $root.Values.secrets.stripe.apiKeyKey }}{{ $names = append $names (include "stripe-salesforce-sync.stripeSecretName" $root) }}{{ end }}
{{- $names = append $names (include "stripe-salesforce-sync.salesforceSecretName" $root) }}
{{- $names = append $names (include "stripe-salesforce-sync.redisSecretName" $root) }}
{{- end }}
{{- with $root.Values.secrets.aws.existingSecret }}{{ $names = append $names . }}{{ end }}
{{- $names | compact | uniq | sortAlpha | join "," }}
{{- end }}

{{/*
Pod annotations shared by both components: a checksum of the chart's own development Secret, so
changing secrets.values rolls the pods (existing Secrets are covered by secrets.reloaderAnnotations).
*/}}
{{- define "stripe-salesforce-sync.secretChecksum" -}}
{{- if .Values.secrets.create }}
checksum/dev-secrets: {{ include (print .Template.BasePath "/dev-secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/*
Bytes of a Kubernetes memory quantity ("512Mi", "1G", "536870912"); empty when it is not one.
*/}}
{{- define "stripe-salesforce-sync.quantityBytes" -}}
{{- $q := toString . }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $q }}
{{- $units := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 }}
{{- $unit := trimPrefix $number $q }}
{{- if and $number (hasKey $units $unit) }}
{{- mulf (float64 $number) (index $units $unit) }}
{{- end }}
{{- end }}

{{/*
Bytes of a Redis memory setting ("410mb", "1gb", "500m"; units are case-insensitive, "m" is 10^6
and "mb" 2^20); empty when it is not one.
*/}}
{{- define "stripe-salesforce-sync.redisBytes" -}}
{{- $q := lower (toString .) }}
{{- $number := regexFind "^[0-9]+" $q }}
{{- $units := dict "" 1 "k" 1000 "kb" 1024 "m" 1000000 "mb" 1048576 "g" 1000000000 "gb" 1073741824 }}
{{- $unit := trimPrefix $number $q }}
{{- if and $number (hasKey $units $unit) }}
{{- mulf (float64 $number) (index $units $unit) }}
{{- end }}
{{- end }}
