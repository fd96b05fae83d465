#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
ctest --preset dev "$@"
