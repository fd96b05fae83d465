#!/usr/bin/env bash
# A long fuzzing run of one target (the figures in docs/reliability.md come from it):
#   tests/reliability/fuzz/run.sh <target> [seconds=600]     e.g. run.sh manifest 600
# Needs `cmake --preset fuzz && cmake --build --preset fuzz`. Runs under nice, one process, starting from the
# checked-in corpus; the grown corpus goes to build/fuzz/long/<target>, crashes to build/fuzz/crashes/<target>/
# (fix them, then copy the input into corpus/<target>/). Prints libFuzzer's final stats.
set -euo pipefail
cd "$(dirname "$0")/../../.."
target=$1
seconds=${2:-600}
binary=build/fuzz/tests/reliability/fuzz/fuzz_$target
work=build/fuzz/long/$target
crashes=build/fuzz/crashes/$target
mkdir -p "$work" "$crashes"
ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || true)} \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 nice -n 10 "$binary" -max_total_time="$seconds" -max_len=65536 \
  -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" "$work" \
  "tests/reliability/fuzz/corpus/$target"
