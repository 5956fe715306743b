# ublk_ext4.sh (guest, sh -e): ext4 on a LUKS2 volume served by ublkcrypt. mkfs, mount,
# 64 MiB of files, sync, umount, close; open again, e2fsck -fn clean, every checksum equal.
step() { echo "== ublk_ext4: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }

step "luksFormat (cryptsetup) a 160 MiB backing"
truncate -s 160M /tmp/backing.img
printf 'ext4-scenario-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/pass /tmp/backing.img

step "open, mkfs.ext4, mount"
dev=$(ublkcrypt open --key-file /tmp/pass /tmp/backing.img vol)
echo "opened $dev"
mkfs.ext4 -q -F "$dev"
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol

step "write 64 MiB of files"
mkdir -p /mnt/vol/d
i=0
while [ $i -lt 16 ]; do
    head -c 4194304 /dev/urandom >/mnt/vol/d/f$i
    i=$((i + 1))
done
(cd /mnt/vol && sha256sum d/* >/tmp/sums)
sync
umount /mnt/vol
ublkcrypt status vol | grep -E 'cipher|provider|writes|flushes'
ublkcrypt close vol

step "open again: e2fsck -fn clean, checksums equal"
dev=$(ublkcrypt open --key-file /tmp/pass /tmp/backing.img vol)
e2fsck -fn "$dev"
mount -t ext4 -o ro "$dev" /mnt/vol
(cd /mnt/vol && sha256sum -c /tmp/sums) | tail -n 2
(cd /mnt/vol && sha256sum -c /tmp/sums >/dev/null)
umount /mnt/vol
ublkcrypt close vol
step "all good"
