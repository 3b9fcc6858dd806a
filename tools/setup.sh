#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (root or sudo):
#   bash tools/setup.sh demo   install missing packages, build, run the main job
#                              on text every Debian machine has
#   bash tools/setup.sh test   install missing packages, then build and run the
#                              test suite twice: Release, then ASan+UBSan
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${1:-}
JOBS=$(nproc 2>/dev/null || echo 2)

BUILD_PKGS=(cmake g++ make pkg-config ccache liblmdb-dev liburing-dev libroaring-dev libxxhash-dev libsimde-dev
            libgtest-dev libgmock-dev libcli11-dev libdivsufsort-dev libzstd-dev zlib1g-dev libsimdjson-dev
            libbenchmark-dev zstd gzip python3 python3-numpy)
TEST_PKGS=(chromium)

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

configure_and_build() {  # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache "$@" >/dev/null
  cmake --build "$dir" -j"$JOBS"
}

case "$MODE" in
  demo)
    install_missing "${BUILD_PKGS[@]}"
    configure_and_build "$ROOT/build/release" -DDEDUPDB_BUILD_TESTS=OFF
    exec bash "$ROOT/tools/demo.sh" "$ROOT/build/release/dedupdb"
    ;;
  test)
    install_missing "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
    export CTEST_OUTPUT_ON_FAILURE=1
    echo "== Release build and tests ==" >&2
    # Tests ON explicitly: a demo run before leaves OFF in this build's cache.
    configure_and_build "$ROOT/build/release" -DDEDUPDB_BUILD_TESTS=ON
    (cd "$ROOT/build/release" && ctest -j"$JOBS" --timeout 900 --no-tests=error)
    echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests (small fixtures) ==" >&2
    configure_and_build "$ROOT/build/asan" -DDEDUPDB_SANITIZE=ON -DDEDUPDB_BUILD_TESTS=ON -DDEDUPDB_BUILD_BENCH=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo
    (cd "$ROOT/build/asan" && DEDUPDB_TEST_SCALE=small ASAN_OPTIONS=detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1 ctest -j"$JOBS" --timeout 900 --no-tests=error)
    ;;
  *)
    echo "usage: bash tools/setup.sh demo|test" >&2
    exit 2
    ;;
esac
