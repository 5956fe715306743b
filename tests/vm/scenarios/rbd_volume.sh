# rbd_volume.sh (guest, sh -e): a LUKS2 /dev/ublkbN on a Ceph RBD image (issue 17), with a
# one-monitor, one-OSD cluster on the guest's own loopback (tests/ceph/cluster.sh). ublkcrypt
# formats the image, serves it, carries ext4 and a fio verify pass, is refused a second
# server on the image, and opens it again to the same bytes. The kernel's own clients are
# the oracle: the image mapped by krbd and opened by dm-crypt reads what ublkcrypt wrote
# (e2fsck, fio's checksums, the whole volume's SHA-256), and a file dm-crypt writes through
# krbd ublkcrypt reads back.
# Needs --bin ublkcrypt ceph-mon ceph-osd rbd ceph-authtool monmaptool ceph_mon_command,
# --file cluster.sh and the OSD's object classes and plugins (tests/vm/CMakeLists.txt).
step() { echo "== rbd_volume: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh

step "a Ceph cluster on 127.0.0.1"
ip link set lo up
bash /data/cluster.sh start /tmp/ceph
export CEPH_CONF=/tmp/ceph/ceph.conf
rbd create -s 128M rbd/vol
printf 'rbd-scenario-passphrase' >/tmp/pass
image=rbd:rbd/vol

step "format $image, open, ext4, fio writes with checksums"
ublkcrypt format -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 $image /tmp/pass
ublkcrypt dump $image | grep -E '^Version|sector:|offset:'
dev=$(ublkcrypt open --key-file /tmp/pass $image vol)
echo "opened $dev"
mkfs.ext4 -q -F "$dev"
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol
# fio_pass write|verify: 24 MiB of 4-64 KiB random writes, crc32c in every block. fio opens
# the file for writing even to verify: the filesystem is mounted read-write for it. (Its
# complaint on wrong data, "verify: bad", on the console ends the test on this boot.)
fio_pass() {
    fio --name=rbd --filename=/mnt/vol/data --size=24M --rw=randwrite --bsrange=4k-64k \
        --ioengine=libaio --iodepth=16 --direct=1 --randseed=17 --verify=crc32c \
        --verify_fatal=1 $([ "$1" = verify ] && echo --verify_only) \
        --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; exit 1; }
    echo "fio $1: errors=$(grep -v '^fio:' /tmp/fio.out | cut -d';' -f5)"
}
fio_pass write
fio_pass verify

step "a second server on the same image is refused, exit 5, and so is format"
rc=0
ublkcrypt open --key-file /tmp/pass $image vol2 2>/tmp/err || rc=$?
cat /tmp/err
[ "$rc" = 5 ]
grep -q "^ublkcrypt: $image: in use, held by ublkcrypt volume vol" /tmp/err
rc=0
ublkcrypt format -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 $image /tmp/pass 2>/tmp/err || rc=$?
cat /tmp/err
[ "$rc" = 5 ]
grep -q "^ublkcrypt: format: $image: in use, held by ublkcrypt volume vol" /tmp/err
# The device takes a 1 MiB request whole: one OSD operation per 1 MiB I/O (the image's
# objects are 4 MiB).
[ "$(cat /sys/block/${dev#/dev/}/queue/max_sectors_kb)" = 1024 ]
umount /mnt/vol
ublkcrypt status vol | grep -E 'backing|cipher|sector|reads|writes|flushes'
ublkcrypt status --json vol | grep -q '"errors": 0'
ublkcrypt close vol

step "open again: e2fsck clean, fio verify, the whole volume's SHA-256"
dev=$(ublkcrypt open --key-file /tmp/pass $image vol)
e2fsck -fn "$dev"
mount -t ext4 "$dev" /mnt/vol
fio_pass verify

step "the server is SIGKILLed under the mounted filesystem; open --recover serves the image again"
pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json)
kill -9 "$pid"
server_gone() { ! kill -0 "$pid" 2>/dev/null || grep -q '^State:.*Z' /proc/"$pid"/status 2>/dev/null; }
wait_until 20 "the server survived SIGKILL" server_gone
again=$(ublkcrypt open --recover vol)
[ "$again" = "$dev" ] || { echo "FAIL: recovered as $again, not $dev"; exit 1; }
echo "recovered $again (t=$(cut -d' ' -f1 /proc/uptime))"
# librbd's exclusive lock of the dead client is broken for the new one on its first write.
fio_pass write
fio_pass verify
echo "written after recovery (t=$(cut -d' ' -f1 /proc/uptime))"
umount /mnt/vol
sum_ublk=$(sha256sum <"$dev" | cut -d' ' -f1)
size_ublk=$(blockdev --getsize64 "$dev")
ublkcrypt close vol

step "krbd + dm-crypt read what ublkcrypt wrote"
modprobe rbd
krbd=$(rbd map -o ms_mode=crc,noudev rbd/vol)
echo "mapped $krbd"
cryptsetup open --key-file /tmp/pass "$krbd" oracle
[ "$(blockdev --getsize64 /dev/mapper/oracle)" = "$size_ublk" ]
sum_dm=$(sha256sum </dev/mapper/oracle | cut -d' ' -f1)
echo "sha256 ublkcrypt $sum_ublk dm-crypt $sum_dm"
[ "$sum_ublk" = "$sum_dm" ] || { wrong_data "dm-crypt over krbd reads other bytes than ublkcrypt"; exit 1; }
e2fsck -fn /dev/mapper/oracle
mount -t ext4 /dev/mapper/oracle /mnt/vol
fio_pass verify

step "dm-crypt writes through krbd, ublkcrypt reads the same"
head -c 8388608 /dev/urandom >/tmp/dm-wrote
cp /tmp/dm-wrote /mnt/vol/from-dm
umount /mnt/vol
cryptsetup close oracle
rbd unmap -o noudev "$krbd"  # without noudev it waits for a udev the guest has not
dev=$(ublkcrypt open --key-file /tmp/pass $image vol)
mount -t ext4 "$dev" /mnt/vol
cmp /mnt/vol/from-dm /tmp/dm-wrote || { wrong_data "a file dm-crypt wrote reads differently"; exit 1; }
fio_pass verify
umount /mnt/vol
ublkcrypt close vol
step "all good"
