# ublk_failing_backing.sh (guest, sh -e): a backing that starts failing under an open volume.
# The backing is a device-mapper device over a loop device whose table is swapped for
# dm's error target mid-run, then back to the working disk:
#   - while it fails, a write and a flush of /dev/ublkbN fail (the errors reach the caller);
#   - once the disk works again, writes succeed but every flush still fails: the writes
#     before the failed flush may be lost, and the volume says so until it is closed;
#   - the server lives throughout, and after close and open the volume flushes again.
# A negative control first: with the working table, the same write and flush succeed.
step() { echo "== ublk_failing_backing: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh

step "LUKS2 volume on a dm device over a loop device"
# No udev in the guest: libdevmapper makes the /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1
truncate -s 64M /tmp/disk.img
loop=$(losetup -f --show /tmp/disk.img)
sectors=$(blockdev --getsz "$loop")
working="0 $sectors linear $loop 0"
echo "$working" | dmsetup create back
dmsetup mknodes back
printf 'failing-backing-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /dev/mapper/back
dev=$(ublkcrypt open --key-file /tmp/pass /dev/mapper/back vol)
echo "opened $dev"
head -c 1048576 /dev/urandom >/tmp/one
# write_and_flush: 1 MiB written (O_DIRECT), then an fsync of the device (a FLUSH request).
write_only() { dd if=/tmp/one of="$dev" bs=1M count=1 oflag=direct status=none; }
write_and_flush() { dd if=/tmp/one of="$dev" bs=1M count=1 oflag=direct conv=fsync status=none; }
flush_only() { dd if=/dev/null of="$dev" conv=fsync,notrunc status=none; }

step "control: the working disk takes a write and a flush"
write_and_flush
flush_only
test "$(io_errors vol)" = 0

swap_table() {
    dmsetup suspend --noflush back
    echo "$1" | dmsetup reload back
    dmsetup resume back
}

step "the disk fails: a write and a flush fail"
swap_table "0 $sectors error"
if write_only; then echo "a write to a failing disk succeeded"; exit 1; fi
if flush_only; then echo "a flush of a failing disk succeeded"; exit 1; fi
ublkcrypt status vol
test "$(io_errors vol)" -ge 2

step "the disk works again: writes succeed, flushes still fail"
swap_table "$working"
write_only
dd if="$dev" bs=1M count=1 iflag=direct status=none | cmp - /tmp/one
for i in 1 2; do
    if flush_only; then echo "flush $i after the failed one succeeded"; exit 1; fi
done
ublkcrypt status vol
kill -0 "$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json)"

step "close and open: the volume flushes again, the data is there"
# close's own final flush fails too (it is the sticky error): close reports it, and still
# removes the device.
ublkcrypt close vol || echo "close reported the sticky flush error (exit $?)"
test ! -e /dev/ublkcrypt/vol
dev=$(ublkcrypt open --key-file /tmp/pass /dev/mapper/back vol)
flush_only
dd if="$dev" bs=1M count=1 iflag=direct status=none | cmp - /tmp/one
ublkcrypt close vol
dmsetup remove back
losetup -d "$loop"
step "all good"
