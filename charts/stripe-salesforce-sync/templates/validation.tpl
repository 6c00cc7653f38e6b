{{/*
Reject contradictory or incomplete settings before anything renders.
Each message names the values to change.
*/}}
{{- define "stripe-salesforce-sync.validate" -}}
{{- $errors := list }}

{{- if not .Values.config.sqs.queueUrl }}
{{- $errors = append $errors "config.sqs.queueUrl is required: the SQS queue both components and the KEDA trigger use." }}
{{- end }}
{{- if not .Values.config.aws.region }}
{{- $errors = append $errors "config.aws.region is required: the AWS region of the queue." }}
{{- end }}

{{- if and .Values.redis.enabled .Values.externalRedis.url }}
{{- $errors = append $errors "redis.enabled and externalRedis.url are both set: choose the bundled Redis or an external one, not both." }}
{{- end }}
{{- if and (not .Values.redis.enabled) (not .Values.externalRedis.url) }}
{{- $errors = append $errors "no Redis configured: set redis.enabled=true or externalRedis.url." }}
{{- end }}
{{- if regexMatch "^rediss?://[^/@]*:[^/@]+@" .Values.externalRedis.url }}
{{- $errors = append $errors "externalRedis.url carries a password: remove it from the URL and put it in externalRedis.existingSecret." }}
{{- end }}

{{- with .Values.worker.eventBridge }}
{{- if and .sources (not .awsAccounts) }}
{{- $errors = append $errors "worker.eventBridge.sources needs worker.eventBridge.awsAccounts: the AWS accounts of the event bus the envelopes come through." }}
{{- end }}
{{- if and .awsAccounts (not .sources) }}
{{- $errors = append $errors "worker.eventBridge.awsAccounts needs worker.eventBridge.sources: the Stripe event destinations (aws.partner/stripe.com/<id>) to accept." }}
{{- end }}
{{- end }}
{{- if and (not .Values.webhook.enabled) .Values.worker.enabled (not .Values.worker.eventBridge.sources) }}
{{- $errors = append $errors "webhook.enabled=false with no worker.eventBridge.sources: nothing would put Stripe events on the queue; keep the webhook, or deliver through Amazon EventBridge." }}
{{- end }}

{{- if and .Values.tracing.enabled (not .Values.tracing.otlp.endpoint) }}
{{- $errors = append $errors "tracing.enabled needs tracing.otlp.endpoint: the OTLP collector both components export their traces to." }}
{{- end }}

{{- if and .Values.keda.enabled (not .Values.worker.autoscaling.enabled) }}
{{- $errors = append $errors "keda.enabled=true conflicts with worker.autoscaling.enabled=false: KEDA would own the worker's replicas; set both true, or both false to run worker.replicaCount." }}
{{- end }}
{{- if and .Values.worker.autoscaling.enabled (not .Values.keda.enabled) }}
{{- $errors = append $errors "worker.autoscaling.enabled=true needs keda.enabled=true: the worker scales on queue depth through KEDA; set both false to run worker.replicaCount." }}
{{- end }}
{{- if gt (int .Values.worker.autoscaling.minReplicaCount) (int .Values.worker.autoscaling.maxReplicaCount) }}
{{- $errors = append $errors "worker.autoscaling.minReplicaCount is above worker.autoscaling.maxReplicaCount." }}
{{- end }}
{{- if and .Values.keda.enabled (eq .Values.keda.triggerAuthentication.type "secret") (not .Values.keda.triggerAuthentication.secret.name) }}
{{- $errors = append $errors "keda.triggerAuthentication.type=secret needs keda.triggerAuthentication.secret.name: the existing Secret with the AWS keys KEDA reads the queue with." }}
{{- end }}
{{- if and .Values.keda.enabled (eq .Values.keda.triggerAuthentication.type "podIdentity") (not .Values.keda.triggerAuthentication.podIdentity.roleArn) (not .Values.keda.triggerAuthentication.podIdentity.identityOwner) }}
{{- $errors = append $errors "keda.triggerAuthentication.type=podIdentity needs podIdentity.roleArn or podIdentity.identityOwner." }}
{{- end }}

