{{/*
The git-sync container (v4 flags as GITSYNC_* variables). It clones into /git and swaps the link
/git/current atomically to each new worktree; the operator watches that link. Called with
(dict "root" $ "oneTime" bool): the init container clones once, the sidecar keeps polling.
*/}}
{{- define "anf-cmk-operator.gitSyncContainer" -}}
{{- $root := .root }}
{{- $gs := $root.Values.manifests.gitSync -}}
image: {{ printf "%s:%s" $gs.image.repository $gs.image.tag }}
imagePullPolicy: {{ $gs.image.pullPolicy }}
env:
  - name: HOME
    value: /tmp
  - name: GITSYNC_REPO
    value: {{ required "manifests.gitSync.repository is required when manifests.source is gitSync" $gs.repository | quote }}
  - name: GITSYNC_REF
    value: {{ $gs.ref | quote }}
  - name: GITSYNC_ROOT
    value: {{ include "anf-cmk-operator.gitSyncRoot" $root }}
  - name: GITSYNC_LINK
    value: {{ include "anf-cmk-operator.gitSyncLink" $root }}
  - name: GITSYNC_PERIOD
    value: {{ $gs.period | quote }}
  - name: GITSYNC_DEPTH
    value: {{ $gs.depth | quote }}
  - name: GITSYNC_ONE_TIME
    value: {{ .oneTime | quote }}
  {{- if eq $gs.auth.type "ssh" }}
  - name: GITSYNC_SSH_KEY_FILE
    value: /etc/git-secret/ssh
  - name: GITSYNC_SSH_KNOWN_HOSTS
    value: {{ $gs.auth.sshKnownHosts | quote }}
  {{- if $gs.auth.sshKnownHosts }}
  - name: GITSYNC_SSH_KNOWN_HOSTS_FILE
    value: /etc/git-secret/known_hosts
  {{- end }}
  {{- else if eq $gs.auth.type "https" }}
  - name: GITSYNC_USERNAME
    valueFrom:
      secretKeyRef: {name: {{ $gs.auth.existingSecret | quote }}, key: username}
  - name: GITSYNC_PASSWORD
    valueFrom:
      secretKeyRef: {name: {{ $gs.auth.existingSecret | quote }}, key: password}
  {{- end }}
{{- with $gs.extraArgs }}
args:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.securityContext | nindent 2 }}
resources:
  {{- toYaml $gs.resources | nindent 2 }}
volumeMounts:
  - name: manifests
    mountPath: {{ include "anf-cmk-operator.gitSyncRoot" $root }}
  - name: tmp
    mountPath: /tmp
    subPath: git-sync
  {{- if eq $gs.auth.type "ssh" }}
  - name: git-secret
    mountPath: /etc/git-secret
    readOnly: true
  {{- end }}
{{- end }}
