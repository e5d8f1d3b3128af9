{{- define "stopship.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stopship.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "stopship.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stopship.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "stopship.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "stopship.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "stopship.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "stopship.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "stopship.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "stopship.secretName" -}}
{{- required "secrets.existingSecret: the name of the Secret holding database-url, app-id, webhook-secret and private-key" .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The pod-level fields every stopship pod shares (restricted Pod Security Standard). */}}
{{- define "stopship.podSpecCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Environment shared by every container; $webhook adds the webhook secret (web only). */}}
{{- define "stopship.env" -}}
{{- $secret := include "stopship.secretName" .root -}}
{{- $keys := .root.Values.secrets.keys -}}
- name: STOPSHIP_QUEUE
  value: procrastinate
- name: STOPSHIP_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.databaseUrl }}
{{- if .app }}
- name: STOPSHIP_GITHUB_APP_ID
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.appId }}
- name: STOPSHIP_GITHUB_PRIVATE_KEY_FILE
  value: /var/run/secrets/stopship/private-key.pem
{{- end }}
{{- if .webhook }}
- name: STOPSHIP_GITHUB_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.webhookSecret }}
{{- end }}
{{- with .root.Values.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Mounts: a writable /tmp, and the private key as a read-only file when $app. */}}
{{- define "stopship.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .app }}
- name: github-private-key
  mountPath: /var/run/secrets/stopship
  readOnly: true
{{- end }}
{{- end -}}

{{- define "stopship.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .tmpSizeLimit }}
{{- if .app }}
- name: github-private-key
  secret:
    secretName: {{ include "stopship.secretName" .root }}
    defaultMode: 0440
    items:
      - key: {{ .root.Values.secrets.keys.privateKey }}
        path: private-key.pem
{{- end }}
{{- end -}}
