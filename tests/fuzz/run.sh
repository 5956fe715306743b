#!/bin/sh
# tests/fuzz/run.sh [SECONDS]: builds the libFuzzer targets with clang (ASan + UBSan) in
# their own build directory and runs each for SECONDS (default 20), starting from the seed
# corpus. Exits non-zero if a target finds a crash; the reproducer is left in
# $build/artifacts/. scripts/test.sh calls this when FUZZ_SECONDS is set.
set -eu
seconds=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${UBLKCRYPT_FUZZ_BUILD:-$root/build-fuzz}
targets="opal_response opal_tper sector_cipher control_request proc_crypto"

# -O1 and line tables only (-g1): the build is most of this step's time in CI, and a crash
# report needs function, file and line, not gdb's variables.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DUBLKCRYPT_FUZZ=ON -DUBLKCRYPT_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
build_targets=""
for t in $targets; do build_targets="$build_targets fuzz_$t ${t}_replay"; done
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $build_targets

mkdir -p "$build/artifacts"
status=0
for t in $targets; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  "$build/tests/fuzz/${t}_replay" --write-seeds "$corpus"
  # libFuzzer's progress lines go to a log: only the verdict and the final counts are shown,
  # so the end of CI's output stays the test summary, not a fuzzer dictionary.
  log="$build/fuzz_$t.log"
  if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" "$corpus" >"$log" 2>&1; then
    echo "fuzz_$t: ${seconds}s, $(grep -m1 -o 'number_of_executed_units: *[0-9]*' "$log" | tr -s ' '), no crash"
  else
    tail -n 60 "$log" >&2
    echo "fuzz_$t: crash found, see $build/artifacts/ and $log" >&2
    status=1
  fi
done
exit $status
