#!/bin/sh
# systemd_units_check.sh BUILD: the files a distribution installs. `cmake --install` into a
# scratch root puts the binary, the units ublkcrypt@.service and ublkcrypt-attach-all.service
# and the docs in place, and `systemd-analyze verify` has nothing to say about an instance
# of the template nor about the boot unit (it checks the syntax, every setting, and that
# ExecStart's binary exists and is executable). The negative controls: a copy with a
# misspelt setting and a missing binary must draw complaints, or the check is blind.
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

# ublkcrypt-attach-all.service: the crypttab at boot, verified the same way; its negative
# control a missing binary in ExecStop.
boot=$(find "$tmp/root" -name 'ublkcrypt-attach-all.service' | head -n 1)
[ -n "$boot" ] || fail "no ublkcrypt-attach-all.service installed"
grep -q "^ExecStart=$prefix_bin attach-all$" "$boot" || fail "ExecStart does not run $prefix_bin attach-all"
grep -q "^ExecStop=$prefix_bin detach-all$" "$boot" || fail "ExecStop does not run $prefix_bin detach-all"
verify_boot() { (cd "$1" && systemd-analyze verify --man=no ./ublkcrypt-attach-all.service) >"$2" 2>&1; }
sed "s|$prefix_bin|$bin|g" "$boot" >"$tmp/units/ublkcrypt-attach-all.service"
verify_boot "$tmp/units" "$tmp/verify-boot.out"
rc=$?
cat "$tmp/verify-boot.out"
[ "$rc" = 0 ] || fail "systemd-analyze verify of ublkcrypt-attach-all.service exit $rc"
[ -s "$tmp/verify-boot.out" ] && fail "systemd-analyze verify complained about ublkcrypt-attach-all.service"
sed "s|^ExecStop=$bin|ExecStop=$tmp/no/ublkcrypt|" "$tmp/units/ublkcrypt-attach-all.service" \
    >"$tmp/broken/ublkcrypt-attach-all.service"
verify_boot "$tmp/broken" "$tmp/broken-boot.out"
grep -q 'not executable' "$tmp/broken-boot.out" ||
    fail "negative control: ublkcrypt-attach-all.service without its ExecStop binary drew no complaint"

[ "$fails" = 0 ] && echo "systemd_units_check: ok ($(basename "$unit"), $(basename "$boot") verified clean)"
exit "$fails"
