#!/usr/bin/env bash
# build.sh [release|asan] [TARGET...]: configure and build one flavour into build/ or
# build-asan/: every target, or only the TARGETs named (e.g. unit_tests: the unit tests'
# executables and what they need, tests/CMakeLists.txt).
# Warnings are errors in every flavour: the tree must stay clean.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-release}
shift $(($# > 0 ? 1 : 0))
jobs=${JOBS:-$(nproc)}
# Debug information is line tables only (-g1): backtraces, perf and the sanitizers' reports
# keep function, file and line, without the cost of full -g (every variable's location and
# type, for gdb) in a template-heavy tree; docs/measurements.md has the build times.
case "$flavour" in
  release) dir=$top/build
           flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo
                  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG") ;;
  asan)    dir=$top/build-asan
           flags=(-DCMAKE_BUILD_TYPE=Debug -DUBLKCRYPT_SANITIZE=ON
                  -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release|asan)" >&2; exit 1 ;;
esac
cmake -S "$top" -B "$dir" -DUBLKCRYPT_WERROR=ON "${flags[@]}" >/dev/null
targets=()
[ $# -eq 0 ] || targets=(--target "$@")
cmake --build "$dir" -j"$jobs" "${targets[@]}"
echo "$dir"