{{- if not (kindIs "invalid" .Values.worker.terminationGracePeriodSeconds) }}
{{- if le (int .Values.worker.terminationGracePeriodSeconds) (int .Values.worker.shutdownTimeoutSeconds) }}
{{- $errors = append $errors (printf "worker.terminationGracePeriodSeconds (%v) must be above worker.shutdownTimeoutSeconds (%v), or Kubernetes kills the worker mid-drain; leave it empty to derive shutdownTimeoutSeconds + 15." .Values.worker.terminationGracePeriodSeconds .Values.worker.shutdownTimeoutSeconds) }}
{{- end }}
{{- end }}
{{- if not (kindIs "invalid" .Values.webhook.terminationGracePeriodSeconds) }}
{{- if le (int .Values.webhook.terminationGracePeriodSeconds) (add (int .Values.webhook.drainDelaySeconds) 10) }}
{{- $errors = append $errors (printf "webhook.terminationGracePeriodSeconds (%v) must be above webhook.drainDelaySeconds + 10 (%v): the webhook answers 503 on readiness for the drain delay, then needs about 10 s to stop; leave it empty to derive drainDelaySeconds + 20." .Values.webhook.terminationGracePeriodSeconds (add (int .Values.webhook.drainDelaySeconds) 10)) }}
{{- end }}
{{- end }}
{{- if gt (int .Values.worker.shutdownTimeoutSeconds) (int .Values.worker.visibilityTimeoutSeconds) }}
{{- $errors = append $errors "worker.shutdownTimeoutSeconds is above worker.visibilityTimeoutSeconds: messages still draining would become visible to other workers." }}
{{- end }}

{{- with .Values.webhook.ingress }}
{{- if .enabled }}
{{- if and .tls (not .hosts) }}
{{- $errors = append $errors "webhook.ingress.tls is set but webhook.ingress.hosts is empty: TLS needs the host names it serves." }}
{{- end }}
{{- range .tls }}
{{- if not .hosts }}
{{- $errors = append $errors "every webhook.ingress.tls entry needs hosts." }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.webhook.autoscaling.enabled (gt (int .Values.webhook.autoscaling.minReplicas) (int .Values.webhook.autoscaling.maxReplicas)) }}
{{- $errors = append $errors "webhook.autoscaling.minReplicas is above webhook.autoscaling.maxReplicas." }}
{{- end }}

{{- if and .Values.webhook.enabled (not (include "stripe-salesforce-sync.stripeSecretName" .)) }}
{{- $errors = append $errors "the webhook needs the Stripe signing secret: set secrets.stripe.existingSecret (or secrets.create=true for development only)." }}
{{- end }}
{{- if .Values.worker.enabled }}
{{- if not (include "stripe-salesforce-sync.salesforceSecretName" .) }}
{{- $errors = append $errors "the worker needs Salesforce credentials: set secrets.salesforce.existingSecret (or secrets.create=true for development only)." }}
{{- end }}
{{- $sf := .Values.secrets.salesforce }}
{{- $flow := .Values.config.salesforce.authFlow }}
{{- if and (ne $flow "client_credentials") (not .Values.config.salesforce.username) }}
{{- $errors = append $errors (printf "config.salesforce.authFlow=%s needs config.salesforce.username." $flow) }}
{{- end }}
{{- if and (eq $flow "jwt") (not $sf.privateKeyKey) }}
{{- $errors = append $errors "config.salesforce.authFlow=jwt needs secrets.salesforce.privateKeyKey: the key of the PEM private key in the Salesforce Secret." }}
{{- end }}
{{- if and (eq $flow "password") (not $sf.passwordKey) }}
{{- $errors = append $errors "config.salesforce.authFlow=password needs secrets.salesforce.passwordKey." }}
{{- end }}
{{- if and (has $flow (list "client_credentials" "password")) (not $sf.clientSecretKey) }}
{{- $errors = append $errors (printf "config.salesforce.authFlow=%s needs secrets.salesforce.clientSecretKey." $flow) }}
{{- end }}
{{- end }}
{{- if and .Values.secrets.create .Values.secrets.values.stripeApiKey (not .Values.secrets.stripe.apiKeyKey) }}
{{- $errors = append $errors "secrets.values.stripeApiKey is set but secrets.stripe.apiKeyKey is empty: set secrets.stripe.apiKeyKey (e.g. api-key) to store and mount the Stripe API key." }}
{{- end }}
{{- if .Values.serviceAccount }}
{{- $errors = append $errors "serviceAccount.* was replaced by one ServiceAccount per component: move the settings to webhook.serviceAccount and worker.serviceAccount (each with its own IRSA role annotation)." }}
{{- end }}
{{- if and .Values.secrets.create (or .Values.secrets.stripe.existingSecret .Values.secrets.salesforce.existingSecret) }}
{{- $errors = append $errors "secrets.create=true conflicts with secrets.stripe.existingSecret / secrets.salesforce.existingSecret: use existing Secrets or the development Secret, not both." }}
{{- end }}
{{- if and (not .Values.webhook.enabled) (not .Values.worker.enabled) }}
{{- $errors = append $errors "webhook.enabled and worker.enabled are both false: nothing to deploy." }}
{{- end }}

{{- /* Autoscaling of the worker by KEDA. */}}
{{- $as := .Values.worker.autoscaling }}
{{- if and .Values.keda.enabled (not (kindIs "invalid" $as.idleReplicaCount)) (ge (int $as.idleReplicaCount) (int $as.minReplicaCount)) }}
{{- $errors = append $errors (printf "worker.autoscaling.idleReplicaCount (%v) must be below worker.autoscaling.minReplicaCount (%v): KEDA only idles below the minimum." $as.idleReplicaCount $as.minReplicaCount) }}
{{- end }}
{{- if and .Values.keda.enabled $as.fallback.enabled (gt (int $as.fallback.replicas) (int $as.maxReplicaCount)) }}
{{- $errors = append $errors (printf "worker.autoscaling.fallback.replicas (%v) is above worker.autoscaling.maxReplicaCount (%v): the HPA would never reach it." $as.fallback.replicas $as.maxReplicaCount) }}
{{- end }}

