#!/usr/bin/env bash
# Builds the Kubernetes test tools (kube-apiserver, etcd, helm) from the Go module proxy and copies the
# prometheus-operator CRDs (ServiceMonitor, PrometheusRule) beside them, into a cache keyed by their versions:
#   ${ANF_K8S_TOOLS_DIR:-$HOME/.cache/anf-cmk-operator/k8s-tools}/<key>/{bin,crds}/
# A tool already in the cache is not built again. Go is for test tools only; the product stays C++.
# Cold (empty Go build and module caches), measured on the 2-core machine at nice 19 under a load of ~15:
# kube-apiserver 1150 s, etcd 37 s, helm 278 s wall (~24 min; 518 s of CPU); it leaves 182 MB of binaries here,
# 2.8 GB in the Go build cache and 0.9 GB in the module cache. Warm: 0.6 s. The builds are reproducible.
# Usage: scripts/k8s-tools.sh            build what is missing, print the cache folder
#        scripts/k8s-tools.sh --dir      print the cache folder only (builds nothing)
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_VERSION=v1.34.4          # tests/k8s-tools/go.mod pins the same, with its staging modules at v0.34.4
HELM_VERSION=v3.22.0
PROM_OPERATOR_VERSION=v0.85.0 # the monitoring.coreos.com CRDs under example/prometheus-operator-crd/
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
module=tests/k8s-tools
[ -x "$GO" ] || { echo "k8s-tools: Go not found (set GO=/path/to/go)" >&2; exit 1; }
# k8s.io/kubernetes v1.34 needs Go 1.24 (and so do go.mod's tool directives); Debian 12's golang is 1.19.
go_minor=$("$GO" env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[ "$go_minor" -ge 24 ] 2>/dev/null || { echo "k8s-tools: $("$GO" env GOVERSION) is older than go1.24 (set GO=)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS="-trimpath -modcacherw" CGO_ENABLED=0

# The key changes whenever a pinned version changes (go.mod's requirements, replacements and tools, not its
# comments; go.sum; the versions above), so an old cache is never mistaken for a new one.
key="$KUBE_VERSION-$( { (cd "$module" && "$GO" mod edit -json); cat "$module/go.sum"
  echo "$HELM_VERSION $PROM_OPERATOR_VERSION"; } | sha256sum | cut -c1-10)"
dir="${ANF_K8S_TOOLS_DIR:-$HOME/.cache/anf-cmk-operator/k8s-tools}/$key"
if [ "${1:-}" = "--dir" ]; then echo "$dir"; exit 0; fi

ldflags="-s -w"
mkdir -p "$dir/bin" "$dir/crds"

build() { # name, then the go command that writes "$tmp"
  local name=$1; shift
  [ -x "$dir/bin/$name" ] && return 0
  local start=$SECONDS tmp="$dir/bin/.$name.tmp"
  echo "k8s-tools: building $name" >&2
  "$@"
  mv "$tmp" "$dir/bin/$name"
  echo "k8s-tools: $name built in $((SECONDS - start)) s" >&2
}

# /version must report the release, not v0.0.0-master: helm checks a chart's kubeVersion against it.
kube_ldflags="$ldflags -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION
  -X k8s.io/component-base/version.gitMajor=$(echo "$KUBE_VERSION" | cut -d. -f1 | tr -d v)
  -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  -X k8s.io/component-base/version.gitTreeState=clean"
build kube-apiserver nice -n 10 sh -c "cd $module && '$GO' build -ldflags='$kube_ldflags' \
  -o '$dir/bin/.kube-apiserver.tmp' k8s.io/kubernetes/cmd/kube-apiserver"
build etcd nice -n 10 sh -c "cd $module && '$GO' build -ldflags='$ldflags' -o '$dir/bin/.etcd.tmp' go.etcd.io/etcd/server/v3"
# `go install pkg@version` (no -o): into a private GOBIN, then renamed like the others.
build helm nice -n 10 sh -c "GOBIN='$dir/bin/.helm.gobin' '$GO' install -ldflags='$ldflags' \
  helm.sh/helm/v3/cmd/helm@$HELM_VERSION && mv '$dir/bin/.helm.gobin/helm' '$dir/bin/.helm.tmp' &&
  rmdir '$dir/bin/.helm.gobin'"

for crd in servicemonitors prometheusrules; do
  f="$dir/crds/monitoring.coreos.com_$crd.yaml"
  [ -s "$f" ] && continue
  src=$("$GO" mod download -json "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  cp "$src/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" "$f.tmp" && mv "$f.tmp" "$f"
done
echo "$dir"
