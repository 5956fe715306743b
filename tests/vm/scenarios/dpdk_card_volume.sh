# dpdk_card_volume.sh (guest, sh -e; --crypto-card card0, --bin ublkcrypt, the PMDs as
# --file): issue 20's volume on the card through DPDK. A LUKS2 aes-cbc-essiv:sha256 volume
# with 512-byte sectors (crypto_virtio takes operations of up to 2176 bytes, one sector
# each) opened with --backend dpdk:DEVICE on the card bound to uio_pci_generic: mkfs.ext4,
# fio with verify on files, fsck clean, and `status` shows the dpdk provider serving with
# its counters moving; a migrate to software and back to the card, a file written between.
# Then dm-crypt (the guest kernel's software AES) opens the same ciphertext: fsck clean and
# the files read back with the checksums taken through ublkcrypt.
step() { echo "== dpdk_card_volume: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh
. dpdk-card.sh

step "the card to DPDK"
dpdk_card_setup
# A loaded host slows the TCG guest's card: give it room before a slow answer counts as a
# dead card.
export UBLKCRYPT_DPDK_DEADLINE_MS=10000
card=$(dpdk_card_name)
cat /tmp/dpdk-backends
echo "the card is dpdk:$card"

step "LUKS2 aes-cbc-essiv:sha256, 512-byte sectors, opened on the card through DPDK"
truncate -s 64M /tmp/backing.img
printf 'dpdk-card-volume-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --cipher aes-cbc-essiv:sha256 --key-size 256 \
    --sector-size 512 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /tmp/pass \
    /tmp/backing.img
dev=$(ublkcrypt open --key-file /tmp/pass --backend "dpdk:$card" /tmp/backing.img dpdkvol)
echo "opened $dev"
ublkcrypt status dpdkvol
ublkcrypt status dpdkvol | grep -q "provider: *dpdk:$card\$"

step "mkfs, mount, fio with verify"
mkfs.ext4 -q -F "$dev"
after_mkfs=$(provider_counter dpdkvol dpdk payload)
echo "dpdk payload bytes after mkfs: $after_mkfs"
test "$after_mkfs" -gt 0
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol
# Two jobs, each on a file of its own: random writes, then every block read back and checked.
fio --name=card --directory=/mnt/vol --direct=1 --ioengine=libaio --iodepth=16 \
    --rw=randwrite --bs=4k --size=3M --numjobs=2 --verify=crc32c --do_verify=1 \
    --verify_fatal=1 --randrepeat=0 --group_reporting --output-format=terse \
    --terse-version=3 >/tmp/fio.out
errs=$(grep -v '^fio:' /tmp/fio.out | cut -d';' -f5)
echo "fio errors=$errs"
test "$errs" = 0
seq 1 20000 >/mnt/vol/numbers
(cd /mnt/vol && sha256sum card.* numbers) >/tmp/sums
cat /tmp/sums
umount /mnt/vol
e2fsck -fn "$dev"

step "the dpdk provider served it, its counters moved"
ublkcrypt status dpdkvol
served_by_card dpdkvol dpdk "$after_mkfs"

# `--backend dpdk:...` works for migrate as for open: a file written while software serves
# reads back through the card.
step "migrate to software, write; migrate back to the card, read"
ublkcrypt migrate dpdkvol --backend software
ublkcrypt status dpdkvol | grep -q "provider: *software\$"
mount -t ext4 "$dev" /mnt/vol
head -c 2097152 /dev/urandom >/mnt/vol/written-on-software
(cd /mnt/vol && sha256sum written-on-software) >>/tmp/sums
umount /mnt/vol
test "$(provider_counter dpdkvol software payload)" -gt 0
ublkcrypt migrate dpdkvol --backend "dpdk:$card"
ublkcrypt status dpdkvol | grep -q "provider: *dpdk:$card\$"
before=$(provider_counter dpdkvol dpdk payload)
mount -t ext4 -o ro "$dev" /mnt/vol
if ! (cd /mnt/vol && sha256sum -c /tmp/sums); then
    wrong_data "the card reads other files after the migrations"
    exit 1
fi
umount /mnt/vol
test "$(provider_counter dpdkvol dpdk payload)" -gt "$before"
test "$(failovers dpdkvol)" = 0  # a migrate is not a failover
ublkcrypt close dpdkvol

step "the card's ciphertext through dm-crypt"
cryptsetup open --key-file /tmp/pass --readonly /tmp/backing.img dmvol
cryptsetup status dmvol | grep -E 'cipher|keysize|sector size'
e2fsck -fn /dev/mapper/dmvol
mount -t ext4 -o ro /dev/mapper/dmvol /mnt/vol
if ! (cd /mnt/vol && sha256sum -c /tmp/sums); then
    wrong_data "dm-crypt reads other files than ublkcrypt wrote through the card"
    exit 1
fi
umount /mnt/vol
cryptsetup close dmvol

# The comparison sees the IVs: with every IV one sector off, each sector's first AES block
# decrypts wrong, and the files (or the file system) no longer read back.
step "negative control: the volume key with a wrong --skip reads other data"
cryptsetup luksDump -q --dump-volume-key --volume-key-file /tmp/volume.key --key-file /tmp/pass \
    /tmp/backing.img >/dev/null
offset=$(cryptsetup luksDump /tmp/backing.img | sed -n 's/^\toffset: *\([0-9]*\) \[bytes\]/\1/p' | head -n 1)
cryptsetup open -q --type plain --readonly --cipher aes-cbc-essiv:sha256 --key-size 256 \
    --key-file /tmp/volume.key --offset $((offset / 512)) --skip 1 /tmp/backing.img wrongvol
if mount -t ext4 -o ro,noload /dev/mapper/wrongvol /mnt/vol 2>/dev/null; then
    same=0
    (cd /mnt/vol && sha256sum -c /tmp/sums) >/dev/null 2>&1 && same=1
    umount /mnt/vol
    [ "$same" = 0 ] || { echo "a wrong --skip reads the same files: the check is blind"; exit 1; }
fi
echo "--skip 1: other data, as it should"
cryptsetup close wrongvol
no_oops
step "all good"
