# card_volume.sh (guest, sh -e; --crypto-card card0, --bin ublkcrypt): a LUKS2
# aes-cbc-essiv:sha256 volume served through the virtio-crypto card
# (--backend kernel:virtio_crypto_aes_cbc): mkfs, mount, files, umount, fsck clean, and
# `status` shows the card's counters moving while software's stay at zero. Then the
# ciphertext the card wrote is read back through software (ublkcrypt --backend software)
# and through dm-crypt, with the same checksums: the card's output is dm-crypt's format.
step() { echo "== card_volume: $* (t=$(cut -d' ' -f1 /proc/uptime))"; }
. vm-lib.sh


step "card present"
wait_until 10 "no $card_driver in /proc/crypto" card_present

step "LUKS2 aes-cbc-essiv:sha256 volume, opened on the card"
truncate -s 64M /tmp/backing.img
printf 'card-volume-passphrase' >/tmp/pass
cryptsetup luksFormat -q --type luks2 --cipher aes-cbc-essiv:sha256 --key-size 256 \
    --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /tmp/pass /tmp/backing.img
# A loaded host slows the TCG guest's card: give it room before a slow answer counts as a
# dead card (a spurious failover here would hide what this scenario checks).
export UBLKCRYPT_KERNEL_DEADLINE_MS=10000
dev=$(ublkcrypt open --key-file /tmp/pass --backend kernel:$card_driver /tmp/backing.img cardvol)
echo "opened $dev"
ublkcrypt status cardvol
ublkcrypt status cardvol | grep -q "provider: *kernel:$card_driver\$"

step "mkfs, mount, files"
mkfs.ext4 -q -F "$dev"
after_mkfs=$(provider_counter cardvol kernel payload)
echo "card payload bytes after mkfs: $after_mkfs"
test "$after_mkfs" -gt 0
mkdir -p /mnt/vol
mount -t ext4 "$dev" /mnt/vol
for n in 1 2 3 4; do head -c $((n * 512 * 1024)) /dev/urandom >/mnt/vol/file$n; done
mkdir /mnt/vol/dir
seq 1 20000 >/mnt/vol/dir/numbers
(cd /mnt/vol && sha256sum file1 file2 file3 file4 dir/numbers) >/tmp/sums
umount /mnt/vol
e2fsck -fn "$dev"

step "the card's counters moved, software's did not"
ublkcrypt status cardvol
served_by_card cardvol kernel "$after_mkfs"
ublkcrypt close cardvol

step "the card's ciphertext through software"
dev=$(ublkcrypt open --key-file /tmp/pass --backend software /tmp/backing.img swvol)
mount -t ext4 -o ro "$dev" /mnt/vol
(cd /mnt/vol && sha256sum -c /tmp/sums)
umount /mnt/vol
e2fsck -fn "$dev"
ublkcrypt status swvol
test "$(provider_counter swvol software payload)" -gt 0
test "$(provider_counter swvol kernel payload)" = 0
ublkcrypt close swvol

step "the card's ciphertext through dm-crypt"
cryptsetup open --key-file /tmp/pass --readonly /tmp/backing.img dmvol
cryptsetup status dmvol | grep -E 'cipher|keysize'
mount -t ext4 -o ro /dev/mapper/dmvol /mnt/vol
(cd /mnt/vol && sha256sum -c /tmp/sums)
umount /mnt/vol
e2fsck -fn /dev/mapper/dmvol
cryptsetup close dmvol
step "all good"
