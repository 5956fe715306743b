#!/bin/sh
# shipped_binary_check.sh SHIPPED TEST_BUILD: the test machinery (the fault provider behind
# UBLKCRYPT_FAULT_EVERY, the emulated Opal drive behind emu:FILE, the broken write-back cache
# behind UBLKCRYPT_TEST_EARLY_FLUSH, the pause points held by UBLKCRYPT_TEST_PAUSE) is in the
# test build and not in the shipped binary. Each check runs on both: the test build is the
# negative control that proves the check can see the machinery at all.
set -u
shipped=$1
testbuild=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Symbols: nm on an unstripped build; strings for the variable's name, which only the
# fault provider's code contains and which survives stripping.
machinery_symbols() { nm -C "$1" 2>/dev/null | grep -c -E 'FaultInjectingProvider|opal::emu::|EmulatedDrive|EarlyFlush'; }
has_fault_variable() { strings "$1" | grep -q '^UBLKCRYPT_FAULT_EVERY$'; }

n=$(machinery_symbols "$testbuild")
[ "$n" -gt 0 ] || fail "test build: no machinery symbols seen (nm cannot see them: the check is blind)"
n=$(machinery_symbols "$shipped")
[ "$n" -eq 0 ] || fail "shipped binary: $n test machinery symbols: $(nm -C "$shipped" | grep -E 'FaultInjectingProvider|opal::emu::|EmulatedDrive|EarlyFlush' | head -3)"
has_fault_variable "$testbuild" || fail "test build: the string UBLKCRYPT_FAULT_EVERY is missing"
has_fault_variable "$shipped" && fail "shipped binary: contains the string UBLKCRYPT_FAULT_EVERY"
# The broken write-back cache of the crash-consistency scenario (fixtures/test_build).
has_early_flush() { strings "$1" | grep -q '^UBLKCRYPT_TEST_EARLY_FLUSH$'; }
has_early_flush "$testbuild" || fail "test build: the string UBLKCRYPT_TEST_EARLY_FLUSH is missing"
has_early_flush "$shipped" && fail "shipped binary: contains the string UBLKCRYPT_TEST_EARLY_FLUSH"

# The pause points' hook (base/pause_point.h) is installed only by the test build.
has_pause_variable() { strings "$1" | grep -q '^UBLKCRYPT_TEST_PAUSE$'; }
has_pause_variable "$testbuild" || fail "test build: the string UBLKCRYPT_TEST_PAUSE is missing"
has_pause_variable "$shipped" && fail "shipped binary: contains the string UBLKCRYPT_TEST_PAUSE"

# Behaviour: the registry the user sees, and an emu: path.
UBLKCRYPT_FAULT_EVERY=3 "$testbuild" backends --json >"$tmp/test.json" 2>&1 || fail "test build: backends failed: $(cat "$tmp/test.json")"
grep -q '"fault"' "$tmp/test.json" || fail "test build: UBLKCRYPT_FAULT_EVERY=3 added no fault provider"
UBLKCRYPT_FAULT_EVERY=3 "$shipped" backends --json >"$tmp/shipped.json" 2>&1 || fail "shipped: backends failed: $(cat "$tmp/shipped.json")"
grep -q '"fault"' "$tmp/shipped.json" && fail "shipped binary: UBLKCRYPT_FAULT_EVERY=3 added a fault provider"

printf 'psid' >"$tmp/psid"
"$testbuild" opal emu-create "$tmp/drive.img" --size 8M --psid-file "$tmp/psid" >/dev/null 2>&1 ||
    fail "test build: opal emu-create failed"
"$testbuild" opal discover "emu:$tmp/drive.img" >/dev/null 2>&1 || fail "test build: opal discover emu: failed"
"$shipped" opal discover "emu:$tmp/drive.img" >"$tmp/out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "shipped binary: opal discover emu: exit $rc, expected 1"
[ "$(wc -l <"$tmp/out")" = 1 ] || fail "shipped binary: not one line: $(cat "$tmp/out")"
grep -q 'emulated drives are test machinery' "$tmp/out" || fail "shipped binary: unexpected message: $(cat "$tmp/out")"
"$shipped" opal emu-create "$tmp/other.img" --psid-file "$tmp/psid" >/dev/null 2>&1 &&
    fail "shipped binary: has opal emu-create"
[ -e "$tmp/other.img" ] && fail "shipped binary: opal emu-create made a drive"

[ "$fails" = 0 ] && echo "shipped_binary_check: ublkcrypt has no test machinery; ublkcrypt-test has it"
exit "$fails"
