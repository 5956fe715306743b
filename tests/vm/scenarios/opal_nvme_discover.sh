# opal_nvme_discover.sh (guest, sh -e): `ublkcrypt opal discover` on QEMU's NVMe
# controller, which implements no Security Send/Receive: a one-line message that says so
# (or names the feature sets it reports), a non-zero exit code, no crash.
step() { echo "== opal_nvme_discover: $*"; }
step "discover /dev/nvme0n1"
ls -l /dev/nvme0n1
set +e
ublkcrypt opal discover --json /dev/nvme0n1 >/tmp/out 2>/tmp/err
rc=$?
set -e
cat /tmp/out /tmp/err
echo "exit code $rc"
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ]
[ "$(wc -l </tmp/err)" -eq 1 ]
grep -q '/dev/nvme0n1' /tmp/err
grep -Eq 'Security Receive.*not supported|no Opal or Ruby feature set \(drive reports' /tmp/err
step "all good"
