#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
# The Kubernetes test tools (kube-apiserver, etcd, helm; tests/k8s, tests/kube, tests/chart): built from the Go
# module proxy into a cache keyed by their versions, skipped when already built (cold: see scripts/k8s-tools.sh).
scripts/k8s-tools.sh >/dev/null
ctest --preset dev "$@"
