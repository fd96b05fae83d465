#!/usr/bin/env bash
# Installs every Debian 12 package the project needs (idempotent; as root or through sudo), then builds.
# The Kubernetes test tools are the test command's (scripts/test.sh), so the quickstart never waits for them.
# Usage: scripts/setup.sh [preset]   (default preset: dev)
#        scripts/setup.sh --packages-only   (install, do not build: the image's build stage)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache git pkg-config python3 curl ca-certificates openssl
  libboost-dev libboost-system-dev libyaml-cpp-dev libcpprest-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libssl-dev nlohmann-json3-dev libsqlite3-dev libgtest-dev libgmock-dev
  python3-yaml python3-jsonschema
)
# Optional: the Azure CLI for tests/cli-az (CTest cli_az_emulator, skipped without `az`). Not installed by default:
# Debian 12's azure-cli 2.45 pulls 67 packages, ~19 MB to download but ~650 MB installed (~1.4 GB on disk once
# its Python is byte-compiled) and took ~4 min to unpack here, which the build image (--packages-only) should not
# carry. Opt in with ANF_WITH_AZURE_CLI=1 scripts/setup.sh.
OPTIONAL_PACKAGES=(azure-cli)
[ "${ANF_WITH_AZURE_CLI:-0}" = "1" ] && PACKAGES+=("${OPTIONAL_PACKAGES[@]}")
# The `fuzz` preset's compiler: clang 19 with libFuzzer and its sanitizer runtimes (libclang-rt-19-dev). Debian 12's
# clang 14-16 cannot compile the project (libstdc++ 12's <expected> needs __cpp_concepts >= 202002). ~260 MB
# installed, so not in the image's build stage (--packages-only); the asan and tsan presets use gcc's runtimes.
FUZZ_PACKAGES=(clang-19 libclang-rt-19-dev)
[ "${1:-}" = "--packages-only" ] || PACKAGES+=("${FUZZ_PACKAGES[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

[ "${1:-}" = "--packages-only" ] && exit 0

# The Azure SDK for JavaScript test (tests/sdk-js) needs its node_modules; skipped when node/npm are absent or
# node_modules is already newer than package-lock.json.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  sdk_js=tests/sdk-js
  if [ ! -d "$sdk_js/node_modules" ] || [ "$sdk_js/package-lock.json" -nt "$sdk_js/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in $sdk_js" >&2
    (cd "$sdk_js" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || echo "setup: npm ci failed; the SDK test will be skipped" >&2
  fi
fi

preset="${1:-dev}"
# ccache hits across clones and build folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset "$preset" >&2
cmake --build --preset "$preset" >&2
