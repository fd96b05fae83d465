#!/usr/bin/env bash
# Sets up, then starts the daemon against the embedded Azure emulator with the quickstart example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
exec build/dev/cmd/anf-cmk-operator/anf-cmk-operator run --emulator \
  --manifests manifests/examples/quickstart --log-format text "$@"
