# ublk_sigkill.sh (guest, sh -e): SIGKILL the server during a write workload. Nothing may
# hang: the writer gets I/O errors, the filesystem unmounts; the next open of the same name
# cleans up the dead device and works; after journal replay (mount/umount) e2fsck -fn is
# clean.
step() { echo "== ublk_sigkill: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

truncate -s 128M /tmp/backing.img
printf 'sigkill-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file /tmp/pass /tmp/backing.img
dev=$(ublkcrypt open --key-file /tmp/pass /tmp/backing.img vol)
mkfs.ext4 -q -F "$dev"
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol
head -c 1048576 /dev/urandom >/tmp/chunk

step "write workload, then SIGKILL the server"
(
    i=0
    while [ $i -lt 60 ]; do
        cat /tmp/chunk /tmp/chunk /tmp/chunk /tmp/chunk >/mnt/vol/f$i 2>/dev/null || exit 0
        sync /mnt/vol/f$i 2>/dev/null || exit 0
        i=$((i + 1))
    done
) &
writer=$!
sleep 3
pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' /run/ublkcrypt/vol.json)
echo "killing server pid $pid"
kill -9 "$pid"

step "nothing hangs: writer ends, filesystem unmounts"
# busybox timeout: if the writer were stuck in D state this would fail, not hang forever
t=0
while kill -0 "$writer" 2>/dev/null; do
    t=$((t + 1))
    if [ $t -gt 60 ]; then echo "writer still running 60 s after SIGKILL"; exit 1; fi
    sleep 1
done
umount /mnt/vol || umount -l /mnt/vol
dmesg | grep -i ublk | tail -n 5 || true

step "status reports the dead server; next open cleans up and works"
if ublkcrypt status vol; then echo "status of a dead server succeeded"; exit 1; fi
dev=$(ublkcrypt open --key-file /tmp/pass /tmp/backing.img vol)
echo "reopened as $dev"
mount -t ext4 "$dev" /mnt/vol   # journal replay
ls /mnt/vol | wc -l
umount /mnt/vol
e2fsck -fn "$dev"
ublkcrypt close vol
ls /sys/class/ublk-char/ 2>/dev/null || true
test "$(ls /sys/class/ublk-char 2>/dev/null | wc -l)" = 0
step "all good"
