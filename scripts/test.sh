#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   1. install the Debian packages it needs,
#   2. build the release flavour and the ASan+UBSan flavour,
#   3. run the unit tests in both, then the VM scenarios (the real ublk driver, dm-crypt and
#      the virtio crypto card inside QEMU with Debian's 6.12 kernel) in the release build,
#   4. run the fuzz targets briefly.
# Environment: UBLKCRYPT_SKIP_VM=1 skips the VM scenarios (say so loudly), FUZZ_SECONDS.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/install-deps.sh
bash scripts/build.sh release >/dev/null
bash scripts/build.sh asan >/dev/null

status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# run_ctest TITLE ARGS...: runs one ctest pass, keeping its summary line for the total.
run_ctest() {
  echo "== $1"; shift
  ctest "$@" --output-on-failure 2>&1 | tee -a "$log" || status=1
}
run_ctest "unit tests (release)" --test-dir build -L unit -j"$(nproc)"
run_ctest "unit tests (ASan+UBSan)" --test-dir build-asan -L unit -j"$(nproc)"

if [ "${UBLKCRYPT_SKIP_VM:-0}" = 1 ]; then
  echo "== VM scenarios SKIPPED (UBLKCRYPT_SKIP_VM=1): the ublk device was not tested"
else
  # No ctest --repeat: run-vm.sh itself boots a second time when the guest never reached the
  # end (boot panic, oops), and reports a scenario's own failure after one boot, so a
  # scenario that caught wrong data once fails the run.
  run_ctest "VM scenarios (QEMU TCG, Debian 6.12 kernel)" --test-dir build -L vm
fi

if [ -x tests/fuzz/run.sh ]; then
  echo "== fuzz targets (${FUZZ_SECONDS:-15} s each)"
  bash tests/fuzz/run.sh "${FUZZ_SECONDS:-15}" || status=1
fi

# One closing line over every pass: "N passed, N failed".
awk '/tests passed, [0-9]+ tests? failed out of/ {
       for (i = 1; i <= NF; i++) if ($i == "failed") f += $(i - 2); else if ($i == "of") t += $(i + 1)
     } END { printf "tests: %d passed, %d failed\n", t - f, f }' "$log"
exit $status
