#!/bin/sh
# systemd_units_check.sh BUILD: the files a distribution installs. `cmake --install` into a
# scratch root puts the binary, the unit ublkcrypt@.service and the docs in place, and
# `systemd-analyze verify` has nothing to say about an instance of the unit (it checks the
# syntax, every setting, and that ExecStart's binary exists and is executable). The
# negative control: a copy with a misspelt setting and a missing binary must draw
# complaints, or the check is blind.
set -u
build=$1
. "$(dirname "$0")/check_lib.sh"
need_command systemd-analyze "scripts/install-deps.sh installs systemd"

install_scratch "$build"
unit=$(find "$tmp/root" -name 'ublkcrypt@.service' | head -n 1)
bin=$(find "$tmp/root" -path '*/sbin/ublkcrypt' | head -n 1)
[ -n "$unit" ] || fail "no ublkcrypt@.service installed"
[ -n "$bin" ] && [ -x "$bin" ] || fail "no executable sbin/ublkcrypt installed"
find "$tmp/root" -name recovery.md | grep -q . || fail "docs/recovery.md not installed"
find "$tmp/root" -name README.md | grep -q . || fail "README.md not installed"
find "$tmp/root" -name 'ublkcrypt-test' | grep -q . && fail "the test build was installed"
[ "$fails" = 0 ] || exit 1

# The unit names the binary by its real install path; under the scratch root it lives at
# $tmp/root/<that path>. An instance, as systemd would load it.
prefix_bin=${bin#"$tmp/root"}
grep -q "^ExecStart=$prefix_bin open " "$unit" || fail "ExecStart does not run $prefix_bin"
mkdir -p "$tmp/units"
sed "s|$prefix_bin|$bin|g" "$unit" >"$tmp/units/ublkcrypt@vol.service"
verify() { (cd "$1" && systemd-analyze verify --man=no ./ublkcrypt@vol.service) >"$2" 2>&1; }
verify "$tmp/units" "$tmp/verify.out"
rc=$?
cat "$tmp/verify.out"
[ "$rc" = 0 ] || fail "systemd-analyze verify exit $rc"
[ -s "$tmp/verify.out" ] && fail "systemd-analyze verify complained"

mkdir -p "$tmp/broken"
sed -e 's|^KillMode=process|KillMode=proces|' -e "s|$bin|$tmp/no/ublkcrypt|" \
    "$tmp/units/ublkcrypt@vol.service" >"$tmp/broken/ublkcrypt@vol.service"
verify "$tmp/broken" "$tmp/broken.out"
grep -q 'KillMode\|kill mode' "$tmp/broken.out" || fail "negative control: a misspelt KillMode drew no complaint"
grep -q 'not executable' "$tmp/broken.out" || fail "negative control: a missing binary drew no complaint"

[ "$fails" = 0 ] && echo "systemd_units_check: ok ($(basename "$unit") verified clean)"
exit "$fails"
