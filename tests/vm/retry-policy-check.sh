#!/bin/bash
# retry-policy-check.sh: proves run-vm.sh's retry policy with six tiny scenarios (eight boots).
#   - harness_fails.sh exits 1 on its own: run-vm.sh exits 1 after ONE boot;
#   - harness_oops_once.sh oopses on boot 1 (no_oops fails it, exit 3) and passes on boot 2:
#     run-vm.sh says the guest never reached the end, boots a second time, and exits 0;
#   - harness_oops_wrong_data.sh oopses and reports wrong data (exit 1): run-vm.sh exits 1
#     after ONE boot, the oops notwithstanding;
#   - harness_wrong_data_then_death.sh reports wrong data (vm-lib.sh's wrong_data), goes on,
#     and the guest kernel dies before the exit marker: run-vm.sh exits 1 after ONE boot;
#   - harness_oops_killed.sh is killed by a signal after an oops on boot 1 and passes on
#     boot 2: run-vm.sh boots a second time and exits 0;
#   - harness_killed.sh is killed by a signal with no oops: run-vm.sh exits 137 after ONE
#     boot.
# Exit 0 when all six hold. Run as root, one VM at a time (ctest: vm_retry_policy, label vm).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bad=0
timeout=${1:-200}
boots() { grep -o '^run-vm: .* (boot [12]): kernel' "$out" | sort -u | wc -l; }
# run_case SCENARIO: one harness run into $out and $rc, its boot and verdict lines shown.
run_case() {
    "$HERE/run-vm.sh" "$HERE/scenarios/$1" --timeout "$timeout" >"$out" 2>&1
    rc=$?
    grep '^run-vm: .*\(boot\|result\|second\)' "$out" | awk '!seen[$0]++'
}

run_case harness_fails.sh
if [ $rc = 1 ] && [ "$(boots)" = 1 ] && ! grep -q 'second boot' "$out"; then
    echo "ok: a scenario's own failure: exit 1, one boot"
else
    echo "FAILED: a scenario's own failure gave exit $rc after $(boots) boot(s)"; cat "$out"; bad=1
fi

run_case harness_oops_once.sh
if [ $rc = 0 ] && [ "$(boots)" = 2 ] &&
   grep -q '^run-vm: guest never reached the end (guest kernel: .*Oops: harness_oops_once.*); second boot$' "$out"; then
    echo "ok: an oops before the end: second boot, which passes"
else
    echo "FAILED: an oops before the end gave exit $rc after $(boots) boot(s)"; cat "$out"; bad=1
fi
run_case harness_oops_wrong_data.sh
if [ $rc = 1 ] && [ "$(boots)" = 1 ] && ! grep -q 'second boot' "$out"; then
    echo "ok: wrong data with an oops: exit 1, one boot"
else
    echo "FAILED: wrong data with an oops gave exit $rc after $(boots) boot(s)"; cat "$out"; bad=1
fi

run_case harness_wrong_data_then_death.sh
if [ $rc = 1 ] && [ "$(boots)" = 1 ] && ! grep -q 'second boot' "$out" &&
   grep -q '^run-vm: guest never reached the end (.*), but saw wrong data first: no other boot' "$out"; then
    echo "ok: wrong data, then the guest died: exit $rc, one boot"
else
    echo "FAILED: wrong data, then the guest died, gave exit $rc after $(boots) boot(s)"; cat "$out"; bad=1
fi
run_case harness_oops_killed.sh
if [ $rc = 0 ] && [ "$(boots)" = 2 ] &&
   grep -q '^run-vm: guest never reached the end (scenario killed (exit 137) by the guest kernel: .*Oops: harness_oops_killed.*); second boot$' "$out"; then
    echo "ok: killed by a signal after an oops: second boot, which passes"
else
    echo "FAILED: killed by a signal after an oops gave exit $rc after $(boots) boot(s)"; cat "$out"; bad=1
fi

run_case harness_killed.sh
if [ $rc = 137 ] && [ "$(boots)" = 1 ] && ! grep -q 'second boot' "$out"; then
    echo "ok: killed by a signal with no oops: exit 137, one boot"
else
    echo "FAILED: killed by a signal with no oops gave exit $rc after $(boots) boot(s)"; cat "$out"; bad=1
fi
exit $bad