{{- /* PodDisruptionBudgets that would block every node drain. */}}
{{- range $component := list "webhook" "worker" }}
{{- $pdb := (index $.Values $component).podDisruptionBudget }}
{{- if and (index $.Values $component).enabled $pdb.enabled }}
{{- $hasMin := not (kindIs "invalid" $pdb.minAvailable) }}
{{- $hasMax := not (kindIs "invalid" $pdb.maxUnavailable) }}
{{- if and $hasMin $hasMax }}
{{- $errors = append $errors (printf "%s.podDisruptionBudget sets both minAvailable and maxUnavailable: set one (and the other to null)." $component) }}
{{- else if and (not $hasMin) (not $hasMax) }}
{{- $errors = append $errors (printf "%s.podDisruptionBudget sets neither minAvailable nor maxUnavailable." $component) }}
{{- else if and $hasMin (kindIs "float64" $pdb.minAvailable) }}
{{- $floor := int (include "stripe-salesforce-sync.replicaFloor" (list $ $component)) }}
{{- if ge (int $pdb.minAvailable) $floor }}
{{- $errors = append $errors (printf "%s.podDisruptionBudget.minAvailable (%v) is not below the %s's fewest replicas (%v): it would block every node drain; use maxUnavailable, or more replicas." $component $pdb.minAvailable $component $floor) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- /* The bundled Redis: names, image, and a configuration that makes it a bounded cache. */}}
{{- if .Values.redis.enabled }}
{{- if and .Values.redis.clusterDomain (ne .Values.redis.clusterDomain .Values.clusterDomain) }}
{{- $errors = append $errors (printf "redis.clusterDomain (%s) differs from clusterDomain (%s): set both to the cluster's DNS domain." .Values.redis.clusterDomain .Values.clusterDomain) }}
{{- end }}
{{- $image := .Values.redis.image | default dict }}
{{- if and (hasPrefix "bitnamilegacy/" ($image.repository | default "")) (not (dig "security" "allowInsecureImages" false (.Values.global | default dict))) }}
{{- $errors = append $errors (printf "redis.image.repository=%s needs global.security.allowInsecureImages=true: the Bitnami chart refuses images outside docker.io/bitnami/ without it (see README \"Redis image\")." $image.repository) }}
{{- end }}
{{- if not .Values.redis.existingConfigmap }}
{{- $conf := .Values.redis.commonConfiguration | default "" }}
{{- $maxmemory := regexReplaceAll "^\\s*maxmemory\\s+" (regexFind "(?m)^\\s*maxmemory\\s+\\S+" $conf) "" }}
{{- $policy := regexReplaceAll "^\\s*maxmemory-policy\\s+" (regexFind "(?m)^\\s*maxmemory-policy\\s+\\S+" $conf) "" }}
{{- $limit := dig "master" "resources" "limits" "memory" "" (.Values.redis | toYaml | fromYaml) }}
{{- $maxBytes := include "stripe-salesforce-sync.redisBytes" $maxmemory }}
{{- $limitBytes := include "stripe-salesforce-sync.quantityBytes" $limit }}
{{- if not $maxBytes }}
{{- $errors = append $errors "redis.commonConfiguration sets no maxmemory: without it Redis grows until the container is OOM-killed; set maxmemory to about 80% of redis.master.resources.limits.memory." }}
{{- else if not $limitBytes }}
{{- $errors = append $errors "redis.master.resources.limits.memory is not set: maxmemory in redis.commonConfiguration must stay about 80% of a memory limit." }}
{{- else }}
{{- $ratio := divf $maxBytes $limitBytes }}
{{- if or (lt $ratio 0.5) (gt $ratio 0.9) }}
{{- $errors = append $errors (printf "maxmemory %s in redis.commonConfiguration is %.0f%% of redis.master.resources.limits.memory (%s): keep it about 80%% (50-90%%), leaving room for the AOF rewrite fork, buffers and fragmentation." $maxmemory (mulf $ratio 100) $limit) }}
{{- end }}
{{- end }}
{{- if or (not $policy) (eq $policy "noeviction") }}
{{- $errors = append $errors "redis.commonConfiguration needs a maxmemory-policy other than noeviction (allkeys-lru): Redis is a cache here and must evict when full rather than refuse writes." }}
{{- end }}
{{- end }}
{{- end }}

{{- if $errors }}
{{- fail (printf "\n\nstripe-salesforce-sync: invalid values:\n  - %s\n" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}
