# opal_luks.sh (guest, sh -e; --bin ublkcrypt --bin ublkcrypt-test): LUKS2 on an emulated
# self-encrypting drive, served by ublkcrypt. The emulated drive is test machinery, so every
# command that names it runs the test build; status and close are the shipped binary's.
# OPAL_MODE=hw-opal-only (the drive alone encrypts; pass-through "opal"
# provider) or hw-opal (the drive under software aes-xts). format, open, mkfs, mount, files,
# close — then the range is locked: `opal status` says so and raw reads of it through the
# drive's data path fail — open again, every checksum equal.
MODE=${OPAL_MODE:-hw-opal-only}
step() { echo "== opal_luks($MODE): $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
D=emu:/tmp/drive.img
printf 'PSID-ON-THE-LABEL-0123456789' >/tmp/psid
printf 'opal-admin-password' >/tmp/admin
printf 'volume-passphrase' >/tmp/pass

step "emulated drive, discover, take ownership"
ublkcrypt-test opal emu-create /tmp/drive.img --size 96M --psid-file /tmp/psid
ublkcrypt-test opal discover --json "$D" | tee /tmp/discover.json
grep -q '"opal": true' /tmp/discover.json
ublkcrypt-test opal setup "$D" --key-file /tmp/admin

step "format --$MODE"
ublkcrypt-test format -q --"$MODE" --opal-admin-key-file /tmp/admin --key-file /tmp/pass \
    --pbkdf pbkdf2 --pbkdf-force-iterations 1000 "$D"
ublkcrypt-test opal status "$D" --key-file /tmp/admin

step "open, mkfs.ext4, mount, files"
dev=$(ublkcrypt-test open --key-file /tmp/pass "$D" vol)
echo "opened $dev"
ublkcrypt status --json vol >/tmp/status.json
cat /tmp/status.json
if [ "$MODE" = hw-opal-only ]; then
    grep -q '"provider": "opal"' /tmp/status.json
    grep -q '"cipher": "cipher_null-ecb"' /tmp/status.json
else
    grep -q '"cipher": "aes-xts-plain64"' /tmp/status.json
fi
mkfs.ext4 -q -F "$dev"
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol
mkdir -p /mnt/vol/d
i=0
while [ $i -lt 4 ]; do
    head -c 1048576 /dev/urandom >/mnt/vol/d/f$i
    i=$((i + 1))
done
(cd /mnt/vol && sha256sum d/* >/tmp/sums)
sync
umount /mnt/vol
ublkcrypt close vol

step "closed: the range is locked"
ublkcrypt-test opal status --json "$D" --key-file /tmp/admin | tee /tmp/opal.json
tr -d ' \n' </tmp/opal.json | grep -q '"range":1,"read_lock_enabled":true,"read_locked":true'
grep -q '"locked": true' /tmp/opal.json
# The whole drive's plaintext through ublk (no header, no crypto): the header in the
# global range reads, the volume's locked range fails with EIO at once.
raw=$(ublkcrypt-test open --type plain --cipher cipher_null-ecb --allow-null-cipher "$D" raw)
dd if="$raw" of=/dev/null bs=4096 count=1 iflag=direct
if dd if="$raw" of=/dev/null bs=4096 skip=4096 count=1 iflag=direct 2>/tmp/dd.err; then
    echo "FAIL: read of the locked range succeeded"; exit 1
fi
cat /tmp/dd.err
grep -q 'Input/output error' /tmp/dd.err
ublkcrypt close raw

step "open again: checksums equal"
dev=$(ublkcrypt-test open --key-file /tmp/pass "$D" vol)
e2fsck -fn "$dev"
mount -t ext4 -o ro "$dev" /mnt/vol
(cd /mnt/vol && sha256sum -c /tmp/sums)
umount /mnt/vol
ublkcrypt close vol
ublkcrypt-test opal status "$D"
step "all good"
