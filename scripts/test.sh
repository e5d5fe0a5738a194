#!/usr/bin/env bash
# Runs Backline's whole test suite: installs what is missing, builds, runs ctest.
# Every test that needs Redis starts its own redis-server on a free loopback port.
#
#   scripts/test.sh              build in build/ and run every test
#   scripts/test.sh --sanitize   the same under AddressSanitizer and UBSan, in build-asan/
#   scripts/test.sh -L e2e       pass ctest options through (here: only the e2e tests)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
# ccache hits across clones of the repository (CI builds a fresh clone every time).
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true

dir=build
options=(-DBACKLINE_WERROR=ON -DBACKLINE_BUILD_TESTS=ON)
if [[ ${1:-} == "--sanitize" ]]; then
  shift
  dir=build-asan
  options+=(-DBACKLINE_SANITIZE=address,undefined -DBACKLINE_BUILD_BENCH=OFF)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

ensure_packages
log "building in $dir"
build_backline "$dir" "${options[@]}"
log "running the tests"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "$@"
