#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   1. install the Debian packages it needs,
#   2. build the release flavour, run its unit tests, then the VM scenarios (the real ublk
#      driver, dm-crypt and the virtio crypto card inside QEMU with Debian's 6.12 kernel),
#      while the ASan+UBSan flavour builds beside them at low priority,
#   3. run the unit tests in the ASan+UBSan build,
#   4. with FUZZ_SECONDS=N (N > 0), build the libFuzzer targets with clang and run each N s.
# Every fuzz target's entry point runs in both builds above anyway, as a unit test
# (<name>_replay: the seeds, every truncation and byte flip of them); the clang build of
# the libFuzzer binaries is about five minutes of the run, so fuzzing is asked for, not
# the default.
# Environment: UBLKCRYPT_SKIP_VM=1 skips the VM scenarios (say so loudly), FUZZ_SECONDS.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/install-deps.sh
bash scripts/build.sh release >/dev/null

status=0
log=$(mktemp)
outputs=$(mktemp)
asan_build_log=$(mktemp)
trap 'rm -f "$log" "$outputs" "$asan_build_log"' EXIT
# Only unit tests run in the ASan build: it builds their executables, not the VM's. It
# compiles at the lowest CPU priority beside the release tests, so it gets mostly the CPU they
# leave idle (a scenario marked ALONE keeps one of two cores to itself under TCG), at the cost
# of a few percent of the scenarios' speed (shared caches); its tests run once both it and the
# VM scenarios are done.
nice -n 19 bash scripts/build.sh asan unit_tests >"$asan_build_log" 2>&1 &
asan_build=$!
# run_ctest TITLE ARGS...: runs one ctest pass, keeping its summary line for the total and
# every test's output (ctest's LastTest.log) for the closing report.
run_ctest() {
  echo "== $1 (at ${SECONDS} s)"; shift
  ctest "$@" --output-on-failure 2>&1 | tee -a "$log" || status=1
  local dir=$2
  cat "$dir/Testing/Temporary/LastTest.log" >>"$outputs" 2>/dev/null || true
}
run_ctest "unit tests (release)" --test-dir build -L unit -j"$(nproc)"

if [ "${UBLKCRYPT_SKIP_VM:-0}" = 1 ]; then
  echo "== VM scenarios SKIPPED (UBLKCRYPT_SKIP_VM=1): the ublk device was not tested"
else
  # No ctest --repeat: run-vm.sh itself boots again (up to three boots) when the guest never reached the
  # end (boot panic, oops), and reports a scenario's own failure after one boot, so a
  # scenario that caught wrong data once fails the run.
  # Two guests at a time: each keeps about one core busy under TCG; scenarios marked ALONE
  # (tests/vm/CMakeLists.txt) still run with no neighbour.
  run_ctest "VM scenarios (QEMU TCG, Debian 6.12 kernel)" --test-dir build -L vm -j2
fi

# The rbd tests run once, in the release build: under ASan, LeakSanitizer would judge
# librados' own process-lifetime allocations, not ublkcrypt's. So do the checks of what is
# installed (man page, completion, units, the shipped binary's contents): the sanitizers
# add nothing to them, only minutes of process start-up.
if wait "$asan_build"; then
  run_ctest "unit tests (ASan+UBSan)" --test-dir build-asan -L unit -LE 'ceph|installed' -j"$(nproc)"
else
  status=1
  echo "== the ASan+UBSan build failed; its last lines:"
  tail -n 40 "$asan_build_log"
  echo "  0 tests passed, 1 tests failed out of 1 (ASan+UBSan build)" >>"$log"
  printf 'The following tests FAILED:\n\t  1 - ASan+UBSan build (Failed)\n' >>"$log"
fi

if [ "${FUZZ_SECONDS:-0}" -gt 0 ]; then
  echo "== fuzz targets (${FUZZ_SECONDS} s each)"
  if ! bash tests/fuzz/run.sh "${FUZZ_SECONDS}"; then
    status=1
    echo "  0 tests passed, 1 tests failed out of 1 (fuzz)" >>"$log"
    printf 'The following tests FAILED:\n\t  1 - fuzz targets (Failed)\n' >>"$log"
  fi
fi

# The closing lines name every failed test (CI keeps only the end of the output), then one
# line over every pass: "N passed, N failed".
failed=$(awk '/The following tests FAILED:/ { listing = 1; next }
     listing && /^[[:space:]]+[0-9]+ - / { sub(/^[[:space:]]+/, ""); print; next }
     { listing = 0 }' "$log")
if [ -n "$failed" ]; then
  echo "== the end of each failed test's output"
  echo "$failed" | while read -r _ _ name _; do
    echo "-- $name"
    awk -v name="$name" '$0 ~ "^[0-9]+/[0-9]+ Test: " name "$" { take = 1; n = 0; next }
         take && /^<end of output>/ { take = 0 }
         take { lines[n++ % 60] = $0 }
         END { for (i = (n > 60 ? n - 60 : 0); i < n; i++) print lines[i % 60] }' "$outputs"
  done
  echo "$failed" | sed 's/^/failed: /'
fi
awk '/tests passed, [0-9]+ tests? failed out of/ {
       for (i = 1; i <= NF; i++) if ($i == "failed") f += $(i - 2); else if ($i == "of") t += $(i + 1)
     } END { printf "tests: %d passed, %d failed\n", t - f, f }' "$log"
exit $status
