#!/usr/bin/env bash
# build.sh [release|asan|fuzz]: configure and build one flavour into build/, build-asan/ ...
# Warnings are errors in every flavour: the tree must stay clean.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-release}
jobs=${JOBS:-$(nproc)}
case "$flavour" in
  release) dir=$top/build;      flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=$top/build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DUBLKCRYPT_SANITIZE=ON) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release|asan)" >&2; exit 1 ;;
esac
cmake -S "$top" -B "$dir" -DUBLKCRYPT_WERROR=ON "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
echo "$dir"
