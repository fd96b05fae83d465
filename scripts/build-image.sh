#!/usr/bin/env bash
# The container image's build steps, runnable without Docker so CI proves them.
# The Dockerfile calls the same steps; with no step given, this runs them all on this machine.
#
# Usage: scripts/build-image.sh [STEP] [ARG]
#   packages            build stage: install exactly what scripts/setup.sh installs
#   build [ROOT]        build stage: release build, staged into ROOT (default build/image-root)
#   runtime-packages    runtime stage: apt-get install the list in scripts/runtime-packages.txt (root only)
#   check [BINARY]      runtime stage: every shared library `ldd` reports for BINARY is present and belongs
#                       to a package of scripts/runtime-packages.txt (default build/image-root/usr/local/bin/...)
#   all                 (default) packages, build, check that the listed packages exist here, check
# Environment: JOBS (parallel build jobs, default 2), IMAGE_BUILD_DIR (default build/image).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/.." && pwd)"
runtime_list="$here/runtime-packages.txt"
binary_in_root="usr/local/bin/anf-cmk-operator"

# The runtime package names, comments and blank lines dropped.
runtime_packages() {
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$runtime_list" | grep -v '^$'
}

step_packages() {
  "$here/setup.sh" --packages-only
}

step_build() {
  local root="${1:-$src/build/image-root}"
  local dir="${IMAGE_BUILD_DIR:-$src/build/image}"
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DANF_BUILD_TESTS=OFF -DANF_BUILD_BENCH=OFF >&2
  cmake --build "$dir" --target anf-cmk-operator -j "${JOBS:-2}" >&2
  rm -rf "$root"
  install -D -m 0755 -s "$dir/cmd/anf-cmk-operator/anf-cmk-operator" "$root/$binary_in_root"
  # The quickstart and flow examples, so `run --emulator` works from the image alone.
  mkdir -p "$root/usr/share/anf-cmk-operator"
  cp -r "$src/manifests/examples" "$root/usr/share/anf-cmk-operator/examples"
  # The operator writes its status state under /tmp; the chart mounts an emptyDir there.
  install -d -m 1777 "$root/tmp"
  echo "build-image: staged $root/$binary_in_root" >&2
}

step_runtime_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2046
  apt-get install -y -qq --no-install-recommends $(runtime_packages)
  rm -rf /var/lib/apt/lists/*
}

# Every listed package must be known to dpkg here: a typo would otherwise only fail inside Docker.
step_check_listed_installed() {
  local missing=0 p
  for p in $(runtime_packages); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      echo "build-image: runtime package '$p' from ${runtime_list#"$src"/} is not installed here" >&2
      missing=1
    fi
  done
  return "$missing"
}

# The Debian package that owns a library path; merged /usr means dpkg may record /lib/... or /usr/lib/...
owner_of() {
  local path="$1" alt
  case "$path" in
    /usr/*) alt="${path#/usr}" ;;
    *) alt="/usr$path" ;;
  esac
  dpkg-query -S "$path" 2>/dev/null || dpkg-query -S "$alt" 2>/dev/null || true
}

step_check() {
  local binary="${1:-$src/build/image-root/$binary_in_root}"
  [ -f "$binary" ] || { echo "build-image: no file at $binary" >&2; return 1; }
  local listed; listed=" $(runtime_packages | tr '\n' ' ') "
  local failed=0 count=0 name path owner pkg
  while read -r name path; do
    count=$((count + 1))
    if [ "$path" = "notfound" ]; then
      echo "build-image: $name: not found by the dynamic loader" >&2; failed=1; continue
    fi
    owner="$(owner_of "$path" | head -n1)"
    if [ -z "$owner" ]; then
      echo "build-image: $name ($path): no Debian package owns it" >&2; failed=1; continue
    fi
    pkg="${owner%%:*}"   # "libssl3:amd64: /usr/lib/..." -> "libssl3"
    if [[ "$listed" != *" $pkg "* ]]; then
      echo "build-image: $name ($path) comes from '$pkg', which ${runtime_list#"$src"/} does not list" >&2
      failed=1
    fi
  done < <(ldd "$binary" | awk '
      $2 == "=>" && $3 == "not" { print $1, "notfound"; next }
      $2 == "=>" && $3 ~ /^\// { print $1, $3; next }
      $1 ~ /^\// { print $1, $1 }')
  if [ "$count" -eq 0 ]; then
    echo "build-image: ldd reported no libraries for $binary" >&2; return 1
  fi
  [ "$failed" -eq 0 ] && echo "build-image: all $count shared libraries of $(basename "$binary") come from the runtime package list" >&2
  return "$failed"
}

case "${1:-all}" in
  packages) step_packages ;;
  build) step_build "${2:-}" ;;
  runtime-packages) step_runtime_packages ;;
  check) step_check "${2:-}" ;;
  all)
    step_packages
    step_build
    step_check_listed_installed
    step_check
    ;;
  *) echo "usage: $0 [packages|build [ROOT]|runtime-packages|check [BINARY]|all]" >&2; exit 2 ;;
esac
